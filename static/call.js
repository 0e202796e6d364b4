// The call screen: keyboard shortcuts, fields that follow the outcome, and the
// lease heartbeat that keeps the family claimed while the screen is open.
(function () {
  const form = document.getElementById("outcome-form");
  if (!form) return;
  const csrf = document.querySelector("meta[name=csrf-token]").content;
  const radios = Array.from(form.querySelectorAll("input[name=outcome]"));

  function showFieldsFor(radio) {
    const needs = radio ? radio.dataset.needs : null;
    form.querySelectorAll("[data-show]").forEach((el) => {
      const on = el.dataset.show === needs;
      el.hidden = !on;
      el.querySelectorAll("input").forEach((input) => (input.required = on));
    });
  }
  radios.forEach((r) => r.addEventListener("change", () => showFieldsFor(r)));

  document.addEventListener("keydown", (e) => {
    if (e.target.closest("input[type=date], input[type=datetime-local], textarea, input[name=promise_amount]")) return;
    const radio = radios.find((r) => r.dataset.key === e.key.toLowerCase());
    if (radio) {
      radio.checked = true;
      showFieldsFor(radio);
      e.preventDefault();
    }
  });

  form.addEventListener("submit", () => {
    // One reference per submission: a double press is recorded once.
    const ref = form.querySelector("input[name=client_ref]");
    if (!ref.value) ref.value = (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random());
  });

  const renewUrl = form.dataset.renewUrl;
  const every = Number(form.dataset.renewSeconds) * 1000;
  if (renewUrl && every) {
    setInterval(() => fetch(renewUrl, { method: "POST", headers: { "X-CSRFToken": csrf } }), every);
  }
  // Shortcuts work from here on (a key pressed while the page was still loading did nothing).
  form.dataset.ready = "true";
  const release = document.getElementById("release");
  if (release) {
    release.addEventListener("click", async () => {
      await fetch(release.dataset.url, { method: "POST", headers: { "X-CSRFToken": csrf } });
      window.location = "/queue";
    });
  }
})();
