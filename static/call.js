// The agent desktop: the key of a simple outcome saves it and opens the next family; the key of an outcome
// that needs a date or an amount opens its fields in place, with the focus in the first, and Enter saves
// (and opens the next family); Escape closes the fields without saving; a call timer that starts
// when a call link is pressed; and the lease heartbeat that keeps the family claimed while the screen is open.
(function () {
  const csrf = document.querySelector("meta[name=csrf-token]").content;

  // The call timer: client side only, from the press of a call link.
  const timer = document.getElementById("call-timer");
  let started = null;
  document.querySelectorAll("a[data-call]").forEach((link) =>
    link.addEventListener("click", () => {
      document.querySelectorAll("a[data-call].active").forEach((a) => a.classList.remove("active"));
      link.classList.add("active");
      started = Date.now();
      if (timer) timer.classList.add("running");
    })
  );
  if (timer) {
    setInterval(() => {
      if (started === null) return;
      const s = Math.floor((Date.now() - started) / 1000);
      timer.textContent = String(Math.floor(s / 60)).padStart(2, "0") + ":" + String(s % 60).padStart(2, "0");
    }, 1000);
  }

  const form = document.getElementById("outcome-form");
  if (!form) return;
  const radios = Array.from(form.querySelectorAll("input[name=outcome]"));

  function showFieldsFor(radio, focus) {
    const needs = radio ? radio.dataset.needs : null;
    let first = null;
    form.querySelectorAll("[data-show]").forEach((el) => {
      const on = el.dataset.show === needs;
      el.hidden = !on;
      el.querySelectorAll("input").forEach((input) => {
        input.required = on;
        if (on && !first) first = input;
      });
    });
    if (focus) (first || radio).focus();
  }
  radios.forEach((r) => r.addEventListener("change", () => showFieldsFor(r, false)));

  // A refused submission comes back with what was typed (D4): its fields open again.
  const checked = radios.find((r) => r.checked);
  if (checked) showFieldsFor(checked, true);

  function inOtherField(target) {
    // Typing in a field (other than the outcome radios) is typing, not a shortcut.
    return target.closest("input:not([type=radio]), select, textarea, [contenteditable]") !== null;
  }

  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const target = e.target;
    if (e.key === "Escape") {
      // Close the open fields without saving; the claim stays held until its lease ends.
      const open = radios.find((r) => r.checked && r.dataset.needs);
      if (open) {
        open.checked = false;
        showFieldsFor(null, false);
        if (document.activeElement) document.activeElement.blur();
        e.preventDefault();
      }
      return;
    }
    if (e.key === "Enter") {
      if (target.closest(".desk-skip, .desk-new-number, button, a, summary")) return;
      if (target.tagName === "TEXTAREA" && e.shiftKey) return; // Shift+Enter: a new line in the note
      if (target === document.body || form.contains(target)) {
        e.preventDefault();
        form.requestSubmit();
      }
      return;
    }
    if (inOtherField(target)) return;
    const radio = radios.find((r) => r.dataset.key === e.key.toLowerCase());
    if (radio) {
      e.preventDefault();
      if (form.dataset.sending) return;
      radio.checked = true;
      showFieldsFor(radio, true);
      // A simple outcome (nothing to fill in) is one key: saved, and the next family opens.
      if (!radio.dataset.needs) form.requestSubmit();
    }
  });

  form.addEventListener("submit", () => {
    form.dataset.sending = "true";
    // One reference per submission: a double press is recorded once.
    const ref = form.querySelector("input[name=client_ref]");
    if (!ref.value) ref.value = crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random();
  });

  const renewUrl = form.dataset.renewUrl;
  const every = Number(form.dataset.renewSeconds) * 1000;
  if (renewUrl && every) {
    setInterval(() => fetch(renewUrl, { method: "POST", headers: { "X-CSRFToken": csrf } }), every);
  }
  // Shortcuts work from here on (a key pressed while the page was still loading did nothing).
  form.dataset.ready = "true";
})();

// Calls through the system (VOICE_BACKEND=twilio): a call button (or the P key, for the first number) asks
// the server to place the call; the panel then follows it (polled) until its result is known. An
// unanswered call is recorded by the server without typing (Next moves on); a connected one waits for
// the outcome form.
(function () {
  const panel = document.getElementById("call-panel");
  if (!panel) return;
  const csrf = document.querySelector("meta[name=csrf-token]").content;
  const text = panel.querySelector("[data-call-text]");
  const next = panel.querySelector("[data-call-next]");
  const buttons = Array.from(document.querySelectorAll("button[data-place-call]"));
  const timer = document.getElementById("call-timer");
  let polling = null;
  let talkStarted = null;

  function say(key, talk) {
    const t = panel.dataset["t" + key.replace(/(^|[-_])(\w)/g, (_m, _s, c) => c.toUpperCase())];
    if (t) text.textContent = t.replace("__TALK__", talk || "");
    panel.dataset.state = key;
  }

  function minutes(s) {
    return String(Math.floor(s / 60)).padStart(2, "0") + ":" + String(s % 60).padStart(2, "0");
  }

  function show(call) {
    buttons.forEach((b) => (b.disabled = true));
    if (call.status === "failed") {
      say("error");
      text.textContent += call.error ? " " + call.error : "";
      buttons.forEach((b) => (b.disabled = false));
      return true;
    }
    if (call.dial_status) {
      if (call.dial_status === "completed") {
        if (call.disposition === "recorded") say("recorded");
        else say("connected", minutes(call.talk_seconds || 0));
        return true;
      }
      say(call.dial_status);
      if (call.dial_status !== "canceled") next.hidden = false;
      else buttons.forEach((b) => (b.disabled = false));
      return true;
    }
    if (call.status === "ended") {
      say("ended");
      buttons.forEach((b) => (b.disabled = false));
      return true;
    }
    if (call.status === "dialling" && talkStarted === null) talkStarted = Date.now();
    say(call.status);
    return false;
  }

  function follow(id) {
    panel.dataset.callId = id;
    const url = panel.dataset.statusUrl.replace(/\/0\/status\.json$/, "/" + id + "/status.json");
    const tick = () =>
      fetch(url, { headers: { Accept: "application/json" } })
        .then((r) => (r.ok ? r.json() : null))
        .then((call) => {
          if (call && show(call)) {
            clearInterval(polling);
            polling = null;
          }
        });
    tick();
    polling = setInterval(tick, 1500);
  }

  function place(button) {
    if (polling || button.disabled) return;
    buttons.forEach((b) => (b.disabled = true));
    button.classList.add("active");
    say("requested");
    if (timer) timer.classList.add("running");
    fetch(panel.dataset.placeUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, Accept: "application/json" },
      body: JSON.stringify({ phone: button.dataset.phone }),
    })
      .then((r) => r.json().then((body) => ({ ok: r.ok, body })))
      .then(({ ok, body }) => {
        if (ok) return follow(body.call.id);
        say("error");
        text.textContent += " " + ((body.error && body.error.message) || "");
        buttons.forEach((b) => (b.disabled = false));
        button.classList.remove("active");
      });
  }

  buttons.forEach((b) => b.addEventListener("click", () => place(b)));
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || e.key.toLowerCase() !== "p") return;
    if (e.target.closest("input:not([type=radio]), select, textarea, [contenteditable]")) return;
    if (buttons.length) {
      e.preventDefault();
      place(buttons[0]);
    }
  });
  if (panel.dataset.callId) follow(panel.dataset.callId);
})();
