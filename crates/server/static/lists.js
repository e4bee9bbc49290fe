// Lists of deals, people and organizations: row selection and bulk actions
// (change owner, move stage, delete with undo), and in-place editing on the
// detail pages. Every change goes through the JSON API, one record at a
// time with its version, using `api` and `toast` from app.js.
"use strict";

(function () {
  const fmt = (s, vars) => String(s || "").replace(/\{(\w+)\}/g, (_, k) => (k in vars ? vars[k] : ""));

  function listInit(table, bar) {
    const kind = bar.dataset.kind;
    const tr = bar.dataset;
    const report = document.getElementById("bulk-report");
    const all = document.getElementById("select-all");
    const count = document.getElementById("bulk-count");
    const rows = () => [...table.querySelectorAll("tbody tr")].filter((r) => !r.hidden);
    const picked = () => rows().filter((r) => r.querySelector(".pick").checked);
    let busy = false;

    const refresh = () => {
      const n = picked().length;
      const total = rows().length;
      count.textContent = `${n} ${tr.tSelected}`;
      all.checked = total > 0 && n === total;
      all.indeterminate = n > 0 && n < total;
      rows().forEach((r) => r.classList.toggle("picked", r.querySelector(".pick").checked));
      bar.querySelectorAll("button[data-action]").forEach((b) => { b.disabled = busy || n === 0; });
    };
    all.addEventListener("change", () => {
      rows().forEach((r) => { r.querySelector(".pick").checked = all.checked; });
      refresh();
    });
    table.addEventListener("change", (e) => { if (e.target.classList.contains("pick")) refresh(); });

    const showReport = (ok, total, refusals, template) => {
      report.textContent = "";
      const p = document.createElement("p");
      p.style.margin = "0";
      p.textContent = fmt(template || tr.tResult, { ok, total, n: ok });
      report.appendChild(p);
      if (refusals.length) {
        const ul = document.createElement("ul");
        ul.setAttribute("aria-label", tr.tRefused);
        for (const r of refusals) {
          const li = document.createElement("li");
          li.textContent = `${r.name}: ${r.message}`;
          ul.appendChild(li);
        }
        report.appendChild(ul);
      }
      report.hidden = false;
    };

    // Runs `each(row)` for every selected row in turn; returns the rows that
    // succeeded and the refusals with the server's message.
    async function run(targets, each) {
      busy = true;
      refresh();
      const done = [];
      const refusals = [];
      for (const row of targets) {
        try {
          await each(row);
          done.push(row);
        } catch (err) {
          refusals.push({ name: row.dataset.name, message: err.message });
        }
      }
      busy = false;
      refresh();
      return { done, refusals };
    }

    async function patchAll(body, after) {
      const targets = picked();
      if (!targets.length) { toast(tr.tNone); return; }
      const { done, refusals } = await run(targets, async (row) => {
        const rec = await api("PATCH", `/api/v1/${kind}/${row.dataset.id}`, {
          version: Number(row.dataset.version), ...body,
        });
        row.dataset.version = rec.version;
        after(row);
      });
      // Rows that changed are let go, so the next action cannot hit them by
      // accident; refused rows stay ticked for another try.
      done.forEach((row) => { row.querySelector(".pick").checked = false; });
      refresh();
      showReport(done.length, targets.length, refusals);
      toast(fmt(tr.tResult, { ok: done.length, total: targets.length }));
    }

    // Asks before a bulk delete, in the page's own dialog; answers whether
    // the user confirmed.
    function confirmDelete(n) {
      const dialog = document.getElementById("bulk-confirm");
      return new Promise((resolve) => {
        dialog.querySelector("p").textContent = fmt(tr.tConfirmDelete, { n });
        dialog.returnValue = "";
        dialog.addEventListener("close", () => resolve(dialog.returnValue === "yes"), { once: true });
        dialog.showModal();
      });
    }

    async function deleteAll() {
      const targets = picked();
      if (!targets.length) { toast(tr.tNone); return; }
      if (!(await confirmDelete(targets.length))) return;
      const { done, refusals } = await run(targets, async (row) => {
        await api("DELETE", `/api/v1/${kind}/${row.dataset.id}`);
        row.querySelector(".pick").checked = false;
        row.hidden = true;
      });
      refresh();
      showReport(done.length, targets.length, refusals, tr.tDeleted);
      if (done.length) undoToast(fmt(tr.tDeleted, { n: done.length }), () => restore(done));
    }

    async function restore(deleted) {
      const { done, refusals } = await run(deleted, async (row) => {
        const rec = await api("POST", `/api/v1/${kind}/${row.dataset.id}/restore`);
        row.dataset.version = rec.version;
        row.hidden = false;
      });
      refresh();
      showReport(done.length, deleted.length, refusals, tr.tRestored);
      toast(fmt(tr.tRestored, { n: done.length }));
    }

    // A toast with an Undo button; it stays a little longer than a plain one.
    function undoToast(message, onUndo) {
      const el = document.getElementById("toast");
      if (!el) return;
      el.textContent = "";
      const span = document.createElement("span");
      span.textContent = message;
      const btn = document.createElement("button");
      btn.type = "button";
      btn.className = "undo";
      btn.textContent = tr.tUndo;
      btn.addEventListener("click", () => {
        el.hidden = true;
        onUndo();
      }, { once: true });
      el.append(span, btn);
      el.hidden = false;
      clearTimeout(toast.timer);
      toast.timer = setTimeout(() => { el.hidden = true; }, 12000);
      btn.focus();
    }

    bar.addEventListener("click", (e) => {
      const b = e.target.closest("button[data-action]");
      if (!b || b.disabled) return;
      const action = b.dataset.action;
      if (action === "owner") {
        const sel = document.getElementById("bulk-owner");
        const name = sel.selectedOptions[0] ? sel.selectedOptions[0].textContent : "";
        patchAll({ owner_id: sel.value || null }, (row) => {
          const cell = row.querySelector(".owner-name");
          if (cell) cell.textContent = name;
        });
      } else if (action === "stage") {
        const sel = document.getElementById("bulk-stage");
        const [pipeline, stage] = sel.value.split(":");
        const name = sel.selectedOptions[0] ? sel.selectedOptions[0].textContent : "";
        patchAll({ pipeline_id: pipeline, stage_id: stage }, (row) => {
          const cell = row.querySelector(".stage");
          if (cell) cell.textContent = name;
        });
      } else if (action === "delete") {
        deleteAll();
      }
    });
    bar.addEventListener("submit", (e) => e.preventDefault());

    // A record made with quick add shows at once when this page of the
    // list (its filter, sort and page) holds it: the page is read again and
    // the new row put in its place; other rows and their ticks stay.
    document.addEventListener("dealflow:created", async (e) => {
      const { kind: made, record } = e.detail;
      if (made !== kind || table.querySelector(`tr[data-id="${record.id}"]`)) return;
      try {
        const r = await fetch(location.href, { credentials: "same-origin" });
        if (!r.ok) return;
        const doc = new DOMParser().parseFromString(await r.text(), "text/html");
        const row = doc.querySelector(`table.list tbody tr[data-id="${record.id}"]`);
        if (!row) return;
        let next = row.nextElementSibling;
        while (next && !table.querySelector(`tr[data-id="${next.dataset.id}"]`)) next = next.nextElementSibling;
        const body = table.querySelector("tbody");
        body.insertBefore(document.importNode(row, true),
          next ? table.querySelector(`tr[data-id="${next.dataset.id}"]`) : null);
        table.closest(".table-wrap")?.querySelector(".empty")?.remove();
        refresh();
      } catch (_) { /* it shows on the next load */ }
    });
    refresh();
  }

  // Detail pages: each field saves on change with the record's version.
  function recordInit(form) {
    const kind = form.dataset.kind;
    const state = form.querySelector(".save-state");
    const value = (f) => {
      if (f.dataset.type === "bool") return f.checked;
      const v = f.value.trim();
      switch (f.dataset.type) {
        case "list": return v.split(",").map((s) => s.trim()).filter(Boolean);
        case "nullable": return v || null;
        case "id": return v || null;
        case "int": return v === "" ? null : Number(v);
        default: return v;
      }
    };
    form.addEventListener("submit", (e) => e.preventDefault());
    form.addEventListener("change", async (e) => {
      const f = e.target;
      if (!f.name || !f.dataset.type) return;
      state.classList.remove("bad");
      try {
        const rec = await api("PATCH", `/api/v1/${kind}/${form.dataset.id}`, {
          version: Number(form.dataset.version), [f.name]: value(f),
        });
        form.dataset.version = rec.version;
        if (f.name === "name") {
          const h = document.getElementById("record-title");
          if (h) h.textContent = rec.name;
          document.title = document.title.replace(/^.*? · /, `${rec.name} · `);
        }
        state.textContent = form.dataset.tSaved;
      } catch (err) {
        state.classList.add("bad");
        state.textContent = `${form.dataset.tRefused}: ${err.message}`;
      }
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    const table = document.querySelector("table.list");
    const bar = document.getElementById("bulk");
    if (table && bar) listInit(table, bar);
    document.querySelectorAll("form.record").forEach(recordInit);
  });
})();
