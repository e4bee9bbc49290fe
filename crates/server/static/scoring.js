// The scoring settings page: the draft is edited as JSON and saved with the
// version read (a concurrent edit is a 409, shown, never overwritten);
// publishing makes it the next version. Both reload the page, whose counts
// the server computes.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const draft = document.getElementById("draft");
  if (!draft) return;
  const page = document.querySelector(".scoring-page");
  const box = document.getElementById("draft-error");
  const show = (msg) => { box.textContent = msg; box.hidden = false; };
  const path = `/api/v1/scoring/models/${draft.dataset.model}`;

  const save = async () => {
    let body;
    try {
      body = JSON.parse(document.getElementById("draft-json").value);
    } catch (e) {
      show(`${page.dataset.tBadJson} ${e.message}`);
      return false;
    }
    const patch = { version: Number(draft.dataset.version), rules: body.rules, thresholds: body.thresholds, bands: body.bands };
    try {
      const m = await api("PATCH", path, patch);
      draft.dataset.version = String(m.version);
      return true;
    } catch (err) {
      show(err.message || page.dataset.tGeneric);
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
