// dealflow's page script: board drag and drop, progressive column loading,
// and small conveniences. Every change goes through the JSON API with the
// session's CSRF token; the server validates and may refuse.
"use strict";

// Every page with the navigation carries the session's CSRF token (in a
// meta tag, and in the sign-out form that every page has).
const csrf = () =>
  document.querySelector('meta[name="csrf-token"]')?.content ||
  document.querySelector('form.logout input[name="csrf"]')?.value || "";

function toast(message) {
  const el = document.getElementById("toast");
  if (!el) return;
  el.textContent = message;
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { el.hidden = true; }, 6000);
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
    throw new Error(fields || (data && data.detail) || resp.statusText);
  }
  return data;
}

function boardInit(board) {
  const refused = board.dataset.tRefused;

  const columnOf = (el) => el.closest(".column");
  const setCount = (col, delta) => {
    const c = col && col.querySelector(".count");
    if (c) c.textContent = String(Number(c.textContent) + delta);
  };

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
    drag = null;
  };
  board.addEventListener("pointerdown", (e) => {
    const card = e.target.closest(".card");
    if (!card || e.button !== 0) return;
    drag = { card, x: e.clientX, y: e.clientY, active: false, touch: e.pointerType === "touch" };
    if (drag.touch) drag.timer = setTimeout(() => drag && startDrag(drag), 350);
  });
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
    else if (target.dataset.status === "won") close(card, { status: "won" });
    else if (target.dataset.status === "lost") askLostReason(card);
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
    else if (e.key === "W") close(card, { status: "won" });
    else if (e.key === "L") askLostReason(card);
    else return;
    e.preventDefault();
  });
  // Browsers' own image/text dragging would fight with ours.
  board.addEventListener("dragstart", (e) => e.preventDefault());

  async function moveToStage(card, column) {
    const from = columnOf(card);
    if (from === column) return;
    const list = column.querySelector(".cards");
    list.querySelector(".empty")?.remove();
    list.prepend(card); // optimistic; undone when the server refuses
    try {
      const deal = await api("PATCH", `/api/v1/deals/${card.dataset.id}`, {
        version: Number(card.dataset.version), stage_id: column.dataset.stage,
      });
      card.dataset.version = deal.version;
      setCount(from, -1); setCount(column, 1);
    } catch (err) {
      from.querySelector(".cards").prepend(card);
      toast(`${refused}: ${err.message}`);
    }
  }

  async function close(card, body) {
    try {
      await api("PATCH", `/api/v1/deals/${card.dataset.id}`, { version: Number(card.dataset.version), ...body });
      setCount(columnOf(card), -1);
      card.remove();
    } catch (err) {
      toast(`${refused}: ${err.message}`);
    }
  }

  function askLostReason(card) {
    const dialog = document.getElementById("lost-dialog");
    if (!dialog) return;
    dialog.returnValue = "";
    dialog.onclose = () => {
      if (dialog.returnValue !== "ok") return;
      const reason = dialog.querySelector('select[name="reason"]').value;
      close(card, { status: "lost", lost_reason: reason });
    };
    dialog.showModal();
  }

  // Progressive loading: when a column's "more" marker scrolls into view,
  // fetch the next page of cards and put it in the marker's place.
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
