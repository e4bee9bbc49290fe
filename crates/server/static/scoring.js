// The scoring settings page: the draft is edited as a form
// (scoring-form.js) or as JSON, the two kept in step when switching, and
// saved with the version read (a concurrent edit is a 409, shown, never
// overwritten); publishing makes it the next version. Both reload the page.
// While an admin edits, the counts of the edit (not saved yet) come from
// POST …/preview, a moment after the last change.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const draft = document.getElementById("draft");
  if (!draft) return;
  const page = document.querySelector(".scoring-page");
  const box = document.getElementById("draft-error");
  const json = document.getElementById("draft-json");
  const show = (msg) => { box.textContent = msg; box.hidden = false; };
  const hide = () => { box.textContent = ""; box.hidden = true; };
  const path = `/api/v1/scoring/models/${draft.dataset.model}`;
  const admin = draft.hasAttribute("data-admin");
  const editor = JSON.parse(draft.dataset.editor);
  let view = "form";
  let timer = null;
  let asked = 0;

  const refresh = async () => {
    const c = current();
    if (c.error) return;
    const mine = ++asked;
    try {
      const p = await api("POST", `${path}/preview`, c.body);
      if (mine === asked) { form.showCounts(p); counts(p, c.body); }
    } catch (_) {
      if (mine === asked) form.showCounts(null); // counts wait for a valid draft
    }
  };
  const changed = () => {
    if (!admin) return;
    clearTimeout(timer);
    timer = setTimeout(refresh, 600);
  };
  const form = ScoringForm.init(draft, editor, admin, changed);
  form.render(JSON.parse(json.value));
  form.showCounts(editor.preview);
  draft.addEventListener("input", changed);
  draft.addEventListener("change", changed);

  // The body being edited, from the view shown.
  const current = () => {
    if (view === "form") return { body: form.collect() };
    try {
      return { body: JSON.parse(json.value) };
    } catch (e) {
      return { error: `${page.dataset.tBadJson} ${e.message}` };
    }
  };

  const select = (v) => {
    view = v;
    document.getElementById("draft-form").hidden = v !== "form";
    document.getElementById("draft-json-view").hidden = v !== "json";
    document.getElementById("tab-form").setAttribute("aria-selected", String(v === "form"));
    document.getElementById("tab-json").setAttribute("aria-selected", String(v === "json"));
  };
  document.getElementById("tab-json").addEventListener("click", () => {
    if (view === "json") return;
    json.value = JSON.stringify(form.collect(), null, 2);
    hide();
    select("json");
  });
  document.getElementById("tab-form").addEventListener("click", () => {
    if (view === "form") return;
    const c = current();
    if (c.error) { show(c.error); return; }
    const bad = form.render(c.body);
    if (bad) { show(`${page.dataset.tBadShape} ${bad}`); return; }
    hide();
    select("form");
    changed();
  });

  // The counts section's tables, for the edit.
  const counts = (p, body) => {
    const what = (r) => r.group === "fit" ? `${r.field || ""} ${r.op || ""} ${r.value === undefined ? "" : JSON.stringify(r.value)} → ${r.points ?? 0}`
      : r.group === "engagement" ? `${r.event || ""} → ${r.points ?? 0}` : (r.question || "");
    const cell = (tr, t, cls) => { const td = tr.insertCell(); td.textContent = t; if (cls) td.className = cls; };
    const rules = document.getElementById("count-rules");
    rules.replaceChildren();
    p.rules.forEach((c, i) => {
      const tr = rules.insertRow();
      const id = document.createElement("code");
      id.textContent = c.rule_id;
      tr.insertCell().append(id);
      cell(tr, c.group); cell(tr, what((body.rules || [])[i] || {})); cell(tr, String(c.deals), "num");
    });
    const bands = document.getElementById("count-bands");
    bands.replaceChildren();
    p.bands.forEach((b) => {
      const tr = bands.insertRow();
      cell(tr, b.band ?? draft.dataset.tBelow); cell(tr, String(b.draft), "num"); cell(tr, b.published === null ? "—" : String(b.published), "num");
    });
    const mean = (x) => (x === null ? "—" : String(x));
    const tpl = p.sampled ? page.dataset.tSummarySampled : page.dataset.tSummary;
    document.getElementById("count-summary").textContent = tpl.replace("{n}", p.deals).replace("{draft}", mean(p.draft_mean)).replace("{published}", mean(p.published_mean));
  };

  const save = async () => {
    const c = current();
    if (c.error) { show(c.error); return false; }
    const body = c.body || {};
    const patch = { version: Number(draft.dataset.version), rules: body.rules, thresholds: body.thresholds, bands: body.bands };
    form.clearErrors();
    try {
      const m = await api("PATCH", path, patch);
      draft.dataset.version = String(m.version);
      return true;
    } catch (err) {
      show(err.message || page.dataset.tGeneric);
      const errors = err.problem && err.problem.errors;
      if (view === "form" && errors && form.showErrors(errors)) show(`${draft.dataset.tFix} ${err.message}`);
      return false;
    }
  };

  const saveBtn = document.getElementById("save-draft");
  if (saveBtn) saveBtn.addEventListener("click", async () => { if (await save()) location.reload(); });
  const publish = document.getElementById("publish");
  if (publish) {
    publish.addEventListener("click", async () => {
      if (!(await save())) return;
      try {
        await api("POST", `${path}/publish`, {});
        location.reload();
      } catch (err) {
        show(err.message || page.dataset.tGeneric);
      }
    });
  }
});
