// The cadre's outcome sheet works offline: every submission gets a client_ref
// and goes into an outbox kept in localStorage; the outbox is sent whenever the
// phone is online (now, on reconnect, on the next visit). The server records a
// client_ref once, so resending after a lost answer never doubles a record.
(function () {
  const KEY = "telecollect.outbox";
  const text = window.TELECOLLECT_TEXT;
  const status = document.querySelector("[data-testid=sync-status]");
  const csrf = document.querySelector("meta[name=csrf-token]").content;

  const load = () => JSON.parse(localStorage.getItem(KEY) || "[]");
  const store = (items) => localStorage.setItem(KEY, JSON.stringify(items));
  const newRef = () => (crypto.randomUUID ? crypto.randomUUID() : Date.now() + "-" + Math.random().toString(16).slice(2));

  function show() {
    const waiting = load().length;
    status.textContent = waiting ? text.pending.replace("__N__", waiting) : text.synced;
    status.classList.toggle("pending", waiting > 0);
  }

  let flushing = false;
  async function flush() {
    if (flushing || !navigator.onLine) return show();
    flushing = true;
    try {
      for (const entry of load()) {
        let response;
        try {
          response = await fetch(entry.url, {
            method: "POST",
            headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
            body: JSON.stringify(entry.body),
          });
        } catch (err) {
          break; // still offline: keep everything, try again later
        }
        if (response.ok || (response.status >= 400 && response.status < 500 && response.status !== 400 && response.status !== 401)) {
          // Accepted (or refused for good, e.g. 403/404/409): drop it from the outbox.
          store(load().filter((e) => e.body.client_ref !== entry.body.client_ref));
        } else if (response.status === 400) {
          const detail = await response.json().catch(() => ({}));
          if (detail.error && detail.error.field) {
            store(load().filter((e) => e.body.client_ref !== entry.body.client_ref));
            alert(text.failed + detail.error.message);
          } else {
            break; // CSRF expired: keep it until the page is reloaded
          }
        } else {
          break;
        }
      }
    } finally {
      flushing = false;
      show();
    }
  }

  document.querySelectorAll("[data-open-sheet]").forEach((button) => {
    button.addEventListener("click", () => {
      const sheet = button.closest(".family").querySelector(".sheet");
      sheet.hidden = !sheet.hidden;
    });
  });

  document.querySelectorAll("form.sheet").forEach((form) => {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const data = Object.fromEntries(new FormData(form).entries());
      Object.keys(data).forEach((k) => data[k] === "" && delete data[k]);
      data.client_ref = newRef();
      store([...load(), { url: form.dataset.url, body: data }]);
      form.reset();
      form.hidden = true;
      form.closest(".family").classList.add("logged");
      flush();
    });
  });

  window.addEventListener("online", flush);
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js").catch(() => {});
  show();
  flush();
})();
