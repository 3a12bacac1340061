// The viewer's screens: the feed with and without Vouch, the explain view (trust paths as a
// graph, the reasons and the negative evidence) and the policy editor with its preview.
// Every verdict, reason and sentence is the node's JSON, shown as the CLI shows it.

import { call, seg, refPath, h, keyEl, when, ApiError } from "./api.js";
import { trustGraph } from "./graph.js";

const VERDICTS = ["show", "warn", "collapse", "hide"];

function verdictBadge(v) {
  return h("span", { class: `verdict v-${v}` }, v);
}

function errorBox(e) {
  return h("p", { class: "error", role: "alert" }, e instanceof ApiError ? `${e.message} (${e.status})` : String(e));
}

// ---- feed ----------------------------------------------------------------------------

export async function feedScreen(ctx, main) {
  const t0 = performance.now();
  if (!ctx.group) {
    main.replaceChildren(h("h1", {}, "Feed"), h("p", {}, "This viewer follows no group: add one in the policy (groups)."));
    return;
  }
  const page = await call("GET", `/v1/groups/${refPath(ctx.group)}/posts?limit=300`);
  const items = page.posts.map((p) => ({ post: p.id }));
  const decided = items.length
    ? await call("POST", `/v1/viewers/${seg(ctx.viewer)}/decide`, { items })
    : { decisions: [] };
  const counts = { show: 0, warn: 0, collapse: 0, hide: 0 };
  const rows = page.posts.map((p, i) => {
    const d = decided.decisions[i] || {};
    const verdict = d.verdict || "error";
    if (counts[verdict] !== undefined) counts[verdict]++;
    const plain = h("article", { class: "post" },
      h("div", { class: "meta" }, keyEl(p.author, ctx.names), " · ", when(p.at)),
      h("p", { class: "text" }, p.text));
    const reasons = (d.reasons || []).filter((r) => r.effect !== "show" || verdict === "show").slice(0, 3);
    const explain = h("a", { href: `#/explain/${seg(p.id)}/${seg(p.author)}`, class: "explain" }, "Why?");
    let vouched;
    if (d.error) {
      vouched = h("article", { class: "post v-error" }, h("p", {}, `${d.error.code}: ${d.error.message}`));
    } else if (verdict === "hide") {
      vouched = h("article", { class: "post hidden-post" },
        h("div", { class: "meta" }, verdictBadge(verdict), " ", explain),
        h("ul", { class: "reasons" }, reasons.map((r) => h("li", {}, r.sentence))));
    } else {
      const body = h("p", { class: "text" }, p.text);
      const inner = [h("div", { class: "meta" }, verdictBadge(verdict), " ", keyEl(p.author, ctx.names), " · ", explain)];
      if (verdict === "collapse") {
        inner.push(h("details", {}, h("summary", {}, "Collapsed: show the post"), body));
      } else inner.push(body);
      inner.push(h("ul", { class: "reasons" }, reasons.map((r) => h("li", {}, r.sentence))));
      vouched = h("article", { class: `post v-${verdict}-post` }, ...inner);
    }
    return h("li", { class: "row", "data-post": p.id, "data-verdict": verdict }, plain, vouched);
  });
  main.replaceChildren(
    h("h1", {}, "Feed"),
    h("p", { class: "summary", id: "feed-summary" },
      `${page.posts.length} of ${page.total} posts in ${ctx.groupName}: `,
      VERDICTS.map((v) => `${counts[v]} ${v}`).join(", ")),
    h("div", { class: "columns-head", "aria-hidden": "true" }, h("span", {}, "Without Vouch"), h("span", {}, "With Vouch")),
    h("ol", { class: "feed", "aria-label": "Posts, without and with Vouch" }, rows));
  // First render of the feed, measured for specs/console.md (read by the browser test).
  window.vouchTimings = { feedMs: performance.now() - t0, feedSinceNavigationMs: performance.now(), posts: page.posts.length };
}

// ---- explain -------------------------------------------------------------------------

export async function explainScreen(ctx, main, subject, author) {
  const v = seg(ctx.viewer);
  main.replaceChildren(h("h1", {}, "Why"), h("p", {}, "Asking the node…"));
  const [decision, trust] = await Promise.all([
    call("GET", `/v1/viewers/${v}/explain/${seg(subject)}`),
    call("GET", `/v1/viewers/${v}/trust/${seg(author || subject)}`),
  ]);
  const neg = trust.negative_evidence || [];
  main.replaceChildren(
    h("h1", {}, "Why: ", verdictBadge(decision.verdict)),
    h("p", {}, "Subject ", h("code", {}, subject), author ? [" by ", keyEl(author, ctx.names)] : ""),
    h("h2", {}, "Reasons"),
    h("ul", { class: "reasons", id: "explain-reasons" },
      decision.reasons.map((r) => h("li", {}, verdictBadge(r.effect), " ", r.sentence))),
    h("h2", {}, "Trust paths"),
    h("p", {}, `Trust score ${trust.score.toFixed(3)}, reach ${trust.reach.toFixed(3)}`,
      trust.direct ? " (you attested this author)" : "",
      trust.known ? "" : " (the trust graph has not seen this author)"),
    trust.paths.length
      ? h("figure", { class: "graph-box" }, trustGraph(trust, ctx.names),
          h("figcaption", {}, `${trust.paths.length} strongest paths; line width: the share of trust that travels along it`))
      : h("p", { id: "no-paths" }, "No trust path from you to this author."),
    h("h2", {}, "Negative evidence"),
    neg.length
      ? h("table", { class: "evidence" },
          h("thead", {}, h("tr", {}, ["rater", "kind", "level", "your trust in the rater", "weight"].map((c) => h("th", { scope: "col" }, c)))),
          h("tbody", {}, neg.map((e) => h("tr", {},
            h("td", {}, keyEl(e.rater, ctx.names)), h("td", {}, e.kind), h("td", {}, e.level),
            h("td", {}, e.rater_trust.toFixed(3)), h("td", {}, e.weight.toFixed(3))))))
      : h("p", {}, "None."),
    h("p", {}, h("a", { href: "#/feed" }, "Back to the feed")));
}

// ---- policy --------------------------------------------------------------------------

// An editable table for one array of the policy: one row per element, one input per field
// (text, number or a verdict), a remove button, and an add row. `onchange` after each edit.
function arrayEditor(id, title, rows, fields, blank, onchange) {
  const body = h("tbody", {});
  const input = (f, value, label, set) => f.type === "verdict"
    ? h("select", { "aria-label": label, onchange: (e) => set(e.target.value) }, VERDICTS.map((v) => h("option", { value: v, selected: v === value }, v)))
    : h("input", { type: f.type || "text", step: f.step, min: f.min, max: f.max, size: f.size || 12, value: value ?? "", "aria-label": label,
        onchange: (e) => set(f.type === "number" ? Number(e.target.value) : e.target.value.trim()) });
  function draw() {
    body.replaceChildren(...rows().map((row, i) => h("tr", {},
      fields.map((f) => h("td", {}, input(f, row[f.name], `${title} ${i + 1}: ${f.label}`, (v) => { row[f.name] = v; onchange(); }))),
      h("td", {}, h("button", { type: "button", onclick: () => { rows().splice(i, 1); draw(); onchange(); } }, "Remove")))));
  }
  draw();
  return { redraw: draw, el: h("section", { id },
    h("h3", {}, title),
    h("table", {}, h("thead", {}, h("tr", {}, fields.map((f) => h("th", { scope: "col" }, f.label)), h("th", {}, ""))), body),
    h("button", { type: "button", onclick: () => { rows().push(structuredClone(blank)); draw(); onchange(); } }, `Add to ${title.toLowerCase()}`)) };
}

export async function policyScreen(ctx, main) {
  const v = seg(ctx.viewer);
  const current = await call("GET", `/v1/viewers/${v}/policy`);
  let draft = structuredClone(current);
  const canSave = ctx.who.role === "admin" || ctx.who.scope === "policy";
  const listRows = h("tbody", {});
  const preview = h("section", { id: "preview", "aria-live": "polite" });
  const raw = h("textarea", { id: "policy-json", rows: 14, spellcheck: "false" });
  const unknown = h("select", { id: "unknown-author" }, VERDICTS.map((x) => h("option", { value: x }, x)));
  const groupRules = h("input", { type: "checkbox", id: "group-rules" });
  const newList = h("input", { id: "new-list", placeholder: "did:key:…/list-name", size: 40 });
  const newWeight = h("input", { id: "new-weight", type: "number", step: "0.1", value: "1", min: "0", max: "10" });

  function fill() {
    draft.quorum ||= { min_lists: 1, min_weight: 0 };
    for (const k of ["lists", "curators", "overrides", "exemptions", "labelers"]) draft[k] ||= [];
    listRows.replaceChildren(...draft.lists.map((l, i) => h("tr", {},
      h("td", {}, h("code", {}, l.list)),
      h("td", {}, h("input", { type: "number", step: "0.1", min: "0", max: "10", value: l.weight, "aria-label": `weight of ${l.list}`,
        onchange: (e) => { draft.lists[i].weight = Number(e.target.value); sync(); } })),
      h("td", {}, h("button", { type: "button", onclick: () => { draft.lists.splice(i, 1); fill(); } }, "Unsubscribe")))));
    unknown.value = draft.unknown_author;
    groupRules.checked = !!draft.group_rules;
    quorumLists.value = draft.quorum.min_lists;
    quorumWeight.value = draft.quorum.min_weight;
    labelers.value = (draft.labelers || []).join(", ");
    for (const e of editors) e.redraw();
    sync();
  }
  function sync() { raw.value = JSON.stringify(draft, null, 2); }
  function fromRaw() {
    try { draft = JSON.parse(raw.value); return true; } catch (e) {
      preview.replaceChildren(errorBox(`The JSON does not parse: ${e.message}`));
      return false;
    }
  }
  const quorumLists = h("input", { id: "quorum-lists", type: "number", min: "1", step: "1", size: 4 });
  const quorumWeight = h("input", { id: "quorum-weight", type: "number", min: "0", step: "0.1", size: 4 });
  quorumLists.addEventListener("change", () => { draft.quorum.min_lists = Number(quorumLists.value); sync(); });
  quorumWeight.addEventListener("change", () => { draft.quorum.min_weight = Number(quorumWeight.value); sync(); });
  const editors = [
    arrayEditor("curators", "Curators (all their lists, and lists of curators they trust, to a depth)", () => draft.curators,
      [{ name: "curator", label: "curator did:key", size: 30 }, { name: "weight", label: "weight", type: "number", step: "0.1", min: "0", size: 4 },
       { name: "depth", label: "depth", type: "number", step: "1", min: "0", max: "3", size: 3 }],
      { curator: "", weight: 1, depth: 1, decay: 0.5 }, sync),
    arrayEditor("overrides", "Overrides (your own verdicts)", () => draft.overrides,
      [{ name: "subject", label: "did:key or post CID", size: 30 }, { name: "verdict", label: "verdict", type: "verdict" }],
      { subject: "", verdict: "show" }, sync),
    arrayEditor("exemptions", "Exemptions (list entries you ignore)", () => draft.exemptions,
      [{ name: "list", label: "list owner/name", size: 24 }, { name: "subject", label: "subject", size: 24 }],
      { list: "", subject: "" }, sync),
  ];
  const labelers = h("input", { id: "labelers", size: 40, placeholder: "did:key:…, did:key:…" });
  labelers.addEventListener("change", () => {
    draft.labelers = labelers.value.split(",").map((x) => x.trim()).filter(Boolean); sync();
  });
  unknown.addEventListener("change", () => { draft.unknown_author = unknown.value; sync(); });
  groupRules.addEventListener("change", () => { draft.group_rules = groupRules.checked; sync(); });
  raw.addEventListener("change", () => { if (fromRaw()) fill(); });

  async function doPreview() {
    if (!fromRaw()) return null;
    try {
      const d = await call("POST", `/v1/viewers/${v}/diff`, draft);
      const hides = d.changes.filter((c) => c.after === "hide" && c.before !== "hide").length;
      const shows = d.changes.filter((c) => c.before === "hide" && c.after !== "hide").length;
      preview.replaceChildren(
        h("h2", {}, "What this change would do"),
        h("p", { id: "preview-counts" }, `${d.changes.length} authors change: ${hides} newly hidden, ${shows} no longer hidden.`),
        d.sentences.length ? h("ul", { id: "preview-sentences" }, d.sentences.map((x) => h("li", {}, x))) : h("p", {}, "Nothing changes."),
        d.changes.length ? h("table", { class: "changes" },
          h("thead", {}, h("tr", {}, ["author", "now", "after", "lists"].map((c) => h("th", { scope: "col" }, c)))),
          h("tbody", {}, d.changes.slice(0, 100).map((c) => h("tr", {},
            h("td", {}, keyEl(c.author, ctx.names), c.trusted ? " (trusted)" : ""),
            h("td", {}, verdictBadge(c.before)), h("td", {}, verdictBadge(c.after)),
            h("td", {}, c.lists.join(", ")))))) : "");
      return d;
    } catch (e) { preview.replaceChildren(errorBox(e)); return null; }
  }
  async function save() {
    if (!fromRaw()) return;
    try {
      await call("PUT", `/v1/viewers/${v}/policy`, draft);
      preview.replaceChildren(h("p", { id: "saved", class: "ok" }, "Saved. The feed now follows this policy."));
      ctx.policyChanged();
    } catch (e) { preview.replaceChildren(errorBox(e)); }
  }

  main.replaceChildren(
    h("h1", {}, "Policy"),
    h("p", {}, "Change what you follow, preview what it would hide or show, then save."),
    h("h2", {}, "Lists you subscribe to"),
    h("table", { class: "lists" }, h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "list"), h("th", { scope: "col" }, "weight"), h("th", { scope: "col" }, ""))), listRows),
    h("form", { class: "inline", onsubmit: (e) => {
      e.preventDefault();
      if (!newList.value.trim()) return;
      draft.lists.push({ list: newList.value.trim(), weight: Number(newWeight.value) || 1 });
      newList.value = ""; fill();
    } },
      h("label", { for: "new-list" }, "Subscribe to list "), newList,
      h("label", { for: "new-weight" }, " weight "), newWeight, " ",
      h("button", { type: "submit" }, "Add")),
    h("p", {}, h("label", { for: "unknown-author" }, "Authors you have no trust path to: "), unknown),
    h("p", {}, groupRules, h("label", { for: "group-rules" }, " Apply the groups' bans and rules")),
    h("p", { class: "inline" }, "Block lists hide when at least ",
      h("label", { for: "quorum-lists" }, "lists: "), quorumLists, h("label", { for: "quorum-weight" }, " with total weight: "), quorumWeight),
    ...editors.map((e) => e.el),
    h("p", {}, h("label", { for: "labelers" }, "Labelers whose labels count: "), labelers),
    h("details", {}, h("summary", {}, "Everything (label verdicts, votes, …) as JSON"),
      h("label", { for: "policy-json" }, "The policy, as the API takes it"), raw),
    h("p", { class: "actions" },
      h("button", { type: "button", id: "preview-button", onclick: doPreview }, "Preview"), " ",
      h("button", { type: "button", id: "save-button", onclick: save, disabled: !canSave },
        canSave ? "Save" : "Save (this session may not change the policy)")),
    preview);
  fill();
}
