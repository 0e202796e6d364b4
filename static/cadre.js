// The cadre's outcome sheet works offline: every submission gets a client_ref
// and goes into an outbox kept in localStorage; the outbox is sent whenever the
// phone is online (now, on reconnect, on the next visit). The server records a
// client_ref once, so resending after a lost answer never doubles a record.
//
// Nothing is ever dropped silently. An entry the server refuses (a field it
// cannot accept, a family no longer hers, a rule) stays on the phone marked
// "ditolak: <the server's reason>" beside the family's name, until the cadre
// edits and resends it, resends it as it is, or discards it herself. Each entry
// carries the user who made it (and when): only she sends it; another user
// signing in on the same phone sees it as someone else's and never sends it.
(function () {
  const KEY = "telecollect.outbox";
  const text = window.TELECOLLECT_TEXT;
  const status = document.querySelector("[data-testid=sync-status]");
  const outbox = document.querySelector("[data-testid=outbox]");
  const me = status.dataset.user;
  const csrf = document.querySelector("meta[name=csrf-token]").content;

  const load = () => {
    // Entries saved before entries carried their author are the signed-in cadre's (the one who used the page).
    const entries = JSON.parse(localStorage.getItem(KEY) || "[]");
    return entries.map((e) => (e.user ? e : { ...e, user: me, state: e.state || "pending" }));
  };
  const store = (items) => localStorage.setItem(KEY, JSON.stringify(items));
  const update = (ref, change) => store(load().map((e) => (e.body.client_ref === ref ? { ...e, ...change } : e)));
  const remove = (ref) => store(load().filter((e) => e.body.client_ref !== ref));
  const newRef = () => (crypto.randomUUID ? crypto.randomUUID() : Date.now() + "-" + Math.random().toString(16).slice(2));
  const mine = (e) => e.user === me;
  const card = (item) => document.querySelector(`.family[data-item="${item}"]`);

  function show() {
    const entries = load();
    const waiting = entries.filter((e) => mine(e) && e.state === "pending").length;
    const refused = entries.filter((e) => mine(e) && e.state === "refused").length;
    const parts = [];
    if (waiting) parts.push(text.pending.replace("__N__", waiting));
    if (refused) parts.push(text.refusedCount.replace("__N__", refused));
    status.textContent = parts.length ? parts.join(" ") : text.synced;
    status.classList.toggle("pending", waiting + refused > 0);
    render(entries);
  }

  // The entries not sent, listed with their family's name; the refused ones also beside the family on the list.
  function render(entries) {
    document.querySelectorAll("[data-testid=refused]").forEach((el) => el.remove());
    const list = outbox.querySelector("ul");
    list.replaceChildren();
    for (const entry of entries) {
      const li = document.createElement("li");
      li.dataset.ref = entry.body.client_ref;
      li.dataset.testid = "outbox-entry";
      const name = document.createElement("strong");
      name.textContent = entry.name || "#" + entry.item;
      const what = document.createElement("span");
      const when = entry.at ? new Date(entry.at).toLocaleString() : "";
      if (!mine(entry)) {
        what.textContent = ` · ${when} · ${text.otherUser}`;
        li.classList.add("other-user");
        li.append(name, what);
        list.append(li);
        continue;
      }
      what.textContent = entry.state === "refused" ? ` · ${when} · ${text.refusedAs}${entry.reason}` : ` · ${when} · ${text.waiting}`;
      li.append(name, what);
      if (entry.state === "refused") {
        li.classList.add("refused");
        const target = card(entry.item);
        if (target) {
          const note = document.createElement("p");
          note.className = "flash error";
          note.dataset.testid = "refused";
          note.textContent = text.refusedAs + entry.reason;
          target.querySelector("header").after(note);
          li.append(button(text.edit, "edit", () => edit(entry)));
        }
        li.append(
          button(text.retry, "retry", () => {
            update(entry.body.client_ref, { state: "pending", reason: null });
            flush();
          }),
          button(text.discard, "discard", () => {
            if (confirm(text.confirmDiscard.replace("__NAME__", entry.name || ""))) {
              remove(entry.body.client_ref);
              show();
            }
          })
        );
      }
      list.append(li);
    }
    outbox.hidden = entries.length === 0;
  }

  function button(label, action, onClick) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "link";
    b.dataset.action = action;
    b.textContent = label;
    b.addEventListener("click", onClick);
    return b;
  }

  // Edit a refused entry: its sheet opens filled in; saving replaces the entry (same client_ref: the server
  // recorded nothing under it) and sends it again.
  function edit(entry) {
    const target = card(entry.item);
    const form = target.querySelector("form.sheet");
    form.reset();
    for (const [name, value] of Object.entries(entry.body)) {
      if (form.elements[name]) form.elements[name].value = value;
    }
    form.dataset.editing = entry.body.client_ref;
    form.hidden = false;
    form.scrollIntoView();
  }

  let flushing = false;
  async function flush() {
    if (flushing || !navigator.onLine) return show();
    flushing = true;
    try {
      for (const entry of load()) {
        if (!mine(entry) || entry.state !== "pending") continue; // someone else's never leaves; refused waits for her
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
        if (response.ok) {
          remove(entry.body.client_ref);
          continue;
        }
        const detail = await response.json().catch(() => ({}));
        const error = detail.error || {};
        const refusal = response.status === 403 || response.status === 404 || response.status === 409 || response.status === 422 || (response.status === 400 && error.field);
        if (refusal) {
          // Refused for a reason she can read: kept, with the reason, until she edits, resends or discards it.
          const reason = response.status === 404 ? text.gone : error.message || String(response.status);
          update(entry.body.client_ref, { state: "refused", reason: reason });
          continue;
        }
        break; // signed out, CSRF expired, throttled or a server error: keep it and try again later
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
      const family = form.closest(".family");
      const editing = form.dataset.editing;
      delete form.dataset.editing;
      if (editing && load().some((e) => e.body.client_ref === editing)) {
        const old = load().find((e) => e.body.client_ref === editing);
        data.client_ref = editing;
        data.recorded_at = old.body.recorded_at; // the contact happened when she first saved it
        update(editing, { body: data, state: "pending", reason: null });
      } else {
        data.client_ref = newRef();
        data.recorded_at = new Date().toISOString();
        const entry = { url: form.dataset.url, body: data, item: family.dataset.item, name: family.dataset.name, user: me, at: data.recorded_at, state: "pending" };
        store([...load(), entry]);
      }
      form.reset();
      form.hidden = true;
      family.classList.add("logged");
      flush();
    });
  });

  window.addEventListener("online", flush);
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js").catch(() => {});
  show();
  flush();
})();
