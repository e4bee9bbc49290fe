// dealflow's admin pages: activities (complete in one click), settings
// (every form saves through the JSON API with the record's version) and
// search. Uses `api` and `toast` from app.js; the server validates and its
// messages are shown as they come.
"use strict";

// A message to show after the page reloads with fresh versions.
const FLASH = "dealflow.flash";

function flashAndReload(message) {
  try { sessionStorage.setItem(FLASH, message); } catch (_) { /* private mode */ }
  location.reload();
}

// Builds the JSON body of an API form from its named controls:
//   data-multi checkboxes → array of numbers; data-multi-text → array of
//   strings; other checkboxes → boolean;
//   data-rates → {"EUR": 1.08}; data-list → ["a", "b"];
//   data-stages → [{name}]; number inputs and data-number selects → numbers;
//   empty values are left out, or sent as null with data-nullable.
function formBody(form) {
  const body = {};
  for (const el of form.elements) {
    if (!el.name || el.disabled) continue;
    const d = el.dataset;
    if (el.type === "checkbox" && "multiText" in d) {
      if (!body[el.name]) body[el.name] = [];
      if (el.checked) body[el.name].push(el.value);
      continue;
    }
    if (el.type === "checkbox" && "multi" in d) {
      if (!body[el.name]) body[el.name] = [];
      if (el.checked) body[el.name].push(Number(el.value));
      continue;
    }
    if (el.type === "checkbox") { body[el.name] = el.checked; continue; }
    const v = el.value.trim();
    if ("rates" in d) {
      const rates = {};
      for (const line of v.split(/\n|,/)) {
        const [code, rate] = line.split(/[=:]/).map((s) => (s || "").trim());
        if (code) rates[code.toUpperCase()] = Number(rate);
      }
      body[el.name] = rates;
    } else if ("list" in d) {
      body[el.name] = v.split(/[,\n]/).map((s) => s.trim()).filter(Boolean);
    } else if ("stages" in d) {
      body[el.name] = v.split("\n").map((s) => s.trim()).filter(Boolean).map((name) => ({ name }));
    } else if (v === "") {
      if ("nullable" in d) body[el.name] = null;
    } else if (el.type === "number" || "number" in d) {
      body[el.name] = Number(v);
    } else {
      body[el.name] = v;
    }
  }
  if (form.dataset.version) body.version = Number(form.dataset.version);
  return body;
}

// Replaces the element `id` with its fresh copy from the server (this page
// read again), so a new record shows without a reload.
async function refreshPart(id) {
  const old = id && document.getElementById(id);
  if (!old) return;
  try {
    const r = await fetch(location.href, { credentials: "same-origin" });
    if (!r.ok) return;
    const fresh = new DOMParser().parseFromString(await r.text(), "text/html").getElementById(id);
    if (fresh) old.replaceWith(document.importNode(fresh, true));
  } catch (_) { /* it shows on the next load */ }
}

function settingsInit(root) {
  const saved = root.dataset.tSaved;
  const setBusy = (el, busy) => el.querySelectorAll("button").forEach((b) => { b.disabled = busy; });

  root.addEventListener("submit", async (e) => {
    const form = e.target.closest("form.api-form");
    if (!form) return;
    e.preventDefault();
    setBusy(form, true);
    try {
      const result = await api(form.dataset.method, form.dataset.path, formBody(form));
      if (form.dataset.success === "secret") {
        const box = document.getElementById("token-secret");
        box.querySelector("code").textContent = result.secret;
        box.hidden = false;
        box.querySelector("code").focus();
        form.reset();
        toast(saved);
        await refreshPart(form.dataset.refresh);
      } else if (form.dataset.success === "secrets") {
        // What a create shows once: the addresses and the secrets.
        const keys = ["ingest_url", "inbound_url", "endpoint", "username", "signing_key", "password", "secret"];
        const box = document.getElementById("token-secret");
        box.querySelector("code").textContent =
          keys.filter((k) => result[k]).map((k) => `${k}: ${result[k]}`).join("\n");
        box.hidden = false;
        box.querySelector("code").focus();
        form.reset();
        toast(saved);
      } else if (form.dataset.success === "reassigned") {
        flashAndReload(root.dataset.tReassigned
          .replace("{deals}", result.deals).replace("{activities}", result.activities));
      } else {
        flashAndReload(saved);
      }
    } catch (err) {
      toast(err.message || root.dataset.tGeneric);
    } finally {
      setBusy(form, false);
    }
  });

  root.addEventListener("click", async (e) => {
    const btn = e.target.closest("button.api-btn");
    if (!btn) return;
    e.preventDefault();
    if (btn.dataset.confirm && !window.confirm(btn.dataset.confirm)) return;
    const body = btn.dataset.body ? JSON.parse(btn.dataset.body) : {};
    if (btn.dataset.version) body.version = Number(btn.dataset.version);
    btn.disabled = true;
    try {
      const method = btn.dataset.method;
      await api(method, btn.dataset.path, method === "DELETE" ? undefined : body);
      flashAndReload(saved);
    } catch (err) {
      toast(err.message || root.dataset.tGeneric);
      btn.disabled = false;
    }
  });
}

function activitiesInit(root) {
  // Each group's count, and its "nothing here" line when it is empty.
  const recount = (group) => {
    const n = group.querySelectorAll(".act").length;
    group.querySelector("h2 .count").textContent = String(n);
    const empty = group.querySelector(".group-empty");
    if (empty) empty.hidden = n > 0;
  };
  // An activity whose due time passes while the page is open moves to
  // Overdue (the latest due, so last there).
  const overdue = root.querySelector(".act-group.overdue");
  if (overdue) {
    onDuePassed(".act-group:not(.overdue) .act", (item) => {
      const from = item.closest(".act-group");
      overdue.querySelector(".act-list").appendChild(item);
      recount(from);
      recount(overdue);
    });
  }

  root.addEventListener("click", async (e) => {
    const btn = e.target.closest("button[data-complete]");
    if (!btn) return;
    btn.disabled = true;
    const item = btn.closest(".act");
    try {
      await api("PATCH", `/api/v1/activities/${btn.dataset.complete}`, {
        version: Number(btn.dataset.version), done_at: new Date().toISOString(),
      });
      const group = item.closest(".act-group");
      // Keep keyboard focus nearby: the next activity's button, else the heading.
      const next = item.nextElementSibling || item.previousElementSibling;
      item.remove();
      if (group) recount(group);
      const target = next && next.querySelector("button[data-complete]");
      if (target) target.focus();
      toast(root.dataset.tDone);
    } catch (err) {
      btn.disabled = false;
      toast(err.message || root.dataset.tGeneric);
    }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  let flash = null;
  try { flash = sessionStorage.getItem(FLASH); sessionStorage.removeItem(FLASH); } catch (_) { flash = null; }
  if (flash) toast(flash);
  const settings = document.querySelector(".admin-page.settings");
  if (settings) settingsInit(settings);
  const acts = document.querySelector(".admin-page.activities");
  if (acts) activitiesInit(acts);
});
