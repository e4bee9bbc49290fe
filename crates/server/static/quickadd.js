// Quick add, on every page: the header's "+" opens a dialog with a small
// new-deal and a new-person form; both create through the JSON API with
// the session's CSRF token and then link to the new record; the board or
// list beneath shows it at once (app.js, lists.js).
"use strict";

(() => {
  // Its small stylesheet comes with the script (same content version).
  const me = document.currentScript;
  if (me) {
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = me.src.replace("quickadd.js", "quickadd.css");
    document.head.appendChild(link);
  }

  // Currencies without minor units; every other one has two.
  const ZERO_DIGITS = ["JPY", "KRW", "VND", "CLP", "ISK", "UGX", "XAF", "XOF", "PYG", "RWF"];

  async function call(dialog, method, path, body) {
    const resp = await fetch(path, {
      method,
      headers: { "content-type": "application/json", "x-csrf-token": dialog.dataset.csrf || "" },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
    const text = await resp.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (_) { data = null; }
    if (!resp.ok) {
      const fields = ((data && data.errors) || []).map((e) => (e.field ? `${e.field}: ${e.message}` : e.message));
      throw new Error(fields.join("; ") || (data && data.detail) || resp.statusText);
    }
    return data;
  }

  // Tells the page beneath (board, list) about the new record, so it can
  // show it at once: a "dealflow:created" event with {kind, record}.
  const announce = (kind, record) =>
    document.dispatchEvent(new CustomEvent("dealflow:created", { detail: { kind, record } }));

  function init(dialog) {
    const opener = document.getElementById("quick-add-open");
    const dealForm = dialog.querySelector("#qa-deal");
    const personForm = dialog.querySelector("#qa-person");
    const result = dialog.querySelector(".qa-result");
    const pipelineSel = dealForm.querySelector("select[name=pipeline_id]");
    const stageSel = dealForm.querySelector("select[name=stage_id]");
    let pipelines = null;
    let currency = "USD";

    const fillStages = () => {
      const first = stageSel.options[0];
      stageSel.replaceChildren(first);
      const p = (pipelines || []).find((x) => String(x.id) === pipelineSel.value);
      for (const s of (p ? p.stages : []).filter((s) => !s.archived)) stageSel.add(new Option(s.name, s.id));
      stageSel.disabled = !p;
    };

    async function load() {
      if (pipelines) return;
      try {
        const [ps, settings] = await Promise.all([
          call(dialog, "GET", "/api/v1/pipelines"),
          call(dialog, "GET", "/api/v1/settings"),
        ]);
        pipelines = ps.filter((p) => !p.archived);
        currency = settings.base_currency || currency;
        for (const p of pipelines) pipelineSel.add(new Option(p.name, p.id));
        fillStages();
      } catch (_) {
        pipelines = null; // the defaults still work
      }
    }

    const showError = (form, message) => {
      const el = form.querySelector(".qa-error");
      el.textContent = message;
      el.hidden = !message;
    };

    const showCreated = (href, label) => {
      const a = document.createElement("a");
      a.href = href;
      a.textContent = `${dialog.dataset.tOpenRecord}: ${label}`;
      result.replaceChildren(document.createTextNode(`${dialog.dataset.tCreated}. `), a);
      result.hidden = false;
      a.focus();
    };

    opener.addEventListener("click", () => {
      result.hidden = true;
      showError(dealForm, "");
      showError(personForm, "");
      dialog.showModal();
      dealForm.querySelector("input[name=title]").focus();
      load();
    });
    dialog.querySelector("[data-qa-close]").addEventListener("click", () => dialog.close());
    // A click on the backdrop (outside the dialog box) closes it too.
    dialog.addEventListener("click", (e) => { if (e.target === dialog) dialog.close(); });
    pipelineSel.addEventListener("change", fillStages);
    stageSel.disabled = true;

    dealForm.addEventListener("submit", async (e) => {
      e.preventDefault();
      const title = dealForm.elements.title.value.trim();
      if (!title) { showError(dealForm, dealForm.elements.title.validationMessage || "title"); dealForm.elements.title.focus(); return; }
      const body = { title };
      const raw = dealForm.elements.value.value.trim();
      if (raw !== "") {
        const digits = ZERO_DIGITS.includes(currency) ? 0 : 2;
        body.value = Math.round(Number(raw) * 10 ** digits);
      }
      if (pipelineSel.value) body.pipeline_id = pipelineSel.value;
      if (stageSel.value) body.stage_id = stageSel.value;
      showError(dealForm, "");
      try {
        const deal = await call(dialog, "POST", "/api/v1/deals", body);
        dealForm.reset();
        fillStages();
        showCreated(`/deals/${deal.id}`, deal.title);
        announce("deals", deal);
      } catch (err) {
        showError(dealForm, err.message);
      }
    });

    personForm.addEventListener("submit", async (e) => {
      e.preventDefault();
      const name = personForm.elements.name.value.trim();
      if (!name) { showError(personForm, personForm.elements.name.validationMessage || "name"); return; }
      const body = { name };
      const email = personForm.elements.email.value.trim();
      if (email) body.emails = [email];
      showError(personForm, "");
      try {
        const person = await call(dialog, "POST", "/api/v1/people", body);
        personForm.reset();
        showCreated(`/people/${person.id}`, person.name);
        announce("people", person);
      } catch (err) {
        showError(personForm, err.message);
      }
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    const dialog = document.getElementById("quick-add");
    if (dialog && document.getElementById("quick-add-open")) init(dialog);
  });
})();
