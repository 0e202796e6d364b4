// The assignment form narrows its place lists as they are chosen: the kecamatan of the chosen city,
// the kelurahan of the chosen kecamatan (each option names its parent in data-parent). A choice that no
// longer fits is cleared, so "Koja + Pluit" cannot be sent and silently match nothing.
(function () {
  "use strict";
  const form = document.querySelector("form[data-narrow-places]");
  if (!form) {
    return;
  }
  const levels = ["city", "kecamatan", "kelurahan"].map((name) => form.querySelector(`select[name="${name}"]`));
  const narrow = (parent, child) => {
    const chosen = parent.value;
    for (const option of child.options) {
      if (!option.value || option.dataset.parent === undefined) {
        continue;
      }
      const fits = !chosen || option.dataset.parent === chosen;
      option.hidden = !fits;
      option.disabled = !fits;
      if (!fits && option.selected) {
        child.value = "";
      }
    }
  };
  const update = () => {
    narrow(levels[0], levels[1]);
    narrow(levels[1], levels[2]);
  };
  levels.forEach((select) => select && select.addEventListener("change", update));
  if (levels.every(Boolean)) {
    update();
  }
})();
