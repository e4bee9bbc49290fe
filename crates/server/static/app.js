// dealflow's page script: board drag and drop, progressive column loading,
// and small conveniences. Every change goes through the JSON API with the
// session's CSRF token; the server validates and may refuse.
"use strict";

// Every page with the navigation carries the session's CSRF token (in a
// meta tag, and in the sign-out form that every page has).
const csrf = () =>
  document.querySelector('meta[name="csrf-token"]')?.content ||
  document.querySelector('form.logout input[name="csrf"]')?.value || "";

// Shows a message in the page's live region; with `action` ({label, run}),
// a button beside it (e.g. Undo), and the message stays longer so there is
// time to reach the button.
function toast(message, action) {
  const el = document.getElementById("toast");
  if (!el) return;
  const text = document.createElement("span");
  text.textContent = message;
  el.replaceChildren(text);
  if (action) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "link";
    button.textContent = action.label;
    button.addEventListener("click", () => { el.hidden = true; action.run(); });
    el.append(" ", button);
  }
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { el.hidden = true; }, action ? 12000 : 6000);
}

// Sends a JSON request to the API; resolves to the body, rejects with a
// readable message built from the problem document.
async function api(method, path, body) {
  const resp = await fetch(path, {
    method,
    headers: { "content-type": "application/json", "x-csrf-token": csrf() },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  const text = await resp.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (_) { data = null; }
  if (!resp.ok) {
    const fields = (data && data.errors || []).map((e) => e.message).join("; ");
    const err = new Error(fields || (data && data.detail) || resp.statusText);
    err.problem = data; // the playbook dialog puts each error by its field
    throw err;
  }
  return data;
}

// A reply's sentiment, set from a timeline (person or deal page; the same
// button again clears it).
document.addEventListener("click", async (e) => {
  const btn = e.target.closest(".sentiment button[data-sentiment]");
  if (!btn) return;
  const group = btn.closest("[data-reply]");
  const on = btn.getAttribute("aria-pressed") === "true";
  const sentiment = on ? null : btn.dataset.sentiment;
  group.querySelectorAll("button").forEach((b) => { b.disabled = true; });
  try {
    await api("PATCH", `/api/v1/replies/${group.dataset.reply}`, { sentiment });
    group.querySelectorAll("button").forEach((b) => {
      b.setAttribute("aria-pressed", String(b.dataset.sentiment === sentiment));
    });
  } catch (err) {
    toast(err.message);
  } finally {
    group.querySelectorAll("button").forEach((b) => { b.disabled = false; });
  }
});

const columnOf = (el) => el.closest(".column");
const setCount = (col, delta) => {
  const c = col && col.querySelector(".count");
  if (c) c.textContent = String(Number(c.textContent) + delta);
};
// Total and Weighted are sums in the base currency with exchange rates and
// probabilities; the server computes them, so after a move the page asks
// it for the affected columns' statistics under the board's filter.
const refreshStats = (col) => {
  if (!col) return Promise.resolve();
  const params = new URLSearchParams({ stage: col.dataset.stage });
  const here = new URLSearchParams(location.search);
  for (const k of ["owner", "q"]) if (here.get(k)) params.set(k, here.get(k));
  return fetch(`/board/stats?${params}`, { credentials: "same-origin" })
    .then((r) => (r.ok ? r.text() : Promise.reject(new Error(r.statusText))))
    .then((html) => { col.querySelector(".stats").innerHTML = html; })
    .catch(() => {}); // the count was already adjusted; totals fix on reload
};

// A deal made with quick add shows at once at the top of its column (when
// that column is on this board and the deal passes the board's filter):
// the column's first page is read again and the new card taken from it.
async function showNewCard(board, deal) {
  const col = board.querySelector(`.column[data-stage="${deal.stage_id}"]`);
  if (!col || col.querySelector(`.card[data-id="${deal.id}"]`)) return;
  const params = new URLSearchParams({ stage: col.dataset.stage });
  const here = new URLSearchParams(location.search);
  for (const k of ["owner", "q"]) if (here.get(k)) params.set(k, here.get(k));
  try {
    const r = await fetch(`/board/cards?${params}`, { credentials: "same-origin" });
    if (!r.ok) return;
    const tpl = document.createElement("template");
    tpl.innerHTML = await r.text();
    const card = tpl.content.querySelector(`.card[data-id="${deal.id}"]`);
    if (!card) return;
    const cards = col.querySelector(".cards");
    cards.querySelector(".empty")?.remove();
    cards.prepend(card);
    await refreshStats(col);
  } catch (_) { /* it shows on the next load */ }
}

function boardInit(board) {
  const refused = board.dataset.tRefused;
  document.addEventListener("dealflow:created", (e) => {
    if (e.detail.kind === "deals") showNewCard(board, e.detail.record);
  });

  // Dragging uses pointer events, so it works with a mouse, a pen and a
  // finger alike (HTML5 drag and drop does not fire on touch screens). A
  // mouse drag starts after a few pixels; a touch drag after a long press,
  // so that a plain swipe still scrolls the column.
  let drag = null;
  const dropTargetAt = (x, y) => {
    const el = document.elementFromPoint(x, y);
    return el && (el.closest(".drop") || el.closest(".column"));
  };
  const startDrag = (state) => {
    const rect = state.card.getBoundingClientRect();
    const ghost = state.card.cloneNode(true);
    ghost.classList.add("ghost");
    ghost.style.width = `${rect.width}px`;
    document.body.appendChild(ghost);
    state.ghost = ghost;
    state.dx = state.x - rect.left;
    state.dy = state.y - rect.top;
    state.active = true;
    state.card.classList.add("dragging");
    document.body.classList.add("dragging");
    if (window.boardGate) boardGate.mark(board, state.card);
  };
  const moveGhost = (state, x, y) => {
    state.ghost.style.transform = `translate(${x - state.dx}px, ${y - state.dy}px)`;
    document.querySelectorAll(".over").forEach((el) => el.classList.remove("over"));
    const target = dropTargetAt(x, y);
    if (target) target.classList.add("over");
  };
  const endDrag = () => {
    if (!drag) return;
    clearTimeout(drag.timer);
    if (drag.ghost) drag.ghost.remove();
    drag.card.classList.remove("dragging");
    document.body.classList.remove("dragging");
    document.querySelectorAll(".over").forEach((el) => el.classList.remove("over"));
    if (window.boardGate) boardGate.unmark();
    drag = null;
  };
  board.addEventListener("pointerdown", (e) => {
    const card = e.target.closest(".card");
    if (!card || e.button !== 0) return;
    drag = { card, x: e.clientX, y: e.clientY, active: false, touch: e.pointerType === "touch" };
    if (drag.touch) drag.timer = setTimeout(() => drag && startDrag(drag), 350);
  });
  // Once a touch drag has lifted the card, the finger's movement belongs to
  // the drag: cancelling the touch move keeps the browser from scrolling
  // (which would cancel the pointer and drop the drag). Before the lift,
  // nothing is cancelled, so a swipe scrolls as usual.
  document.addEventListener("touchmove", (e) => {
    if (drag && drag.active && e.cancelable) e.preventDefault();
  }, { passive: false });
  board.addEventListener("contextmenu", (e) => { if (drag && drag.touch) e.preventDefault(); });
  document.addEventListener("pointermove", (e) => {
    if (!drag) return;
    if (!drag.active) {
      const far = Math.abs(e.clientX - drag.x) + Math.abs(e.clientY - drag.y) > 6;
      if (drag.touch && far) { endDrag(); return; } // a swipe: let it scroll
      if (!drag.touch && far) startDrag(drag);
      else return;
    }
    e.preventDefault();
    moveGhost(drag, e.clientX, e.clientY);
  });
  document.addEventListener("pointerup", (e) => {
    if (!drag || !drag.active) { endDrag(); return; }
    const card = drag.card;
    const target = dropTargetAt(e.clientX, e.clientY);
    endDrag();
    if (!target) return;
    if (target.classList.contains("column")) moveToStage(card, target);
    else if (target.dataset.status === "won") {
      gated(board, card, null, (extra) => closeDeal(board, card, { status: "won", ...extra }));
    }
    else if (target.dataset.status === "lost") askLostReason(board, card);
  });
  document.addEventListener("pointercancel", endDrag);
  // Keyboard: on a focused card, Shift+ArrowRight / Shift+ArrowLeft move it
  // to the next / previous stage; Shift+W marks it won, Shift+L lost.
  board.addEventListener("keydown", (e) => {
    const card = e.target.closest && e.target.closest(".card");
    if (!card || !e.shiftKey) return;
    const cols = [...board.querySelectorAll(".column")];
    const i = cols.indexOf(columnOf(card));
    if (e.key === "ArrowRight" && i < cols.length - 1) moveToStage(card, cols[i + 1]).then(() => card.focus());
    else if (e.key === "ArrowLeft" && i > 0) moveToStage(card, cols[i - 1]).then(() => card.focus());
    else if (e.key === "W") gated(board, card, null, (extra) => closeDeal(board, card, { status: "won", ...extra }, true));
    else if (e.key === "L") askLostReason(board, card, true);
    else return;
    e.preventDefault();
  });
  // Browsers' own image/text dragging would fight with ours.
  board.addEventListener("dragstart", (e) => e.preventDefault());

  function moveToStage(card, column) {
    if (columnOf(card) === column) return Promise.resolve();
    return gated(board, card, column.dataset.stage, (extra) => moveNow(card, column, extra));
  }

  async function moveNow(card, column, extra) {
    const from = columnOf(card);
    if (from === column) return;
    const list = column.querySelector(".cards");
    list.querySelector(".empty")?.remove();
    list.prepend(card); // optimistic; undone when the server refuses
    try {
      const deal = await api("PATCH", `/api/v1/deals/${card.dataset.id}`, {
        version: Number(card.dataset.version), stage_id: column.dataset.stage, ...extra,
      });
      card.dataset.version = deal.version;
      setCount(from, -1); setCount(column, 1);
      if (window.boardGate) boardGate.refresh(board, card);
      await Promise.all([refreshStats(from), refreshStats(column)]);
    } catch (err) {
      from.querySelector(".cards").prepend(card);
      toast(`${refused}: ${err.message}`);
    }
  }

  loadMoreOnScroll(board);
}

// Asks the playbook gate before a move to `stage` (an id; `null` for won):
// a move that open required steps block opens the dialog saying what is
// missing instead; otherwise, or after an override, `go(extra)` moves,
// with `extra` holding the override's reason.
async function gated(board, card, stage, go) {
  const m = window.boardGate ? await boardGate.moveTo(card, stage) : null;
  if (m && !m.allowed && m.open_steps.length) {
    boardGate.explain(board, card, m, () => gated(board, card, stage, go), (reason) => go({ override_reason: reason }));
    return;
  }
  await go({});
}

// After a card leaves by keyboard, focus goes to its neighbour, else to
// the column's list, never to the page body.
const focusAfter = (card, col) => {
  const next = card.nextElementSibling?.closest(".card") || card.previousElementSibling?.closest(".card");
  if (next) { next.focus(); return; }
  const list = col.querySelector(".cards");
  list.tabIndex = -1;
  list.focus();
};

// Won or lost: the card leaves with a message and an Undo that reopens the
// deal in the stage it was in (version-checked, like every change).
async function closeDeal(board, card, body, byKeyboard, comment) {
  const refused = board.dataset.tRefused;
  const col = columnOf(card);
  try {
    const deal = await api("PATCH", `/api/v1/deals/${card.dataset.id}`, { version: Number(card.dataset.version), ...body });
    card.dataset.version = deal.version;
    if (comment) {
      await api("POST", "/api/v1/notes", { body: comment, deal_id: card.dataset.id })
        .catch((err) => toast(`${refused}: ${err.message}`));
    }
    if (byKeyboard) focusAfter(card, col);
    setCount(col, -1);
    card.remove();
    refreshStats(col);
    const title = card.querySelector(".title")?.textContent || "";
    const said = body.status === "won" ? board.dataset.tMarkedWon : board.dataset.tMarkedLost;
    toast(`${said}: ${title}`, { label: board.dataset.tUndo, run: () => reopen(board, card, col) });
  } catch (err) {
    toast(`${refused}: ${err.message}`);
  }
}

async function reopen(board, card, col) {
  try {
    const deal = await api("PATCH", `/api/v1/deals/${card.dataset.id}`, {
      version: Number(card.dataset.version), status: "open", stage_id: col.dataset.stage,
    });
    card.dataset.version = deal.version;
    const list = col.querySelector(".cards");
    list.querySelector(".empty")?.remove();
    list.prepend(card);
    setCount(col, 1);
    await refreshStats(col);
    if (window.boardGate) boardGate.refresh(board, card);
    card.focus();
    toast(board.dataset.tReopened);
  } catch (err) {
    toast(`${board.dataset.tRefused}: ${err.message}`);
  }
}

// The reason starts empty (the select is required), so a reason is a
// choice, not a default; the optional comment is kept as a note on the deal.
function askLostReason(board, card, byKeyboard) {
  const dialog = document.getElementById("lost-dialog");
  if (!dialog) return;
  const select = dialog.querySelector('select[name="reason"]');
  const comment = dialog.querySelector('textarea[name="comment"]');
  select.value = "";
  if (comment) comment.value = "";
  dialog.returnValue = "";
  dialog.onclose = () => {
    if (dialog.returnValue !== "ok") { if (byKeyboard) card.focus(); return; }
    closeDeal(board, card, { status: "lost", lost_reason: select.value }, byKeyboard, comment && comment.value.trim());
  };
  dialog.showModal();
}

// Progressive loading: when a column's "more" marker scrolls into view,
// fetch the next page of cards and put it in the marker's place.
function loadMoreOnScroll(board) {
  const observer = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue;
      const marker = entry.target;
      observer.unobserve(marker);
      fetch(`/board/cards?${marker.dataset.more}`, { credentials: "same-origin" })
        .then((r) => (r.ok ? r.text() : Promise.reject(new Error(r.statusText))))
        .then((html) => {
          const tpl = document.createElement("template");
          tpl.innerHTML = html;
          const next = tpl.content.querySelector(".more");
          marker.replaceWith(tpl.content);
          if (next) observer.observe(next);
        })
        .catch((err) => { marker.textContent = err.message; });
    }
  }, { rootMargin: "200px" });
  board.querySelectorAll(".more").forEach((m) => observer.observe(m));
}

// Calls `passed(el)` for each element of `selector` whose <time datetime>
// lies in the past: now, and again when the next one's due time comes, so
// a page left open marks activities overdue from their due time on (the
// server's rule, `core::agenda`), not only after a reload.
function onDuePassed(selector, passed) {
  let timer = null;
  const check = () => {
    const now = Date.now();
    let next = Infinity;
    document.querySelectorAll(selector).forEach((el) => {
      const t = el.querySelector("time[datetime]");
      const at = t ? Date.parse(t.getAttribute("datetime")) : NaN;
      if (Number.isNaN(at)) return;
      if (at <= now) passed(el);
      else next = Math.min(next, at);
    });
    clearTimeout(timer);
    if (next < Infinity) timer = setTimeout(check, Math.min(next - now + 50, 3600000));
  };
  check();
}

// The language menu stores the choice on the user's account, so it
// follows them to every device, then shows the page again in it.
async function switchLanguage(select) {
  try {
    const me = await api("GET", `/api/v1/users/${select.dataset.user}`);
    await api("PATCH", `/api/v1/users/${select.dataset.user}`, { version: me.version, locale: select.value });
    location.reload();
  } catch (err) {
    toast(err.message);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const lang = document.getElementById("lang-switch");
  if (lang) lang.addEventListener("change", () => switchLanguage(lang));
  document.querySelectorAll("select[data-autosubmit]").forEach((s) =>
    s.addEventListener("change", () => s.form.submit()));
  const board = document.querySelector(".board");
  if (board) boardInit(board);
});
