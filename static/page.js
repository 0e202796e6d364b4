// What pages once wrote inline, here so that the Content-Security-Policy can forbid inline scripts
// (script-src 'self'): texts handed to other scripts, the print button, the "N" key of the call queue.
(function () {
  "use strict";
  // Texts a page hands to its script: <script type="application/json" id="telecollect-text">.
  const text = document.getElementById("telecollect-text");
  if (text) {
    window.TELECOLLECT_TEXT = JSON.parse(text.textContent);
  }

  // A table wider than the screen scrolls inside its .table-wrap: a keyboard user must be able to reach and
  // scroll it too, so the box becomes a named, focusable region (axe: scrollable-region-focusable).
  const focusableWhenScrolling = () => {
    document.querySelectorAll(".table-wrap").forEach((wrap) => {
      if (wrap.scrollWidth > wrap.clientWidth + 1 || wrap.scrollHeight > wrap.clientHeight + 1) {
        if (!wrap.hasAttribute("tabindex")) {
          wrap.tabIndex = 0;
          wrap.setAttribute("role", "region");
          if (!wrap.hasAttribute("aria-label") && !wrap.hasAttribute("aria-labelledby")) {
            const section = wrap.closest("section, .card, main");
            const caption = wrap.querySelector("caption") || (section && section.querySelector("h1, h2, h3"));
            wrap.setAttribute("aria-label", (caption ? caption.textContent : document.title).trim());
          }
        }
      } else if (wrap.getAttribute("tabindex") === "0" && wrap.getAttribute("role") === "region") {
        wrap.removeAttribute("tabindex");
        wrap.removeAttribute("role");
      }
    });
  };
  focusableWhenScrolling();
  window.addEventListener("resize", focusableWhenScrolling);

  document.addEventListener("click", (e) => {
    if (e.target.closest("[data-print]")) {
      window.print();
    }
  });

  // Time in a state: <time data-elapsed-since="ISO"> shows the minutes (and hours) since then, every second.
  const pad = (n) => String(n).padStart(2, "0");
  const elapsed = (since) => {
    const seconds = Math.max(0, Math.floor((Date.now() - Date.parse(since)) / 1000));
    const h = Math.floor(seconds / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    return (h ? h + ":" + pad(m) : pad(m)) + ":" + pad(seconds % 60);
  };
  const tick = () => {
    document.querySelectorAll("[data-elapsed-since]").forEach((el) => {
      el.textContent = elapsed(el.dataset.elapsedSince);
    });
  };
  tick();
  window.setInterval(tick, 1000);
  window.TELECOLLECT_ELAPSED = elapsed;

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
