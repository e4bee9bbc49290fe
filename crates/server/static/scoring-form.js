// The scoring draft as a form: a card per rule, grouped by fit, engagement
// and question, then the thresholds and the bands. render() fills it from a
// draft body and collect() reads the body back, so the form and the JSON
// view are two views of one body. A card keeps its rule's id (answers and
// ledger rows refer to it); a new rule goes without one and the server
// gives it. Rules keep their order; new ones come last. scoring.js saves,
// publishes and asks for the counts.
"use strict";

// eslint-disable-next-line no-unused-vars
const ScoringForm = (() => {
  const GROUPS = ["fit", "engagement", "question"];
  let root, box, opts, editable, onChange, thresholds = {}, seq = 0;
  const clone = (id) => document.getElementById(id).content.cloneNode(true);
  const named = (el, name) => el.querySelector(`[name="${name}"]`);
  const text = (v) => (v === undefined || v === null ? "" : String(v));
  // A number input's number; absent when blank.
  const num = (el) => (el.value.trim() === "" ? undefined : Number(el.value));
  // A typed value: numbers and true/false as such, anything else as text.
  const scalar = (s) => {
    const t = s.trim();
    if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
    return t === "true" ? true : t === "false" ? false : t;
  };
  const fill = (tpl, vars) => tpl.replace(/\{(\w+)\}/g, (_, k) => text(vars[k]));
  const changed = () => onChange && onChange();

  const option = (value, label) => { const o = document.createElement("option"); o.value = value; o.textContent = label; return o; };

  // A select of `items` ([value, label]), with `blank` first when given and
  // the current value added when it is not among them.
  const choices = (sel, items, current, blank) => {
    sel.replaceChildren();
    if (blank !== undefined) sel.append(option("", blank));
    items.forEach(([v, l]) => sel.append(option(v, l)));
    if (current && !items.some(([v]) => v === String(current))) sel.append(option(String(current), String(current)));
    sel.value = text(current);
  };

  const fieldSelect = (sel, current) => {
    sel.replaceChildren(option("", "—"));
    for (const rec of ["deal", "person", "organization"]) {
      const g = document.createElement("optgroup");
      g.label = box.dataset[`tRec${rec[0].toUpperCase()}${rec.slice(1)}`];
      opts.fields.filter((f) => f[2] === rec).forEach(([v, l]) => g.append(option(v, l)));
      sel.append(g);
    }
    if (current && !opts.fields.some((f) => f[0] === current)) sel.append(option(current, current));
    sel.value = text(current);
  };

  // Shows the inputs the rule's op (fit) or event (engagement) takes.
  const toggle = (card) => {
    const op = named(card, "op");
    card.querySelectorAll("[data-ops]").forEach((l) => { l.hidden = !op || !l.dataset.ops.split(" ").includes(op.value); });
    const ev = named(card, "event");
    card.querySelectorAll("[data-events]").forEach((l) => { l.hidden = !ev || l.dataset.events !== ev.value; });
  };

  const answerRow = (answer, points) => {
    const row = clone("tpl-answer").firstElementChild;
    named(row, "answer").value = text(answer);
    named(row, "answer_points").value = text(points);
    return row;
  };

  const ruleCard = (rule) => {
    const card = clone(`tpl-${rule.group}`).firstElementChild;
    card.prepend(clone("tpl-rule-head"));
    card.rule = rule;
    card.dataset.seq = String(seq++);
    card.querySelector(".rule-id").textContent = rule.id || box.dataset.tNew;
    card.querySelectorAll(".stage-select").forEach((s) => choices(s, opts.stages, rule[s.name], s.dataset.blank ?? "—"));
    if (rule.group === "fit") {
      fieldSelect(named(card, "field"), rule.field);
      named(card, "op").value = rule.op || "eq";
      const v = rule.value;
      named(card, "value").value = Array.isArray(v) ? "" : text(v);
      named(card, "values").value = Array.isArray(v) ? v.map(text).join("\n") : "";
      named(card, "low").value = Array.isArray(v) ? text(v[0]) : "";
      named(card, "high").value = Array.isArray(v) ? text(v[1]) : "";
      // What was shown, to keep a value's type when it is not edited.
      card.dataset.shown = JSON.stringify(valueInputs(card));
    } else if (rule.group === "engagement") {
      named(card, "event").value = rule.event || "outreach.replied";
      named(card, "sentiment").value = text(rule.sentiment);
      named(card, "activity_kind").value = text(rule.activity_kind);
      named(card, "cap").value = text(rule.cap);
      named(card, "half_life_days").value = text(rule.half_life_days);
    } else {
      named(card, "question").value = text(rule.question);
      const answers = Object.entries(rule.answers || {});
      const list = card.querySelector(".answers");
      answers.forEach(([a, p]) => list.append(answerRow(a, p)));
      if (!answers.length) list.append(answerRow("", ""));
    }
    const points = named(card, "points");
    if (points) points.value = text(rule.points);
    toggle(card);
    return card;
  };

  const valueInputs = (card) => ["op", "value", "values", "low", "high"].map((n) => named(card, n).value);

  const bandRow = (band) => {
    const row = clone("tpl-band").firstElementChild;
    named(row, "name").value = text(band.name);
    named(row, "min").value = text(band.min);
    return row;
  };

  const cards = () => [...root.querySelectorAll(".rule-card")].sort((a, b) => a.dataset.seq - b.dataset.seq);

  const fitValue = (card, op) => {
    if (card.dataset.shown === JSON.stringify(valueInputs(card))) return card.rule.value;
    if (op === "eq") return scalar(named(card, "value").value);
    if (op === "contains") return named(card, "value").value;
    if (op === "one_of") return named(card, "values").value.split("\n").filter((l) => l.trim()).map(scalar);
    if (op === "between") return [scalar(named(card, "low").value), scalar(named(card, "high").value)];
    return undefined;
  };

  const collectRule = (card) => {
    const r = { id: card.rule.id, group: card.dataset.group };
    const val = (n) => named(card, n).value || undefined;
    if (r.group === "fit") {
      r.field = val("field");
      r.op = val("op");
      r.value = fitValue(card, r.op);
      r.points = num(named(card, "points"));
    } else if (r.group === "engagement") {
      r.event = val("event");
      if (r.event === "outreach.replied") r.sentiment = val("sentiment");
      if (r.event === "activity.done") r.activity_kind = val("activity_kind");
      if (r.event === "stage.reached") r.stage_id = val("stage_id");
      r.points = num(named(card, "points"));
      r.cap = num(named(card, "cap"));
      r.half_life_days = num(named(card, "half_life_days"));
    } else {
      r.question = named(card, "question").value;
      r.from_stage_id = val("from_stage_id");
      r.answers = {};
      card.querySelectorAll(".answer-row").forEach((row) => {
        const a = named(row, "answer").value, p = named(row, "answer_points");
        if (a.trim() || p.value.trim()) r.answers[a] = num(p) ?? 0;
      });
    }
    Object.keys(r).forEach((k) => r[k] === undefined && delete r[k]);
    return r;
  };

  const collectThresholds = () => {
    const f = root.querySelector(".thresholds");
    const t = {};
    for (const n of ["disqualify_below", "nurture_at", "rearm_gap"]) {
      const v = num(named(f, n));
      if (v !== undefined) t[n] = v;
    }
    for (const n of ["disqualify_action", "nurture_campaign_id"]) if (named(f, n).value) t[n] = named(f, n).value;
    if (named(f, "nurture_task").checked) t.nurture_task = true;
    else if (thresholds.nurture_task === false) t.nurture_task = false;
    // Stages the form does not list keep their level.
    const min = { ...(thresholds.min_score || {}) };
    f.querySelectorAll("[data-stage]").forEach((i) => {
      if (num(i) === undefined) delete min[i.dataset.stage];
      else min[i.dataset.stage] = num(i);
    });
    if (Object.keys(min).length) t.min_score = min;
    return t;
  };

  // The draft body the form shows.
  const collect = () => ({
    rules: cards().map(collectRule),
    thresholds: collectThresholds(),
    bands: [...root.querySelectorAll(".band-row")].map((row) => ({ name: named(row, "name").value, min: num(named(row, "min")) })),
  });

  // Why a body cannot be shown as the form, or "" when it can.
  const shapeError = (b) => {
    if (!b || typeof b !== "object" || Array.isArray(b)) return "{…}";
    if (b.rules !== undefined && !Array.isArray(b.rules)) return "rules";
    const bad = (b.rules || []).findIndex((r) => !r || typeof r !== "object" || !GROUPS.includes(r.group));
    if (bad >= 0) return `rules[${bad}].group`;
    if (b.bands !== undefined && !Array.isArray(b.bands)) return "bands";
    if (b.thresholds !== undefined && (typeof b.thresholds !== "object" || Array.isArray(b.thresholds))) return "thresholds";
    return "";
  };

  // Fills the form from a body; answers what in it the form cannot show
  // (and then leaves the form as it was).
  const render = (body) => {
    const err = shapeError(body);
    if (err) return err;
    root.querySelectorAll(".rule-group .rules, .bands-list").forEach((l) => l.replaceChildren());
    seq = 0;
    (body.rules || []).forEach((r) => root.querySelector(`.rule-group[data-group="${r.group}"] .rules`).append(ruleCard(r)));
    thresholds = body.thresholds || {};
    const f = root.querySelector(".thresholds");
    for (const n of ["disqualify_below", "nurture_at", "rearm_gap", "disqualify_action"]) named(f, n).value = text(thresholds[n]);
    choices(named(f, "nurture_campaign_id"), [...named(f, "nurture_campaign_id").options].slice(1).map((o) => [o.value, o.textContent]), thresholds.nurture_campaign_id, named(f, "nurture_campaign_id").options[0].textContent);
    named(f, "nurture_task").checked = thresholds.nurture_task === true;
    f.querySelectorAll("[data-stage]").forEach((i) => { i.value = text((thresholds.min_score || {})[i.dataset.stage]); });
    (body.bands || []).forEach((b) => root.querySelector(".bands-list").append(bandRow(b || {})));
    if (!editable) {
      root.querySelectorAll("input, select, textarea").forEach((i) => { i.disabled = true; });
      root.querySelectorAll(".remove-rule, .remove-answer, .remove-band, .add-answer").forEach((b) => b.remove());
    }
    return "";
  };

  const clearErrors = () => {
    root.querySelectorAll(".field-error").forEach((s) => { s.textContent = ""; s.hidden = true; });
    root.querySelectorAll("[aria-invalid]").forEach((i) => i.removeAttribute("aria-invalid"));
    root.querySelectorAll(".has-error").forEach((c) => c.classList.remove("has-error"));
  };

  const mark = (scope, name, fallback, message) => {
    const span = scope.querySelector(`[data-err="${name}"]`) || scope.querySelector(`[data-err="${fallback}"]`);
    if (!span) return null;
    span.textContent = span.textContent ? `${span.textContent} ${message}` : message;
    span.hidden = false;
    const input = span.closest("label")?.querySelector("input, select, textarea");
    if (input) input.setAttribute("aria-invalid", "true");
    return span;
  };

  // Puts each error of a 422 beside its input (`rules[2].half_life_days`,
  // `thresholds.nurture_at`, `bands[0].min`); answers how many found a place.
  const showErrors = (errors) => {
    clearErrors();
    const list = cards(), bands = [...root.querySelectorAll(".band-row")];
    let placed = 0, first = null;
    for (const e of errors || []) {
      let span = null, m;
      if ((m = /^rules\[(\d+)\](?:\.(\w+))?/.exec(e.field || "")) && list[m[1]]) {
        list[m[1]].classList.add("has-error");
        span = mark(list[m[1]], m[2] || "rule", "rule", e.message);
      } else if ((m = /^thresholds(?:\.(.+))?$/.exec(e.field || ""))) {
        span = mark(root.querySelector(".thresholds"), m[1] || "thresholds", "thresholds", e.message);
      } else if ((m = /^bands\[(\d+)\]\.(\w+)$/.exec(e.field || "")) && bands[m[1]]) {
        span = mark(bands[m[1]], m[2], "name", e.message);
      } else if (/^bands/.test(e.field || "")) {
        span = mark(root.querySelector(".bands-group"), "bands", "bands", e.message);
      }
      if (span) { placed++; first = first || span; }
    }
    if (first) first.closest(".rule-card, .band-row, fieldset").scrollIntoView({ block: "center" });
    return placed;
  };

  // The live counts beside each rule (in the body's order) and band.
  const showCounts = (p) => {
    cards().forEach((c, i) => {
      const n = p ? p.rules[i]?.deals : undefined;
      const el = c.querySelector(".rule-count");
      el.textContent = n === undefined ? "—" : fill(box.dataset.tMatching, { n });
      el.dataset.title ??= el.title;
      el.title = p ? el.dataset.title : box.dataset.tStale;
    });
    const of = (name) => p && p.bands.find((b) => b.band === name);
    const counts = (b) => (b ? fill(box.dataset.tBandCounts, { draft: b.draft, published: b.published ?? "—" }) : "—");
    root.querySelectorAll(".band-row").forEach((row) => { row.querySelector(".band-count").textContent = counts(of(named(row, "name").value.trim())); });
    root.querySelector(".band-below").textContent = `${box.dataset.tBelow}: ${counts(of(null))}`;
  };

  const init = (section, editor, admin, change) => {
    box = section;
    root = section.querySelector("#draft-form");
    opts = editor;
    editable = admin;
    onChange = change;
    root.addEventListener("change", (e) => { const c = e.target.closest(".rule-card"); if (c) toggle(c); });
    root.addEventListener("click", (e) => {
      const b = e.target.closest("button");
      if (!b || !editable) return;
      if (b.classList.contains("add-rule")) {
        const card = ruleCard({ group: b.dataset.group }); // last in order: seq only grows
        b.parentElement.querySelector(".rules").append(card);
        card.querySelector("input, select").focus();
      } else if (b.classList.contains("remove-rule")) b.closest(".rule-card").remove();
      else if (b.classList.contains("add-answer")) b.parentElement.querySelector(".answers").append(answerRow("", ""));
      else if (b.classList.contains("remove-answer")) b.closest(".answer-row").remove();
      else if (b.classList.contains("add-band")) root.querySelector(".bands-list").append(bandRow({}));
      else if (b.classList.contains("remove-band")) b.closest(".band-row").remove();
      else return;
      changed();
    });
    return { render, collect, showErrors, clearErrors, showCounts };
  };

  return { init };
})();
