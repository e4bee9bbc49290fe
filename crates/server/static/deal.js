// The deal page: outcome buttons, the stage path, fields saved in place,
// activities and notes. Every change goes through the JSON API with the
// session's CSRF token and the deal's version; the server validates. A
// field saved in place sends only that field; deal-merge.js handles a
// stale version.
"use strict";

// Runs after app.js (which defines toast() and csrf()): both are deferred,
// and this one comes first in the document.
document.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("deal");
  if (!root) return;
  const dealId = root.dataset.id;
  const text = (k) => root.dataset[k] || "";
  let version = Number(root.dataset.version);

  // Like app.js's api(), but the error also carries the HTTP status and
  // whether the problem is a stale version (409 with current_version).
  async function call(method, path, body) {
    const resp = await fetch(path, {
      method,
      headers: { "content-type": "application/json", "x-csrf-token": csrf() },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
    const raw = await resp.text();
    let data = null;
    try { data = raw ? JSON.parse(raw) : null; } catch (_) { data = null; }
    if (!resp.ok) {
      const fields = (data && data.errors || []).map((e) => e.message).join("; ");
      const err = new Error(fields || (data && data.detail) || resp.statusText);
      err.status = resp.status;
      err.stale = resp.status === 409 && data && data.current_version != null;
      err.fields = (data && data.errors || []).map((e) => e.field);
      throw err;
    }
    return data;
  }

  // A message that survives the reload after a change.
  const flash = (m) => { try { sessionStorage.setItem("deal-flash", m); } catch (_) { /* private mode */ } };
  const reload = (m) => { if (m) flash(m); location.reload(); };
  try {
    const m = sessionStorage.getItem("deal-flash");
    if (m) { sessionStorage.removeItem("deal-flash"); toast(m); }
  } catch (_) { /* private mode */ }

  function showConflict(message) {
    const box = document.getElementById("conflict");
    box.querySelector(".msg").textContent = message;
    box.hidden = false;
    box.querySelector("button").focus();
  }

  function refused(err) {
    if (err.stale) showConflict(err.message);
    else toast(`${text("tRefused")}: ${err.message}`);
  }

  function setVersion(v) {
    version = v;
    root.dataset.version = String(v);
  }

  async function patchDeal(body) {
    const d = await call("PATCH", `/api/v1/deals/${dealId}`, { version, ...body });
    setVersion(d.version);
    return d;
  }

  // Re-reads the page and swaps in the parts a field change affects (the
  // header and the timeline), so keyboard focus stays where it is.
  async function refreshParts() {
    try {
      const resp = await fetch(location.href, { credentials: "same-origin" });
      if (!resp.ok) return;
      const doc = new DOMParser().parseFromString(await resp.text(), "text/html");
      for (const sel of [".deal-head .deal-title", ".deal-timeline"]) {
        const fresh = doc.querySelector(sel);
        const old = document.querySelector(sel);
        if (fresh && old) old.replaceWith(document.importNode(fresh, true));
      }
    } catch (_) { /* the page still works; a reload shows the rest */ }
  }

  // "12,500.5" in major units → minor units of a currency with `digits`
  // decimals; null when it is not an amount.
  function toMinor(input, digits) {
    const s = String(input).replace(/[\s,_]/g, "");
    const m = /^(\d+)(?:\.(\d*))?$/.exec(s);
    if (!m) return null;
    let frac = m[2] || "";
    if (frac.length > digits) {
      if (/[^0]/.test(frac.slice(digits))) return null;
      frac = frac.slice(0, digits);
    }
    const n = Number(m[1] + frac.padEnd(digits, "0"));
    return Number.isSafeInteger(n) ? n : null;
  }
  const digitsOf = (select) => Number(select.selectedOptions[0]?.dataset.digits ?? root.dataset.digits ?? 2);

  // ---- fields saved in place -------------------------------------------
  const form = document.getElementById("fields");
  const fieldEl = (name) => form.querySelector(`[name="${name}"]`);
  // Saves one field, merging with changes made elsewhere (deal-merge.js).
  const merge = dealMerge({ root, form, call, setVersion });

  function invalid(el, message) {
    el.setAttribute("aria-invalid", "true");
    toast(message);
  }

  // The PATCH body for one changed input, or null when there is nothing
  // valid to send (the reason is shown).
  function bodyFor(el) {
    const v = el.value.trim();
    const field = el.dataset.field;
    if (el.dataset.custom || el.closest("[data-custom]")) return customBody(el.closest("[data-custom]"));
    switch (field) {
      case "title":
        if (!v) { invalid(el, text("tRequired")); return null; }
        return { title: v };
      case "value": {
        // Empty is not zero: a deal worth nothing says 0.
        if (v === "") { invalid(el, text("tRequired")); return null; }
        const minor = toMinor(v, digitsOf(fieldEl("currency")));
        if (minor === null) { invalid(el, text("tBadAmount")); return null; }
        return { value: minor };
      }
      case "currency": {
        // The amount keeps its meaning in major units in the new currency.
        const minor = toMinor(fieldEl("value").value.trim() || "0", digitsOf(el));
        return minor === null ? { currency: el.value } : { currency: el.value, value: minor };
      }
      case "expected_close_date": return { expected_close_date: v || null };
      case "probability": return { probability: v === "" ? null : Number(v) };
      case "contract_months": return { contract_months: v === "" ? null : Number(v) };
      case "source": return { source: v || null };
      case "owner_id": return { owner_id: v || null };
      case "person_id":
      case "organization_id":
        if (el.hasAttribute("data-by-id")) {
          if (v === "") return null;
          if (!/^\d+$/.test(v)) { invalid(el, text("tBadId")); return null; }
        }
        return { [field]: v || null };
      default: return null;
    }
  }

  function customBody(box) {
    const key = box.dataset.custom;
    let value;
    switch (box.dataset.kind) {
      case "boolean": value = box.checked; break;
      case "number": value = box.value.trim() === "" ? null : Number(box.value); break;
      case "money": {
        const amount = box.querySelector("[data-part=amount]");
        const cur = box.querySelector("[data-part=currency]");
        if (amount.value.trim() === "") { value = null; break; }
        const minor = toMinor(amount.value.trim(), digitsOf(cur));
        if (minor === null) { invalid(amount, text("tBadAmount")); return null; }
        value = { value: minor, currency: cur.value };
        break;
      }
      default: value = box.value.trim() === "" ? null : box.value.trim();
    }
    return { custom: { [key]: value } };
  }

  async function save(el) {
    const body = bodyFor(el);
    if (!body) return;
    el.removeAttribute("aria-invalid");
    try {
      // null: the user took the value someone else stored meanwhile.
      if ((await merge.save(el, body)) === null) return;
      if (el.hasAttribute("data-by-id")) {
        const select = fieldEl(el.dataset.field);
        if ([...select.options].some((o) => o.value === el.value.trim())) select.value = el.value.trim();
        el.value = "";
      }
      toast(text("tSaved"));
      await refreshParts();
    } catch (err) {
      el.setAttribute("aria-invalid", "true");
      refused(err);
    }
  }

  form.addEventListener("change", (e) => {
    if (e.target.matches("input, select, textarea")) save(e.target);
  });
  // Enter in a text input saves it (through the change event), no submit.
  form.addEventListener("submit", (e) => e.preventDefault());

  // ---- outcome and stage ----------------------------------------------
  async function move(body) {
    try {
      await patchDeal(body);
      reload(text("tSaved"));
    } catch (err) {
      refused(err);
    }
  }

  document.querySelector(".path").addEventListener("click", (e) => {
    const b = e.target.closest("button[data-stage]");
    if (!b || b.getAttribute("aria-current") === "step") return;
    move({ stage_id: b.dataset.stage });
  });

  document.addEventListener("click", (e) => {
    const b = e.target.closest("button[data-action]");
    if (!b) return;
    const act = b.dataset.action;
    if (act === "won") move({ status: "won" });
    else if (act === "reopen") move({ status: "open" });
    else if (act === "reload") location.reload();
    else if (act === "lost") askLost();
    else if (act === "complete") completeActivity(b.closest(".act"));
    else if (act === "reschedule") rescheduleActivity(b.closest(".act"));
  });

  // ---- playbook checklist ------------------------------------------------
  document.addEventListener("change", async (e) => {
    const box = e.target.closest("input[data-step]");
    if (!box) return;
    const how = box.checked ? "done" : "undone";
    try {
      await call("POST", `/api/v1/deals/${dealId}/steps/${box.dataset.step}/${how}`, {});
      reload(text("tSaved"));
    } catch (err) {
      box.checked = !box.checked;
      refused(err);
    }
  });

  function askLost() {
    const dialog = document.getElementById("lost-dialog");
    dialog.returnValue = "";
    dialog.onclose = () => {
      if (dialog.returnValue !== "ok") return;
      const reason = dialog.querySelector('select[name="reason"]').value;
      move(reason ? { status: "lost", lost_reason: reason } : { status: "lost" });
    };
    dialog.showModal();
  }

  // ---- activities ------------------------------------------------------
  // datetime-local shows the browser's local time; the API wants RFC 3339.
  const pad = (n) => String(n).padStart(2, "0");
  const toLocalInput = (iso) => {
    const d = new Date(iso);
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
  };
  document.querySelectorAll("input.reschedule-at[data-due]").forEach((i) => {
    if (i.dataset.due) i.value = toLocalInput(i.dataset.due);
  });
  // An open activity is overdue from its due time on, also while the page
  // stays open: mark it as the server would.
  onDuePassed(".open-acts .act:not(.overdue)", (li) => {
    li.classList.add("overdue");
    li.querySelector(".due").append(` · ${text("tOverdue")}`);
  });

  document.getElementById("add-activity").addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = e.target;
    const subject = f.subject.value.trim();
    if (!subject) { invalid(f.subject, text("tRequired")); f.subject.focus(); return; }
    const body = { deal_id: dealId, kind: f.kind.value, subject };
    if (f.due_at.value) body.due_at = new Date(f.due_at.value).toISOString();
    try {
      await call("POST", "/api/v1/activities", body);
      reload(text("tSaved"));
    } catch (err) {
      refused(err);
    }
  });

  async function completeActivity(li) {
    try {
      await call("PATCH", `/api/v1/activities/${li.dataset.id}`, {
        version: Number(li.dataset.version), done_at: new Date().toISOString(),
      });
      reload(text("tSaved"));
    } catch (err) {
      refused(err);
    }
  }

  async function rescheduleActivity(li) {
    const v = li.querySelector("input.reschedule-at").value;
    try {
      await call("PATCH", `/api/v1/activities/${li.dataset.id}`, {
        version: Number(li.dataset.version), due_at: v ? new Date(v).toISOString() : null,
      });
      reload(text("tSaved"));
    } catch (err) {
      refused(err);
    }
  }

  // ---- notes -------------------------------------------------------------
  document.getElementById("add-note").addEventListener("submit", async (e) => {
    e.preventDefault();
    const area = e.target.body;
    const body = area.value;
    if (!body.trim()) { invalid(area, text("tRequired")); area.focus(); return; }
    try {
      await call("POST", "/api/v1/notes", { deal_id: dealId, body });
      reload(text("tSaved"));
    } catch (err) {
      refused(err);
    }
  });
});

// A qualifying question answered in place: the answer is stored, the score
// moves at once, and the page shows the new score and its explanation.
document.addEventListener("change", async (e) => {
  const select = e.target.closest("select[data-question]");
  if (!select || !select.value) return;
  const id = document.getElementById("deal").dataset.id;
  select.disabled = true;
  try {
    await api("PUT", `/api/v1/deals/${id}/answers/${encodeURIComponent(select.dataset.question)}`, { answer: select.value });
    location.reload();
  } catch (err) {
    toast(err.message);
    select.disabled = false;
  }
});

// The learned win probability, computed when asked for (it trains on the
// pipeline's last year of closed deals): the percentage and the top
// factors for and against.
document.addEventListener("toggle", async (e) => {
  const box = e.target;
  if (!(box instanceof HTMLDetailsElement) || box.id !== "win-prob" || !box.open || box.dataset.done) return;
  box.dataset.done = "1";
  const out = box.querySelector(".out");
  const id = document.getElementById("deal").dataset.id;
  try {
    const w = await api("GET", `/api/v1/deals/${id}/win-probability`);
    if (!w.enough_history) {
      out.textContent = box.dataset.tNone.replace("{won}", w.won).replace("{lost}", w.lost);
      return;
    }
    const p = w.prediction;
    const list = (fs) => fs.map((f) => `${f.feature}: ${f.value}`).join(", ") || "—";
    out.textContent = `${Math.round(p.probability * 100)}% · ${box.dataset.tFor}: ${list(p.for_win)} · ${box.dataset.tAgainst}: ${list(p.against)}`;
  } catch (err) {
    out.textContent = err.message;
  }
}, true);
