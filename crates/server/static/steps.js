// The step editor of a stage's playbook. One form adds a step or changes
// the one being edited: it shows the chosen kind's own fields, words the
// due rule as it is set ("2 hours before the meeting", from the same
// catalog keys the server uses for the list), previews an e-mail template
// with sample values through POST /api/v1/steps/preview, and puts each
// error of a 422 next to the field it names. Uses `api` and `toast` from
// app.js and `flashAndReload` from admin.js.
"use strict";

function stepsInit(root) {
  const form = document.getElementById("step-form");
  const el = (name) => form.elements.namedItem(name);
  const d = root.dataset;
  let editing = null; // the step being changed, or null to add one

  // ---- the kind's own fields ------------------------------------------
  const showKind = () => {
    const kind = el("kind").value;
    form.querySelectorAll("fieldset[data-kinds]").forEach((f) => {
      f.hidden = !f.dataset.kinds.split(" ").includes(kind);
    });
  };

  // ---- the due rule in words ------------------------------------------
  function dueWords() {
    const anchor = el("due.anchor").value;
    if (!anchor) return "";
    const n = Math.abs(Math.trunc(Number(el("due.amount").value) || 0));
    if (n === 0) return anchor === "meeting" ? d.tAtMeeting : d.tAtStage;
    const unit = el("due.unit").value;
    const key = { days: ["tDay", "tDays"], hours: ["tHour", "tHours"], minutes: ["tMinute", "tMinutes"] }[unit];
    const amount = d[key[n === 1 ? 0 : 1]].replace("{n}", String(n));
    const rule = el("due.direction").value === "before" ? d.tBefore : d.tAfter;
    return rule.replace("{amount}", amount).replace("{anchor}", anchor === "meeting" ? d.tAnchorMeeting : d.tAnchorStage);
  }
  const showDue = () => { form.querySelector(".due-reads .due-words").textContent = dueWords(); };

  // ---- errors next to their fields ------------------------------------
  const clearErrors = () => {
    form.querySelectorAll(".field-error, .form-error").forEach((s) => { s.hidden = true; s.textContent = ""; });
  };
  // A 422 names `due.offset_minutes` and the like; those show by the rule.
  const slotFor = (field) => form.querySelector(`[data-err="${CSS.escape(field)}"]`) ||
    (field.startsWith("due") ? form.querySelector('[data-err="due"]') : null);
  function showProblem(err, only) {
    const errors = (err.problem && err.problem.errors) || [];
    const general = [];
    for (const e of errors) {
      if (only && !only.includes(e.field)) continue;
      const slot = slotFor(e.field);
      if (slot) {
        slot.textContent = slot.hidden ? e.message : `${slot.textContent}; ${e.message}`;
        slot.hidden = false;
      } else general.push(`${e.field}: ${e.message}`);
    }
    if (!only && (general.length || errors.length === 0)) {
      const box = form.querySelector(".form-error");
      box.textContent = general.join("; ") || err.message || d.tGeneric;
      box.hidden = false;
    }
  }

  // ---- the live preview -------------------------------------------------
  let timer = null;
  let asked = 0;
  function preview() {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const mine = ++asked;
      const template = { subject: el("template.subject").value, body: el("template.body").value };
      ["template.subject", "template.body"].forEach((f) => { slotFor(f).hidden = true; slotFor(f).textContent = ""; });
      if (!template.subject.trim() && !template.body.trim()) return;
      try {
        const out = await api("POST", "/api/v1/steps/preview", { template });
        if (mine !== asked) return; // a later keystroke asked again
        form.querySelector(".preview-subject").textContent = out.subject;
        form.querySelector(".preview-body").textContent = out.body;
      } catch (err) {
        if (mine !== asked) return;
        // While typing, an empty subject or body is not worth a message.
        const errors = ((err.problem && err.problem.errors) || []).filter((e) => !/required|empty/i.test(e.message));
        showProblem({ ...err, problem: { errors } }, ["template.subject", "template.body"]);
      }
    }, 250);
  }

  // ---- the body the API takes -------------------------------------------
  function body() {
    const kind = el("kind").value;
    const text = (name) => el(name).value.trim();
    const b = {
      title: text("title"),
      description: text("description") || null,
      required: el("required").checked,
      kind,
      send: null, template: null, due: null, field: null, op: null, value: null, activity_kind: null, campaign_id: null,
    };
    if (kind === "email") {
      b.send = el("send").value;
      b.template = { subject: el("template.subject").value, body: el("template.body").value };
    }
    if (kind === "field") {
      b.field = text("field") || null;
      b.op = el("op").value || null;
      const v = text("value");
      if (b.op && v !== "") {
        const one = (s) => (s !== "" && !Number.isNaN(Number(s)) ? Number(s) : s);
        b.value = b.op === "one_of" ? v.split(",").map((s) => one(s.trim())).filter((s) => s !== "") : one(v);
      }
    }
    if (kind === "evidence") b.activity_kind = el("activity_kind").value;
    if (kind === "campaign") b.campaign_id = el("campaign_id").value || null;
    const anchor = el("due.anchor").value;
    if (anchor && ["task", "email", "evidence"].includes(kind)) {
      const n = Math.trunc(Number(el("due.amount").value) || 0);
      const signed = el("due.direction").value === "before" ? -n : n;
      const unit = el("due.unit").value;
      b.due = unit === "days" ? { anchor, offset_working_days: signed }
        : { anchor, offset_minutes: unit === "hours" ? signed * 60 : signed };
    }
    if (editing) {
      b.version = editing.version;
      return b;
    }
    // A new step leaves out what it does not carry.
    for (const k of Object.keys(b)) if (b[k] === null) delete b[k];
    return b;
  }

  // ---- filling the form to change a step --------------------------------
  function edit(step) {
    editing = step;
    clearErrors();
    form.reset();
    el("title").value = step.title;
    el("description").value = step.description || "";
    el("required").checked = step.required;
    el("kind").value = step.kind;
    if (step.send) el("send").value = step.send;
    if (step.template) {
      el("template.subject").value = step.template.subject;
      el("template.body").value = step.template.body;
    }
    el("field").value = step.field || "";
    el("op").value = step.op || "";
    el("value").value = step.value === undefined || step.value === null ? ""
      : Array.isArray(step.value) ? step.value.join(", ") : String(step.value);
    if (step.activity_kind) el("activity_kind").value = step.activity_kind;
    if (step.campaign_id) el("campaign_id").value = step.campaign_id;
    el("due.anchor").value = step.due ? step.due.anchor : "";
    if (step.due) {
      const days = step.due.offset_working_days || 0;
      const mins = step.due.offset_minutes || 0;
      let unit = "minutes";
      let n = mins;
      if (days) { unit = "days"; n = days; } else if (mins && mins % 60 === 0) { unit = "hours"; n = mins / 60; }
      el("due.unit").value = unit;
      el("due.amount").value = String(Math.abs(n));
      el("due.direction").value = n < 0 ? "before" : "after";
    }
    form.querySelector("#step-form-title").textContent = d.tChange;
    form.querySelector(".cancel-edit").hidden = false;
    showKind(); showDue(); preview();
    el("title").focus();
  }

  function stopEditing() {
    editing = null;
    form.reset();
    clearErrors();
    form.querySelector("#step-form-title").textContent = d.tAdd;
    form.querySelector(".cancel-edit").hidden = true;
    showKind(); showDue();
  }

  form.addEventListener("change", (e) => {
    if (e.target.name === "kind") showKind();
    showDue();
  });
  form.addEventListener("input", (e) => {
    if (e.target.name && e.target.name.startsWith("due.")) showDue();
    if (e.target.name === "template.subject" || e.target.name === "template.body") preview();
  });
  form.querySelector(".cancel-edit").addEventListener("click", stopEditing);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors();
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    try {
      if (editing) await api("PATCH", `/api/v1/steps/${editing.id}`, body());
      else await api("POST", `/api/v1/stages/${d.stage}/steps`, body());
      flashAndReload(d.tSaved);
    } catch (err) {
      showProblem(err);
    } finally {
      button.disabled = false;
    }
  });

  root.addEventListener("click", async (e) => {
    const editButton = e.target.closest("button.edit-step");
    if (editButton) { edit(JSON.parse(editButton.closest(".step-row").dataset.step)); return; }
    const btn = e.target.closest("button.step-btn");
    if (!btn) return;
    if (btn.dataset.confirm && !window.confirm(btn.dataset.confirm)) return;
    const payload = btn.dataset.body ? JSON.parse(btn.dataset.body) : {};
    if (btn.dataset.version) payload.version = Number(btn.dataset.version);
    btn.disabled = true;
    try {
      await api(btn.dataset.method, btn.dataset.path, btn.dataset.method === "DELETE" ? undefined : payload);
      flashAndReload(d.tSaved);
    } catch (err) {
      toast(err.message || d.tGeneric);
      btn.disabled = false;
    }
  });

  showKind();
  showDue();
}

document.addEventListener("DOMContentLoaded", () => {
  const root = document.querySelector(".admin-page.steps-editor");
  if (root) stepsInit(root);
});
