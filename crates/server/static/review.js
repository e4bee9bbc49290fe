// The weekly audit pages. On /audits, starting an audit opens its meeting.
// On /audits/{id}, the meeting mode: one deal at a time, arrows to go on
// and back, k/d/m/r/n to decide (k keeps at once; the others open their
// panel, Enter confirms, Escape closes), a timer against 30 minutes and the
// progress. Decisions go to the JSON API; its messages are shown as they
// come. Uses `api` and `toast` from app.js.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const start = document.getElementById("start-audit");
  if (start) {
    start.addEventListener("submit", async (e) => {
      e.preventDefault();
      const body = { pipeline_id: start.elements.pipeline_id.value };
      if (start.elements.owner_id.value) body.owner_id = start.elements.owner_id.value;
      try {
        const a = await api("POST", "/api/v1/audits", body);
        location.href = `/audits/${a.id}`;
      } catch (err) {
        const box = document.getElementById("start-error");
        box.textContent = err.message;
        box.hidden = false;
      }
    });
  }
  const root = document.getElementById("review");
  if (root) meeting(root);
});

function fillIn(text, pairs) {
  return Object.entries(pairs).reduce((s, [k, v]) => s.replaceAll(`{${k}}`, String(v)), text);
}

function meeting(root) {
  const d = root.dataset;
  const cards = [...root.querySelectorAll(".review-card")];
  const form = document.getElementById("decide");
  const errorBox = document.getElementById("decide-error");
  let at = 0;
  let decided = Number(d.decided);

  const status = () => {
    const pos = document.getElementById("position");
    const prog = document.getElementById("progress");
    if (pos) pos.textContent = cards.length ? fillIn(d.tPosition, { n: at + 1, total: cards.length }) : "";
    if (prog) prog.textContent = fillIn(d.tProgress, { decided, total: cards.length });
  };
  const show = (i) => {
    if (!cards.length) return;
    at = Math.max(0, Math.min(cards.length - 1, i));
    cards.forEach((c, k) => { c.hidden = k !== at; });
    closePanels();
    if (errorBox) errorBox.hidden = true;
    status();
  };
  const nextUndecided = () => {
    for (let k = 1; k <= cards.length; k++) {
      const i = (at + k) % cards.length;
      if (!cards[i].dataset.decided) return i;
    }
    return at;
  };

  // The timer: 30 minutes from the first time this audit was opened in
  // this tab; past that it counts the overrun.
  const timer = document.getElementById("timer");
  const key = `dealflow.review.${d.audit}`;
  let began = Number(sessionStorage.getItem(key));
  if (!began) { began = Date.now(); try { sessionStorage.setItem(key, String(began)); } catch (_) { /* private mode */ } }
  const tick = () => {
    const left = Math.round((began + 30 * 60 * 1000 - Date.now()) / 1000);
    const mmss = (s) => `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
    timer.textContent = left >= 0 ? mmss(left) : fillIn(d.tOver, { time: mmss(-left) });
    timer.classList.toggle("over", left < 0);
  };
  if (timer) { tick(); setInterval(tick, 1000); }

  const panels = form ? [...form.querySelectorAll(".review-panel")] : [];
  let open = null;
  function closePanels() { panels.forEach((p) => { p.hidden = true; }); open = null; }
  const openPanel = (kind) => {
    closePanels();
    const p = panels.find((x) => x.dataset.panel === kind);
    if (!p) return;
    p.hidden = false;
    open = kind;
    const first = p.querySelector("input, select");
    if (first) first.focus();
  };

  const decide = async (kind) => {
    const card = cards[at];
    if (!card) return;
    const f = form.elements;
    const body = { kind };
    if (f.note.value.trim()) body.note = f.note.value.trim();
    if (kind === "keep" && f.next_subject.value.trim()) {
      body.next_action = { subject: f.next_subject.value.trim() };
      if (f.next_due.value) body.next_action.due_at = new Date(f.next_due.value).toISOString();
    }
    if (kind === "disqualify" && f.lost_reason.value.trim()) body.lost_reason = f.lost_reason.value.trim();
    if (kind === "move") {
      body.stage_id = f.stage_id.value;
      if (f.override_reason && f.override_reason.value.trim()) body.override_reason = f.override_reason.value.trim();
    }
    if (kind === "reassign") body.owner_id = f.owner_id.value;
    if (kind === "update_close_date") body.expected_close_date = f.expected_close_date.value;
    try {
      await api("POST", `/api/v1/audits/${d.audit}/items/${card.dataset.deal}/decision`, body);
    } catch (err) {
      errorBox.textContent = err.message;
      errorBox.hidden = false;
      return;
    }
    const line = card.querySelector(".review-decision");
    line.querySelector("span").textContent = d[`kind${kind.split("_").map((w) => w[0].toUpperCase() + w.slice(1)).join("")}`] || kind;
    line.hidden = false;
    if (!card.dataset.decided) { card.dataset.decided = "1"; decided += 1; }
    form.reset();
    toast(fillIn(d.tDecided, { kind: line.querySelector("span").textContent }));
    show(nextUndecided());
  };

  if (form) {
    form.querySelectorAll("[data-kind]").forEach((b) => b.addEventListener("click", () => {
      if (b.dataset.kind === "keep" && open !== "keep") decide("keep"); else openPanel(b.dataset.kind);
    }));
    form.addEventListener("submit", (e) => { e.preventDefault(); if (open) decide(open); });
  }
  const prev = document.getElementById("prev");
  const next = document.getElementById("next");
  if (prev) prev.addEventListener("click", () => show(at - 1));
  if (next) next.addEventListener("click", () => show(at + 1));

  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const typing = e.target.closest("input, select, textarea");
    if (e.key === "Escape") { closePanels(); if (typing) typing.blur(); return; }
    if (typing) return;
    const keys = { k: "keep", d: "disqualify", m: "move", r: "reassign", n: "update_close_date" };
    if (e.key === "ArrowRight" || e.key === "PageDown") { e.preventDefault(); show(at + 1); }
    else if (e.key === "ArrowLeft" || e.key === "PageUp") { e.preventDefault(); show(at - 1); }
    else if (form && keys[e.key]) {
      e.preventDefault();
      if (e.key === "k") decide("keep"); else openPanel(keys[e.key]);
    }
  });

  const sign = document.getElementById("sign-off");
  if (sign) {
    sign.addEventListener("click", async () => {
      if (!confirm(d.tConfirmSign)) return;
      try {
        await api("POST", `/api/v1/audits/${d.audit}/sign-off`);
        location.reload();
      } catch (err) {
        toast(err.message);
      }
    });
  }
  show(0);
}
