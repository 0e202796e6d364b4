// The supervisor's live board: asks board.json every few seconds and redraws its three tables in place
// (no reload). Time in state ticks every second between refreshes (page.js, data-elapsed-since), measured
// from the server's own count so that a wrong clock on this computer does not skew it.
(function () {
  "use strict";
  const board = document.getElementById("board");
  if (!board) {
    return;
  }
  const every = Math.max(2, Number(board.dataset.refreshSeconds) || 5) * 1000;
  const pad = (n) => String(n).padStart(2, "0");
  const duration = (seconds) => {
    if (seconds === null || seconds === undefined) {
      return "–";
    }
    const h = Math.floor(seconds / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    return (h ? h + ":" + pad(m) : pad(m)) + ":" + pad(seconds % 60);
  };
  const cell = (text, className) => {
    const td = document.createElement("td");
    td.textContent = text;
    if (className) {
      td.className = className;
    }
    return td;
  };
  const fill = (tbody, rows) => {
    tbody.replaceChildren(...rows);
  };

  const draw = (data) => {
    const receivedAt = Date.now();
    fill(
      board.querySelector("[data-board-zones]"),
      data.zones.map((z) => {
        const tr = document.createElement("tr");
        tr.dataset.zone = z.zone;
        const n = cell(String(z.callable), "num");
        n.dataset.testid = "callable-" + z.zone;
        tr.append(cell(z.zone), cell(z.is_open ? board.dataset.tOpen : board.dataset.tClosed), n);
        return tr;
      }),
    );
    fill(
      board.querySelector("[data-board-agents]"),
      data.telecollectors.map((a) => {
        const tr = document.createElement("tr");
        tr.dataset.agent = a.id;
        const name = cell(a.name);
        name.setAttribute("translate", "no");
        const state = cell(a.state_label + (a.reason_label ? ": " + a.reason_label : ""), "state-" + (a.state || "none"));
        state.dataset.testid = "state-" + a.id;
        const inState = cell(duration(a.seconds_in_state), "num");
        if (a.seconds_in_state !== null) {
          const time = document.createElement("time");
          time.dataset.elapsedSince = new Date(receivedAt - a.seconds_in_state * 1000).toISOString();
          time.textContent = duration(a.seconds_in_state);
          inState.replaceChildren(time);
        }
        tr.append(name, state, inState, cell(String(a.calls_today), "num"), cell(duration(a.talk_seconds_today), "num"));
        return tr;
      }),
    );
    fill(
      board.querySelector("[data-board-cadres]"),
      data.cadres.map((c) => {
        const tr = document.createElement("tr");
        tr.dataset.cadre = c.id;
        const name = cell(c.name);
        name.setAttribute("translate", "no");
        tr.append(name, cell(c.last_activity_text));
        return tr;
      }),
    );
    board.querySelector("[data-board-at]").textContent = data.at_text;
    board.querySelector("[data-board-stale]").hidden = true;
  };

  const refresh = () => {
    fetch(board.dataset.url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then((response) => {
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.json();
      })
      .then(draw)
      .catch(() => {
        const stale = board.querySelector("[data-board-stale]");
        stale.textContent = board.dataset.tStale.replace("__TIME__", board.querySelector("[data-board-at]").textContent);
        stale.hidden = false;
      })
      .finally(() => window.setTimeout(refresh, every));
  };
  refresh();
})();
