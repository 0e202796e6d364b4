// What pages once wrote inline, here so that the Content-Security-Policy can forbid inline scripts
// (script-src 'self'): texts handed to other scripts, the print button, the "N" key of the call queue.
(function () {
  "use strict";
  // Texts a page hands to its script: <script type="application/json" id="telecollect-text">.
  const text = document.getElementById("telecollect-text");
  if (text) {
    window.TELECOLLECT_TEXT = JSON.parse(text.textContent);
  }

  document.addEventListener("click", (e) => {
    if (e.target.closest("[data-print]")) {
      window.print();
    }
  });

  // A button marked data-shortcut="n" is pressed by the N key (outside form fields).
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.altKey || e.metaKey || e.target.closest("input, textarea, select")) {
      return;
    }
    const button = document.querySelector(`[data-shortcut="${e.key.toLowerCase()}"]`);
    if (button) {
      button.click();
    }
  });
})();
