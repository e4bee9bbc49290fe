// The board's playbook gate. While a card is dragged, the columns it may
// not enter now are marked (from GET /api/v1/deals/{id}/moves); a drop on
// one opens a dialog naming the open required steps, where a deal's missing
// field can be filled right away (PATCH the deal, then the move is tried
// again) and, for the roles that may, the move made anyway with a reason.
// The server decides every move; this only explains its answer early.
"use strict";

// A property of `window`, since app.js asks whether the board has it.
window.boardGate = (() => {
  // The moves of a card at a version: a drag asks once, the drop reuses it.
  const cache = new Map();
  const movesOf = (card) => {
    const key = `${card.dataset.id}:${card.dataset.version}`;
    if (!cache.has(key)) {
      cache.set(key, api("GET", `/api/v1/deals/${card.dataset.id}/moves`).catch(() => null));
    }
    return cache.get(key);
  };

  // The move of `card` to stage `stage` (an id), or to won when `null`.
  async function moveTo(card, stage) {
    const moves = await movesOf(card);
    if (!moves) return null;
    return moves.find((m) => (stage === null ? m.target === "won" : m.stage_id === stage)) || null;
  }

  // Marks the columns (and Won) the dragged card may not enter now.
  function mark(board, card) {
    movesOf(card).then((moves) => {
      if (!moves || !card.classList.contains("dragging")) return;
      for (const col of board.querySelectorAll(".column")) {
        const m = moves.find((x) => x.stage_id === col.dataset.stage);
        col.classList.toggle("no-entry", !!m && !m.allowed && m.open_steps.length > 0);
      }
      const won = moves.find((x) => x.target === "won");
      document.querySelector(".drop.won")?.classList.toggle("no-entry", !!won && !won.allowed && won.open_steps.length > 0);
    });
  }

  function unmark() {
    document.querySelectorAll(".no-entry").forEach((el) => el.classList.remove("no-entry"));
  }

  // Built-in deal fields the dialog can fill, with their input type.
  const BUILT_IN = { expected_close_date: "date", probability: "number", contract_months: "number", title: "text", source: "text" };
  const CUSTOM = { text: "text", number: "number", money: "number", date: "date", single_select: "select" };

  // An input for an open field step on the deal itself, or null when the
  // step is not one the dialog can fill (another kind, a person's or an
  // organization's field, a yes/no field).
  function fieldInput(step, defs) {
    if (!step || step.kind !== "field" || !step.field) return null;
    let type = BUILT_IN[step.field];
    let def = null;
    if (step.field.startsWith("custom.")) {
      def = defs.find((d) => d.key === step.field.slice("custom.".length));
      type = def && CUSTOM[def.kind];
    }
    if (!type) return null;
    let input;
    if (type === "select") {
      input = document.createElement("select");
      input.append(new Option("", ""), ...def.options.map((o) => new Option(o, o)));
    } else {
      input = document.createElement("input");
      input.type = type;
      if (type === "number") input.step = "any";
    }
    input.name = step.field;
    input.required = true;
    input.dataset.number = type === "number" ? "1" : "";
    return input;
  }

  // Puts each error of a problem document next to the input it names, the
  // rest under the list.
  function showProblem(dialog, err) {
    const general = dialog.querySelector(".error");
    const rest = [];
    for (const e of (err.problem && err.problem.errors) || []) {
      const input = dialog.querySelector(`.open-steps [name="${CSS.escape(e.field)}"]`);
      const slot = input && input.closest("li").querySelector(".field-error");
      if (slot) { slot.textContent = e.message; slot.hidden = false; } else rest.push(e.message);
    }
    if (rest.length || !(err.problem && err.problem.errors && err.problem.errors.length)) {
      general.textContent = rest.join("; ") || err.message;
      general.hidden = false;
    }
  }

  // Opens the dialog for a blocked `move` of `card`: `again()` tries the
  // move once more (after a field was filled), `force(reason)` makes it
  // with an override reason.
  async function explain(board, card, move, again, force) {
    const dialog = document.getElementById("moves-dialog");
    if (!dialog) return;
    const stage = card.closest(".column").dataset.stage;
    const [steps, defs] = await Promise.all([
      api("GET", `/api/v1/stages/${stage}/steps`).catch(() => []),
      api("GET", "/api/v1/custom-fields?entity=deal").catch(() => []),
    ]);
    const list = dialog.querySelector(".open-steps");
    const general = dialog.querySelector(".error");
    const fill = dialog.querySelector('button[value="fill"]');
    const over = dialog.querySelector(".override");
    const reason = over.querySelector("textarea");
    list.replaceChildren();
    general.hidden = true;
    reason.value = "";
    const inputs = [];
    for (const open of move.open_steps) {
      const li = document.createElement("li");
      li.dataset.step = open.id;
      const input = fieldInput(steps.find((s) => s.id === open.id), defs);
      if (input) {
        const label = document.createElement("label");
        label.append(open.title, " ", input);
        li.append(label);
        inputs.push(input);
      } else {
        const link = document.createElement("a");
        link.href = `/deals/${card.dataset.id}`;
        link.textContent = board.dataset.tOpenDeal;
        li.append(open.title, " (", link, ")");
      }
      const slot = document.createElement("span");
      slot.className = "field-error";
      slot.hidden = true;
      li.append(slot);
      list.append(li);
    }
    fill.hidden = inputs.length === 0;
    over.hidden = board.dataset.mayOverride !== "1";
    const clearErrors = () => {
      general.hidden = true;
      list.querySelectorAll(".field-error").forEach((s) => { s.hidden = true; });
    };
    fill.onclick = async () => {
      clearErrors();
      const body = { version: Number(card.dataset.version) };
      for (const input of inputs) {
        const v = input.dataset.number && input.value !== "" ? Number(input.value) : input.value;
        if (input.name.startsWith("custom.")) body.custom = { ...body.custom, [input.name.slice(7)]: v === "" ? null : v };
        else body[input.name] = v === "" ? null : v;
      }
      try {
        const deal = await api("PATCH", `/api/v1/deals/${card.dataset.id}`, body);
        card.dataset.version = deal.version;
        dialog.close();
        again();
      } catch (err) {
        showProblem(dialog, err);
      }
    };
    over.querySelector("button").onclick = () => {
      clearErrors();
      if (!reason.value.trim()) {
        general.textContent = board.dataset.tReasonNeeded;
        general.hidden = false;
        reason.focus();
        return;
      }
      dialog.close();
      force(reason.value.trim());
    };
    dialog.showModal();
  }

  // After a move, the card shows its new stage's checklist.
  async function refresh(board, card) {
    const badge = card.querySelector(".steps");
    if (!badge) return;
    try {
      const items = await api("GET", `/api/v1/deals/${card.dataset.id}/steps`);
      const isDone = (i) => i.status === "done" || i.status === "skipped";
      const blocked = items.some((i) => i.required && !isDone(i));
      const text = `${items.filter(isDone).length}/${items.length}`;
      badge.hidden = items.length === 0;
      badge.classList.toggle("blocked", blocked);
      card.classList.toggle("blocked", blocked);
      const label = blocked ? board.dataset.tBlocked : board.dataset.tSteps;
      badge.title = label;
      badge.setAttribute("aria-label", `${label}: ${text}`);
      badge.querySelector(".stop")?.remove();
      if (blocked) {
        const stop = document.createElement("span");
        stop.className = "stop";
        stop.setAttribute("aria-hidden", "true");
        stop.textContent = "⚑";
        badge.prepend(stop);
      }
      badge.querySelector(".n").textContent = text;
    } catch (_) {
      // the badge fixes itself on the next load of the board
    }
  }

  return { moveTo, mark, unmark, explain, refresh };
})();
