// The cadre's work list on a cheap phone (issue 13).
//
// The page carries its first screen (the most urgent families); the whole list comes as compact data
// from /cadre/list.json, which the service worker keeps, so the list opens, searches and filters
// without a connection. Cards are rendered here beyond the first screen, a few dozen at a time.
//
// The outcome sheet: one tap records an outcome; an outcome that needs a date or an amount opens its
// fields, which are checked here before anything is saved (nothing typed is lost on an error). Every
// entry gets a client_ref and the phone's time (occurred_at) and goes into an outbox in localStorage,
// sent whenever the phone is online. The server records a client_ref once, so resending after a lost
// answer never doubles a record.
//
// Nothing is ever dropped silently. An entry the server refuses stays on the phone, marked on its
// family's card with the reason, until the cadre edits and resends it, resends it as it is, or
// discards it herself. Each entry carries the user who made it: only she sends it.
//
// WhatsApp counter (issue 14): a tap on a card's WhatsApp button is an entry too (kind "wa"), sent like the
// others, so the supervisor sees how many families she wrote to each day. The families she opened WhatsApp for
// today (the server's list in the page, plus her taps kept on the phone) are counted against a daily soft
// limit: near it the app warns; at it a tap asks her first. It never blocks without saying so.
(function () {
  "use strict";
  const KEY = "telecollect.outbox";
  const SENT = "telecollect.sent";
  const WA = "telecollect.wa"; // { user, day, items }: the families she opened WhatsApp for today, on this phone
  const PAGE = 40; // cards rendered at a time beyond the first screen
  const text = window.TELECOLLECT_TEXT;
  const status = document.querySelector("[data-testid=sync-status]");
  const outbox = document.querySelector("[data-testid=outbox]");
  const list = document.querySelector("[data-testid=families]");
  const more = document.querySelector("[data-testid=more]");
  const count = document.querySelector("[data-testid=list-count]");
  const filters = document.querySelector("[data-testid=filters]");
  const sheet = document.querySelector("form.sheet");
  const me = status.dataset.user;
  const csrf = document.querySelector("meta[name=csrf-token]").content;
  const outcomeUrl = (item) => list.dataset.outcomeUrl.replace(/\/0\/outcome$/, `/${item}/outcome`);
  const labels = Object.fromEntries([...sheet.querySelectorAll("[data-outcome]")].map((b) => [b.dataset.outcome, b.textContent]));
  // The channel an outcome implies (a WhatsApp sent is on WhatsApp); others take the channel chosen.
  const DAYS_AHEAD = Number(sheet.dataset.daysAhead || 30);
  const IMPLIED = { whatsapp_sent: "whatsapp", not_at_home: "visit", visited_explained: "visit", no_answer: "phone" };

  // --- the outbox ---------------------------------------------------------------------------------
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
  const isWa = (e) => e.kind === "wa"; // a WhatsApp tap: counted, never shown as an entry to correct
  const cardOf = (item) => list.querySelector(`.family[data-item="${item}"]`);

  // What was sent today, per family, so that its card says so (kept a day, for her only).
  const sentLog = () => {
    const all = JSON.parse(localStorage.getItem(SENT) || "{}");
    const day = Date.now() - 24 * 3600 * 1000;
    return Object.fromEntries(Object.entries(all).filter(([, v]) => v.user === me && v.at > day));
  };
  const noteSent = (entry) => {
    const all = sentLog();
    all[entry.item] = { user: me, at: Date.now(), outcome: entry.body.outcome };
    localStorage.setItem(SENT, JSON.stringify(all));
  };

  function show() {
    const entries = load();
    const waiting = entries.filter((e) => mine(e) && !isWa(e) && e.state === "pending").length;
    const refused = entries.filter((e) => mine(e) && !isWa(e) && e.state === "refused").length;
    const parts = [];
    if (waiting) parts.push(text.pending.replace("__N__", waiting));
    if (refused) parts.push(text.refusedCount.replace("__N__", refused));
    status.textContent = parts.length ? parts.join(" ") : text.synced;
    status.classList.toggle("pending", waiting + refused > 0);
    renderOutbox(entries.filter((e) => !isWa(e)));
    list.querySelectorAll(".family").forEach(markCard);
    showWa();
  }

  // Each card says where its latest entry is: on the phone, refused (why, with its buttons) or sent.
  function markCard(card) {
    const item = card.dataset.item;
    const line = card.querySelector("[data-testid=card-sync]");
    card.querySelectorAll("[data-testid=refused]").forEach((el) => el.remove());
    const entries = load().filter((e) => mine(e) && !isWa(e) && String(e.item) === item);
    const refused = entries.find((e) => e.state === "refused");
    const pending = entries.find((e) => e.state === "pending");
    const sent = sentLog()[item];
    card.classList.remove("is-pending", "is-refused", "is-sent");
    line.replaceChildren();
    line.hidden = true;
    if (refused) {
      card.classList.add("is-refused");
      const note = document.createElement("p");
      note.className = "flash error";
      note.dataset.testid = "refused";
      note.textContent = text.refusedAs + refused.reason;
      card.querySelector("header").after(note);
      line.append(button(text.edit, "edit", () => edit(refused)), button(text.retry, "retry", () => retry(refused)));
      line.hidden = false;
    } else if (pending) {
      card.classList.add("is-pending");
      line.textContent = `⏳ ${labels[pending.body.outcome] || pending.body.outcome} · ${text.waiting}`;
      line.hidden = false;
    } else if (sent) {
      card.classList.add("is-sent");
      line.textContent = `✓ ${text.sent}${labels[sent.outcome] || sent.outcome}`;
      line.hidden = false;
    }
  }

  // The entries not sent, listed with their family's name (a family may be off the screen or gone).
  function renderOutbox(entries) {
    const ul = outbox.querySelector("ul");
    ul.replaceChildren();
    for (const entry of entries) {
      const li = document.createElement("li");
      li.dataset.ref = entry.body.client_ref;
      li.dataset.testid = "outbox-entry";
      const name = document.createElement("strong");
      name.textContent = entry.name || "#" + entry.item;
      const what = document.createElement("span");
      const when = entry.at ? new Date(entry.at).toLocaleString() : "";
      const outcome = labels[entry.body.outcome] || entry.body.outcome;
      if (!mine(entry)) {
        what.textContent = ` · ${when} · ${text.otherUser}`;
        li.classList.add("other-user");
        li.append(name, what);
        ul.append(li);
        continue;
      }
      what.textContent = entry.state === "refused" ? ` · ${outcome} · ${when} · ${text.refusedAs}${entry.reason}` : ` · ${outcome} · ${when} · ${text.waiting}`;
      li.append(name, what);
      if (entry.state === "refused") {
        li.classList.add("refused");
        li.append(button(text.edit, "edit", () => edit(entry)), button(text.retry, "retry", () => retry(entry)));
        li.append(
          button(text.discard, "discard", () => {
            if (confirm(text.confirmDiscard.replace("__NAME__", entry.name || ""))) {
              remove(entry.body.client_ref);
              show();
            }
          })
        );
      }
      ul.append(li);
    }
    outbox.hidden = entries.length === 0;
  }

  function button(label, action, onClick) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "button";
    b.dataset.action = action;
    b.textContent = label;
    b.addEventListener("click", onClick);
    return b;
  }

  function retry(entry) {
    update(entry.body.client_ref, { state: "pending", reason: null });
    flush();
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
          if (isWa(entry)) serverOpened(await response.json().catch(() => ({})));
          else noteSent(entry);
          continue;
        }
        const detail = await response.json().catch(() => ({}));
        const error = detail.error || {};
        const refusal = [403, 404, 409, 422].includes(response.status) || (response.status === 400 && (error.field || error.code));
        if (refusal && isWa(entry)) {
          remove(entry.body.client_ref); // a tap the server will not count (the family left her list): nothing to correct
          continue;
        }
        if (refusal) {
          // Refused for a reason she can read: kept, with the reason, until she edits, resends or discards it.
          const reason = response.status === 404 ? text.gone : error.message || String(response.status);
          update(entry.body.client_ref, { state: "refused", reason: reason, field: error.field || null });
          continue;
        }
        break; // signed out, CSRF expired, throttled or a server error: keep it and try again later
      }
    } finally {
      flushing = false;
      show();
    }
  }

  // --- the sheet ----------------------------------------------------------------------------------
  function openSheet(card, entry) {
    if (!sheet.hidden && sheet.closest(".family") === card && !entry) {
      closeSheet();
      return;
    }
    sheet.reset();
    clearErrors();
    delete sheet.dataset.editing;
    sheet.querySelectorAll("fieldset.needs").forEach((f) => (f.hidden = true));
    sheet.querySelectorAll("[data-outcome]").forEach((b) => b.setAttribute("aria-pressed", "false"));
    const amount = card.dataset.amount;
    if (amount) sheet.elements.promise_amount.value = Number(amount).toLocaleString("id-ID");
    const channel = card.dataset.channel;
    if (channel && sheet.querySelector(`[name=channel][value=${channel}]`)) sheet.elements.channel.value = channel;
    card.append(sheet);
    sheet.hidden = false;
    if (entry) {
      for (const [name, value] of Object.entries(entry.body)) {
        const field = sheet.elements[name];
        if (field && name !== "outcome") field.value = name === "callback_at" ? String(value).slice(0, 16) : value;
      }
      sheet.dataset.editing = entry.body.client_ref;
      choose(entry.body.outcome, false);
      if (entry.field && sheet.querySelector(`[data-error-for=${entry.field}]`)) showError(entry.field, entry.reason);
    }
    // The date picker offers the days the promise may fall on, from the day of the contact.
    const day = contactTime();
    sheet.elements.promise_date.min = isoDay(day);
    day.setDate(day.getDate() + DAYS_AHEAD);
    sheet.elements.promise_date.max = isoDay(day);
    sheet.scrollIntoView({ block: "nearest" });
  }

  function closeSheet() {
    sheet.hidden = true;
    delete sheet.dataset.editing;
  }

  // Tapping an outcome: one that needs nothing more is saved at once; one that needs fields opens them.
  function choose(code, saveNow) {
    sheet.elements.outcome.value = code;
    sheet.querySelectorAll("[data-outcome]").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.outcome === code)));
    const needs = sheet.querySelector(`[data-outcome="${code}"]`).dataset.needs;
    sheet.querySelectorAll("fieldset.needs").forEach((f) => (f.hidden = f.dataset.for !== code));
    if (needs) {
      const first = sheet.elements[needs.split(" ")[0]];
      if (!saveNow) return;
      first.focus();
      return;
    }
    if (saveNow) save();
  }

  function clearErrors() {
    sheet.querySelectorAll(".field-error").forEach((p) => {
      p.hidden = true;
      p.textContent = "";
    });
    sheet.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
  }

  function showError(field, message) {
    const p = sheet.querySelector(`[data-error-for=${field}]`);
    p.textContent = message;
    p.hidden = false;
    const input = sheet.elements[field];
    if (input && input.setAttribute) input.setAttribute("aria-invalid", "true");
  }

  const isoDay = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;

  // Whole Rupiah as the server reads them: 150000, 150.000, Rp 150.000,00.
  function rupiah(value) {
    let v = String(value || "").trim().replace(/^rp\.?\s*/i, "").replace(/\s/g, "");
    v = v.replace(/,0{1,2}$/, "");
    if (/^\d{1,3}(\.\d{3})+$/.test(v)) v = v.replace(/\./g, "");
    return /^\d+$/.test(v) && Number(v) > 0 ? Number(v) : null;
  }

  // When the contact happened: now, or when an entry being corrected was first saved (the server checks
  // its dates against that time, so the phone does too).
  function contactTime() {
    const old = sheet.dataset.editing && load().find((e) => e.body.client_ref === sheet.dataset.editing);
    const at = old && (old.body.occurred_at || old.body.recorded_at);
    return at ? new Date(at) : new Date();
  }

  // The fields the outcome needs, checked before anything is saved. Returns the body or null.
  function check() {
    clearErrors();
    const data = Object.fromEntries(new FormData(sheet).entries());
    Object.keys(data).forEach((k) => data[k] === "" && delete data[k]);
    const code = data.outcome;
    const needs = (sheet.querySelector(`[data-outcome="${code}"]`) || {}).dataset?.needs || "";
    let ok = true;
    const fail = (field, message) => {
      const input = sheet.elements[field];
      if (ok && input && input.focus) input.focus();
      showError(field, message);
      ok = false;
    };
    if (!code) fail("outcome", text.outcomeRequired);
    if ((data.note || "").length > 1000) fail("note", text.noteTooLong);
    if (needs.includes("promise_date")) {
      const today = contactTime();
      const last = contactTime();
      last.setDate(last.getDate() + DAYS_AHEAD);
      if (!data.promise_date) fail("promise_date", text.promiseDateRequired);
      else if (data.promise_date < isoDay(today) || data.promise_date > isoDay(last)) fail("promise_date", text.promiseDateRange);
      if (!data.promise_amount) fail("promise_amount", text.amountRequired);
      else if (rupiah(data.promise_amount) === null) fail("promise_amount", text.amountInvalid);
    } else {
      delete data.promise_date;
      delete data.promise_amount;
    }
    if (needs.includes("callback_at")) {
      const at = data.callback_at ? new Date(data.callback_at) : null;
      if (!at || isNaN(at)) fail("callback_at", text.callbackRequired);
      else if (at <= contactTime() || at - contactTime() > DAYS_AHEAD * 24 * 3600 * 1000) fail("callback_at", text.callbackRange);
    } else {
      delete data.callback_at;
    }
    if (IMPLIED[code]) data.channel = IMPLIED[code];
    return ok ? data : null;
  }

  function save() {
    const data = check();
    if (!data) return; // the errors are beside their fields; everything typed stays
    const card = sheet.closest(".family");
    const editing = sheet.dataset.editing;
    const old = editing && load().find((e) => e.body.client_ref === editing);
    if (old) {
      data.client_ref = editing; // the server recorded nothing under it
      data.occurred_at = old.body.occurred_at || old.body.recorded_at; // the contact happened when she first saved it
      update(editing, { body: data, state: "pending", reason: null, field: null });
    } else {
      data.client_ref = newRef();
      data.occurred_at = new Date().toISOString();
      const entry = { url: outcomeUrl(card.dataset.item), body: data, item: card.dataset.item, name: card.dataset.name, user: me, at: data.occurred_at, state: "pending" };
      store([...load(), entry]);
    }
    closeSheet();
    flush();
  }

  function edit(entry) {
    let card = cardOf(entry.item);
    if (!card) {
      // Filtered out or beyond the cards shown: show it alone.
      filters.reset();
      render(entry.item);
      card = cardOf(entry.item);
    }
    if (card) openSheet(card, entry);
  }

  sheet.addEventListener("click", (event) => {
    const b = event.target.closest("[data-outcome]");
    if (b) choose(b.dataset.outcome, true);
    if (event.target.closest("[data-close-sheet]")) closeSheet();
  });
  sheet.addEventListener("submit", (event) => {
    event.preventDefault();
    save();
  });
  sheet.addEventListener("keydown", (event) => {
    if (event.key === "Escape") closeSheet();
  });

  list.addEventListener("click", (event) => {
    const card = event.target.closest(".family");
    if (!card) return;
    if (event.target.closest("[data-open-sheet]")) openSheet(card);
    // Having written or called, the sheet's channel follows.
    if (event.target.closest("[data-testid=wa]")) {
      if (!openWhatsapp(card)) {
        event.preventDefault(); // she chose not to, having been told of the limit
        return;
      }
      card.dataset.channel = "whatsapp";
    }
    if (event.target.closest("[data-testid=call]")) card.dataset.channel = "phone";
  });

  // --- the WhatsApp counter --------------------------------------------------------------------------
  const waBox = document.querySelector("[data-testid=wa-count]");
  const waLimit = Number(waBox.dataset.limit || 50);
  const waUrl = (item) => waBox.dataset.url.replace(/\/0\/whatsapp$/, `/${item}/whatsapp`);
  const todayIso = () => isoDay(new Date());
  let serverDay = waBox.dataset.day;
  let serverItems = (waBox.dataset.opened || "").split(",").filter(Boolean);

  // The families counted today: the server's (if its list is today's) and the taps on this phone.
  function waOpened() {
    const log = JSON.parse(localStorage.getItem(WA) || "{}");
    const local = log.user === me && log.day === todayIso() ? log.items : [];
    const server = serverDay === todayIso() ? serverItems : [];
    return new Set([...server, ...local].map(String));
  }

  function serverOpened(answer) {
    if (answer && answer.day && Array.isArray(answer.opened)) {
      serverDay = answer.day;
      serverItems = answer.opened.map(String);
    }
  }

  function showWa() {
    const n = waOpened().size;
    const parts = [text.waCount.replace("__N__", n).replace("__LIMIT__", waLimit)];
    const over = n >= waLimit;
    const near = !over && n >= Math.ceil(waLimit * 0.8);
    if (over) parts.push(text.waOver.replace("__LIMIT__", waLimit));
    else if (near) parts.push(text.waNear);
    waBox.textContent = parts.join(" ");
    waBox.classList.toggle("near", near);
    waBox.classList.toggle("over", over);
  }

  // A tap on WhatsApp: counted (once a family a day) and sent like any entry. At the limit she is asked
  // first; returns false when she chooses not to open it.
  function openWhatsapp(card) {
    const item = String(card.dataset.item);
    const opened = waOpened();
    if (opened.has(item)) return true;
    const n = opened.size;
    if (n >= waLimit && !confirm(text.waConfirm.replace("__N__", n).replace("__LIMIT__", waLimit))) return false;
    const log = JSON.parse(localStorage.getItem(WA) || "{}");
    const day = todayIso();
    const items = log.user === me && log.day === day ? log.items : [];
    localStorage.setItem(WA, JSON.stringify({ user: me, day: day, items: [...items, item] }));
    const at = new Date().toISOString();
    const entry = { kind: "wa", url: waUrl(item), body: { client_ref: newRef(), occurred_at: at }, item: item, name: card.dataset.name, user: me, at: at, state: "pending" };
    store([...load(), entry]);
    showWa();
    flush();
    return true;
  }

  // --- the list -----------------------------------------------------------------------------------
  let families = null; // the offline list, once loaded
  let waText = "";
  let vaBanks = [];
  let shown = 0;

  function greeting() {
    const h = new Date().getHours();
    return h < 11 ? "pagi" : h < 15 ? "siang" : h < 18 ? "sore" : "malam";
  }

  function el(tag, className, content) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (content !== undefined) node.textContent = content;
    return node;
  }

  // The same markup as the template's family_card.
  function buildCard(f) {
    const card = el("article", "family card");
    card.dataset.item = f.i;
    card.dataset.name = f.n;
    card.dataset.testid = "family";
    if (f.o) card.dataset.amount = f.o;
    const header = el("header");
    header.append(el("strong", "", f.n));
    if (f.m) header.append(" ", el("small", "", `+${f.m} ${text.familyMembers}`));
    card.append(header);
    card.append(el("p", "muted", `Kel. ${f.k || ""} · RT ${f.rt || "–"}/RW ${f.rw || "–"}${f.a ? " · " + f.a : ""}`));
    if (f.o) card.append(el("p", "owed", `Rp${Number(f.o).toLocaleString("id-ID")} · ${text.months.replace("__N__", f.mo || 0)}`));
    if (f.v && f.v.length) {
      const va = el("p", "va", `${text.virtualAccount}: `);
      va.dataset.testid = "virtual-account";
      f.v.forEach((number, i) => {
        if (i) va.append(" · ");
        if (vaBanks[i]) {
          const bank = el("span", "", vaBanks[i]);
          bank.translate = false;
          va.append(bank, " ");
        }
        const strong = el("strong", "", number);
        strong.translate = false;
        va.append(strong);
      });
      card.append(va);
    }
    if (f.y) {
      const why = el("p", "why", f.y);
      why.dataset.testid = "why";
      card.append(why);
    }
    const last = el("p", f.s ? "stale" : "muted", f.c);
    last.dataset.testid = "last-contact";
    card.append(last);
    const line = el("p", "card-sync");
    line.dataset.testid = "card-sync";
    line.hidden = true;
    card.append(line);
    const actions = el("div", "actions");
    if (f.w) {
      const wa = el("a", "button wa", "WhatsApp");
      const message = waText.replace(/\{salam\}/g, greeting()).replace(/\{nama\}/g, f.n).replace(/\{kelurahan\}/g, f.k || "").replace(/\{va\}/g, (f.v || [""])[0]);
      wa.href = `https://wa.me/${f.w}?text=${encodeURIComponent(message)}`;
      wa.target = "_blank";
      wa.rel = "noopener";
      wa.dataset.testid = "wa";
      actions.append(wa);
    }
    if (f.t) {
      const call = el("a", "button", `☎ ${text.call}`);
      call.href = `tel:${f.t}`;
      call.dataset.testid = "call";
      actions.append(call);
    }
    for (const refusal of f.x || []) {
      const span = el("span", "muted", refusal);
      span.dataset.testid = "opted-out";
      actions.append(span);
    }
    const open = el("button", "button primary", text.logOutcome);
    open.type = "button";
    open.dataset.openSheet = "";
    actions.append(open);
    card.append(actions);
    markCard(card);
    return card;
  }

  function matches() {
    const q = (filters.elements.q.value || "").trim().toLowerCase();
    const village = filters.elements.village.value;
    const rtrw = filters.elements.rtrw.value;
    return families.filter(
      (f) =>
        (!village || f.k === village) &&
        (!rtrw || `${f.rt || "–"}/${f.rw || "–"}` === rtrw) &&
        (!q || f.n.toLowerCase().includes(q) || (f.a || "").toLowerCase().includes(q))
    );
  }

  // Render the matching families from the start (or one family alone), PAGE at a time.
  function render(only) {
    if (!families) return;
    // A sheet she is filling in stays open, with what she typed, if its family is still shown.
    const open = !sheet.hidden && sheet.closest(".family") ? sheet.closest(".family").dataset.item : null;
    document.body.append(sheet);
    const found = only ? families.filter((f) => String(f.i) === String(only)) : matches();
    // A card already on the page is kept (the same node: a tap on it in the meantime still lands).
    existing = new Map([...list.querySelectorAll(".family")].map((c) => [c.dataset.item, c]));
    list.replaceChildren();
    shown = 0;
    showMore(found);
    existing = new Map();
    if (open && cardOf(open)) cardOf(open).append(sheet);
    else closeSheet();
    count.textContent = found.length ? text.count.replace("__N__", found.length).replace("__TOTAL__", families.length) : "";
    if (!found.length) list.append(el("p", "muted", families.length ? text.noMatch : text.empty));
  }

  let current = [];
  let existing = new Map();
  function showMore(found) {
    if (found) current = found;
    const next = current.slice(shown, shown + PAGE);
    list.append(...next.map((f) => existing.get(String(f.i)) || buildCard(f)));
    shown += next.length;
    more.hidden = shown >= current.length;
  }
  more.addEventListener("click", () => showMore());

  function fillOptions(select, values) {
    const chosen = select.value;
    [...select.options].slice(1).forEach((o) => o.remove());
    for (const value of values) select.append(new Option(value, value));
    select.value = values.includes(chosen) ? chosen : "";
  }

  function fillFilters() {
    const villages = [...new Set(families.map((f) => f.k || ""))].filter(Boolean).sort();
    fillOptions(filters.elements.village, villages);
    const village = filters.elements.village.value;
    const rtrws = [...new Set(families.filter((f) => !village || f.k === village).map((f) => `${f.rt || "–"}/${f.rw || "–"}`))].sort();
    fillOptions(filters.elements.rtrw, rtrws);
  }

  filters.addEventListener("input", (event) => {
    if (!families) return;
    if (event.target.name === "village") fillFilters();
    render();
  });
  filters.addEventListener("submit", (event) => event.preventDefault());

  async function loadList() {
    try {
      const response = await fetch(list.dataset.url, { headers: { Accept: "application/json" } });
      if (!response.ok || !(response.headers.get("content-type") || "").includes("json")) return;
      const data = await response.json();
      families = data.families;
      waText = data.wa_text || "";
      vaBanks = data.va_banks || [];
      fillFilters();
      render();
      if (data.more) count.after(el("p", "muted", text.countCut.replace("__N__", families.length)));
    } catch (err) {
      // No connection and no copy: the first screen is what she has.
    }
  }

  window.addEventListener("online", flush);
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js").catch(() => {});
  show();
  flush();
  loadList();
})();
