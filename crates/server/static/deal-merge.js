// The deal page's in-place edits when someone else changed the deal
// meanwhile. An edit sends only its field and the version the page knows;
// on a stale version (409) the page reads the deal again. When the edited
// field is as it was when the user started, the edit is sent again on the
// new version, once, and the page shows the other change. When the same
// field changed too, both values are shown and the user chooses. What the
// user typed stays in the field until then.
"use strict";

// Loaded before deal.js, which calls dealMerge() once with what it needs:
// root (#deal), form (#fields), call(method, path, body), setVersion(v).
function dealMerge({ root, form, call, setVersion }) {
  const url = `/api/v1/deals/${root.dataset.id}`;
  const box = document.getElementById("merge");
  let base = null; // the deal as the page last knew it
  // A field's value from when the user started editing it, kept while the
  // page takes a newer deal around the edit.
  const held = new Map();
  const key = (p) => p.join(".");
  try { base = JSON.parse(document.getElementById("deal-record").textContent); } catch (_) { base = null; }

  // Equal as JSON, whatever the order of an object's keys.
  const canon = (v) => JSON.stringify(v ?? null, (_, x) =>
    x && typeof x === "object" && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort()) : x);
  const same = (a, b) => canon(a) === canon(b);

  // The fields a PATCH body changes, as paths: ["source"], ["custom", key].
  const paths = (body) => Object.keys(body).flatMap((k) =>
    k === "custom" ? Object.keys(body.custom).map((c) => ["custom", c]) : [[k]]);
  const get = (rec, p) => (p.length === 2 ? (rec.custom || {})[p[1]] : rec[p[0]]) ?? null;
  const merged = (rec, body) => ({ ...rec, ...body, custom: { ...rec.custom, ...(body.custom || {}) } });

  const digitsOf = (code) => Number(form.querySelector(`select[name=currency] option[value="${code}"]`)?.dataset.digits ?? root.dataset.digits ?? 2);
  // Minor units as the page writes them: 1250050 → "12500.5", 1200000 → "12000".
  function major(minor, digits) {
    const scale = 10 ** digits;
    const whole = Math.trunc(Math.abs(minor) / scale);
    const frac = Math.abs(minor) % scale;
    const sign = minor < 0 ? "-" : "";
    return frac ? `${sign}${whole}.${String(frac).padStart(digits, "0")}` : `${sign}${whole}`;
  }

  // The controls of the form, each with the path it edits.
  function controls() {
    const out = [];
    form.querySelectorAll("[data-field]:not([data-by-id])").forEach((el) => out.push([[el.dataset.field], el]));
    form.querySelectorAll("[data-custom]").forEach((el) => out.push([["custom", el.dataset.custom], el]));
    return out;
  }
  const controlOf = (p) => controls().find(([q]) => q.join(".") === p.join("."))?.[1];

  // What a control shows for `rec`: a string, or a checkbox's state.
  function shown(path, el, rec) {
    const v = get(rec, path);
    if (path[0] === "value") return major(v || 0, digitsOf(rec.currency));
    if (el.dataset.kind === "boolean") return v === true;
    if (el.dataset.kind === "money") return v ? [major(v.value, digitsOf(v.currency)), v.currency] : ["", null];
    return v == null ? "" : String(v);
  }
  function read(el) {
    if (el.dataset.kind === "boolean") return el.checked;
    if (el.dataset.kind === "money") {
      return [el.querySelector("[data-part=amount]").value.trim(), el.querySelector("[data-part=currency]").value];
    }
    return el.value.trim();
  }
  function write(el, v) {
    if (el.dataset.kind === "boolean") { el.checked = v; return; }
    if (el.dataset.kind === "money") {
      el.querySelector("[data-part=amount]").value = v[0];
      if (v[1]) el.querySelector("[data-part=currency]").value = v[1];
      return;
    }
    if (el.tagName === "SELECT" && ![...el.options].some((o) => o.value === v)) return;
    el.value = v;
  }
  // A value as the user reads it: an option's label, "—" for nothing.
  function label(path, el, rec) {
    const v = shown(path, el, rec);
    if (typeof v === "boolean") return v ? "✓" : "✗";
    if (Array.isArray(v)) return v[0] ? `${v[0]} ${v[1]}` : "—";
    if (path[0] === "value") return `${v} ${rec.currency}`;
    if (el.tagName === "SELECT") return [...el.options].find((o) => o.value === v)?.textContent.trim() || v || "—";
    return v || "—";
  }
  const nameOf = (el) => {
    const holder = el.closest("label, fieldset");
    if (!holder) return "";
    if (holder.tagName === "FIELDSET") return holder.querySelector("legend").textContent.trim();
    return [...holder.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent).join("").trim();
  };

  // Takes `rec` as the deal the page knows: the version, and every field
  // the user is not editing (one whose control still shows the old value).
  // `saved` is the control just saved: it shows the stored value.
  function accept(rec, except, saved) {
    const old = base;
    base = rec;
    setVersion(rec.version);
    for (const [path, el] of controls()) {
      if (el !== saved && (except.includes(el) || (old && !same(read(el), shown(path, el, old))))) {
        if (old && !held.has(key(path))) held.set(key(path), get(old, path));
        continue;
      }
      write(el, shown(path, el, rec));
    }
  }
  const release = (body) => paths(body).forEach((p) => held.delete(key(p)));

  async function send(body, version, el) {
    const d = await call("PATCH", url, { version, ...body });
    release(body);
    accept(d, [], el);
    return d;
  }

  // Saves `body` (the edit of `el`), merging with changes made elsewhere.
  // Resolves with the saved deal, or null when the user took the current
  // value instead; rejects as call() does otherwise.
  async function save(el, body, started = base, version = started ? started.version : Number(root.dataset.version)) {
    try {
      return await send(body, version, el);
    } catch (err) {
      if (!err.stale || !started) throw err;
    }
    const fresh = await call("GET", url);
    const was = (p) => (held.has(key(p)) ? held.get(key(p)) : get(started, p));
    const clashes = paths(body).filter((p) => !same(get(fresh, p), was(p)));
    const mine = clashes.map(controlOf).filter(Boolean);
    accept(fresh, [el, ...mine]);
    if (!clashes.length) return send(body, fresh.version, el); // once: a second 409 is refused
    return choose(el, body, fresh, clashes);
  }

  // Shows both values of each clashing field; waits for the user's choice.
  function choose(el, body, fresh, clashes) {
    const list = box.querySelector(".both");
    list.replaceChildren(...clashes.map((p) => {
      const c = controlOf(p) || el;
      const li = document.createElement("li");
      const yours = box.dataset.tYours.replace("{value}", label(p, c, merged(fresh, body)));
      const now = box.dataset.tNow.replace("{value}", label(p, c, fresh));
      li.textContent = `${nameOf(c)} — ${yours} / ${now}`;
      return li;
    }));
    box.hidden = false;
    box.querySelector("[data-action=keep-mine]").focus();
    return new Promise((resolve, reject) => {
      box.onclick = (e) => {
        const b = e.target.closest("button[data-action]");
        if (!b) return;
        box.hidden = true;
        box.onclick = null;
        release(body);
        if (b.dataset.action === "keep-mine") {
          save(el, body, fresh).then(resolve, reject);
        } else {
          for (const p of clashes) {
            const c = controlOf(p);
            if (c) write(c, shown(p, c, fresh));
          }
          el.removeAttribute("aria-invalid");
          resolve(null);
        }
      };
    });
  }

  return { save };
}
