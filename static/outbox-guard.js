// On a cadre's pages: signing out with entries of hers not yet sent (waiting or refused) asks first.
// The entries stay on the phone, tagged with her; the service worker drops its copy of the work list
// at sign-out (sw.js), so the next person on this phone never sees her families.
(function () {
  const script = document.currentScript;
  const me = script.dataset.user;
  const warning = script.dataset.warning;
  document.querySelectorAll("form[data-sign-out]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      const entries = JSON.parse(localStorage.getItem("telecollect.outbox") || "[]");
      // A WhatsApp tap (kind "wa") only feeds her counter: it waits on the phone without asking her anything.
      const unsent = entries.filter((e) => e.kind !== "wa" && (!e.user || e.user === me)).length;
      if (unsent && !confirm(warning.replace("__N__", unsent))) event.preventDefault();
    });
  });
})();
