// The template editors' preview: what the reader will get, with sample values, updated as one types.
// The server renders the first preview; this keeps it current. The sample values come from
// <script type="application/json" id="template-sample"> (no inline script: the CSP forbids them).
(function () {
  "use strict";
  const data = document.getElementById("template-sample");
  if (!data) {
    return;
  }
  const sample = JSON.parse(data.textContent);
  const render = (body) => body.replace(/{(\w*)}/g, (_m, name) => (name in sample ? sample[name] : ""));
  document.querySelectorAll("textarea[data-preview]").forEach((area) => {
    const target = document.getElementById(area.dataset.preview);
    if (!target) {
      return;
    }
    const update = () => {
      target.textContent = render(area.value);
    };
    area.addEventListener("input", update);
  });
})();
