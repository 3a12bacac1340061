// The group owner's and moderator's screen (header and rules, moderators, report queue with
// the reporters' standing, bans with reasons and expiry, appeals, how far a ban reaches) and
// the curator's (lists, entries, history). Actions are signed objects: the node signs them
// with a key of its local key folder, for an admin session only.

import { call, seg, refPath, h, keyEl, when, ApiError } from "./api.js";

function errorBox(e) {
  return h("p", { class: "error", role: "alert" }, e instanceof ApiError ? `${e.message} (${e.status})` : String(e));
}

async function signingKeys(ctx) {
  if (ctx.who.role !== "admin") return [];
  if (!ctx.keys) ctx.keys = (await call("GET", "/v1/console/keys")).keys;
  return ctx.keys;
}

function keySelect(keys, id, prefer) {
  const sel = h("select", { id }, keys.map((k) => h("option", { value: k.name }, `${k.name} (${k.did.slice(-8)})`)));
  const best = keys.find((k) => prefer.includes(k.did));
  if (best) sel.value = best.name;
  return sel;
}

async function sign(action) {
  return call("POST", "/v1/console/sign", action);
}

// How far a ban of `subject` reaches: the node's viewers that apply this group's rules,
// show the author now and have not chosen to show it whatever lists say (an override): the
// ban would hide the author's posts in the group for them.
async function reach(ctx, group, subject) {
  const viewers = ctx.who.role === "admin" ? (await call("GET", "/v1/viewers")).viewers : [{ viewer: ctx.viewer }];
  let follow = 0, changes = 0;
  for (const v of viewers) {
    const p = v.policy || (await call("GET", `/v1/viewers/${seg(v.viewer)}/policy`));
    if (!p.group_rules) continue;
    follow++;
    const d = await call("POST", `/v1/viewers/${seg(v.viewer)}/decide`, { items: [{ author: subject, group }] });
    const x = d.decisions[0];
    // A viewer who chose to show the author (an override) keeps seeing it: bans do not
    // beat the viewer's own choice (specs/decisions.md), so the ban changes nothing there.
    const overridden = x && (x.reasons || []).some((r) => r.code === "viewer-override" && r.effect === "show");
    if (x && x.verdict && x.verdict !== "hide" && !overridden) changes++;
  }
  return { viewers: viewers.length, follow, changes };
}

export async function groupScreen(ctx, main) {
  if (!ctx.group) { main.replaceChildren(h("h1", {}, "Group"), h("p", {}, "No group: the viewer's policy names none.")); return; }
  const g = refPath(ctx.group);
  const [group, reports, dismissedReports, bans, appeals, keys, posts] = await Promise.all([
    call("GET", `/v1/groups/${g}`),
    call("GET", `/v1/groups/${g}/reports?state=open&limit=100`),
    call("GET", `/v1/groups/${g}/reports?state=dismissed&limit=100`),
    call("GET", `/v1/groups/${g}/bans?limit=200`),
    call("GET", `/v1/groups/${g}/appeals?limit=100`),
    signingKeys(ctx),
    call("GET", `/v1/groups/${g}/posts?limit=1000`),
  ]);
  // The reported post (a CID subject), or the reported author's latest post in the group.
  const postById = new Map(posts.posts.map((p) => [p.id, p]));
  const latestBy = new Map();
  for (const p of posts.posts) if (!latestBy.has(p.author)) latestBy.set(p.author, p);
  const reportedPost = (subject) => postById.get(subject) || latestBy.get(subject);
  const banList = group.ban_lists[0] || `${ctx.group}-bans`;
  // A ban's reason, category, expiry and author are its entry on the group's ban list.
  const entries = new Map();
  for (const list of group.ban_lists.length ? group.ban_lists : [banList]) {
    try {
      const l = await call("GET", `/v1/lists/${refPath(list)}?limit=10000`);
      for (const e of l.entries) entries.set(e.id, { ...e, list });
    } catch (e) { if (!(e instanceof ApiError && e.status === 404)) throw e; }
  }
  const status = h("div", { id: "mod-status", role: "status", "aria-live": "polite" });
  const mods = group.moderators;
  const canSign = keys.length > 0;
  const hdr = group.header;

  const reportRows = reports.reports.map((r, i) => {
    const reason = h("input", { id: `ban-reason-${i}`, value: r.texts[0] || Object.keys(r.categories)[0] || "" });
    const keySel = canSign ? keySelect(keys, `ban-key-${i}`, mods) : null;
    const until = h("input", { id: `ban-until-${i}`, type: "date" });
    const standing = h("span", { class: "standing" }, "…");
    const reachOut = h("span", { class: "reach" });
    const why = h("input", { id: `dismiss-text-${i}`, placeholder: "why (optional)" });
    const dismissKey = canSign ? keySelect(keys, `dismiss-key-${i}`, mods) : null;
    const row = h("li", { class: "report", "data-subject": r.subject },
      h("div", { class: "meta" }, "Reported: ", r.subject.startsWith("did:") ? keyEl(r.subject, ctx.names) : h("code", {}, r.subject),
        r.banned ? h("span", { class: "verdict v-hide" }, "banned") : "",
        ` · ${r.reports.length} report${r.reports.length === 1 ? "" : "s"} · ${when(r.last_at)}`),
      reportedPost(r.subject) ? h("blockquote", { class: "reported-post" },
        postById.has(r.subject) ? "" : "Latest post in the group: ", reportedPost(r.subject).text,
        " ", h("a", { href: `#/explain/${seg(reportedPost(r.subject).id)}/${seg(reportedPost(r.subject).author)}` }, "Why does the viewer see it so?")) : "",
      h("p", {}, "Categories: ", Object.entries(r.categories).map(([k, n]) => `${k} (${n})`).join(", ") || "none"),
      r.texts.length ? h("ul", { class: "texts" }, r.texts.slice(0, 3).map((t) => h("li", {}, t))) : "",
      h("p", {}, "Reporters: ", r.reporters.slice(0, 5).map((k) => keyEl(k, ctx.names)).flatMap((e) => [e, " "]), "standing (your trust in them): ", standing),
      h("div", { class: "actions" },
        h("button", { type: "button", onclick: async () => {
          reachOut.textContent = "counting…";
          try {
            const x = await reach(ctx, ctx.group, r.subject);
            reachOut.textContent = `A ban reaches ${x.changes} of the node's ${x.viewers} viewers (${x.follow} apply this group's rules; for ${x.changes} it would hide posts they see now).`;
          } catch (e) { reachOut.replaceChildren(errorBox(e)); }
        } }, "How far would a ban reach?"), " ", reachOut),
      canSign && !r.banned ? h("form", { class: "inline", onsubmit: async (e) => {
        e.preventDefault();
        try {
          const out = await sign({ action: "list-add", key: keySel.value, list: banList, subject: r.subject, reason: reason.value || undefined, category: Object.keys(r.categories)[0],
            expires: until.value ? Date.parse(until.value) : undefined });
          status.replaceChildren(h("p", { class: "ok" }, `Banned: signed ${out.kind} ${out.id} with ${keySel.value}.`));
          await groupScreen(ctx, main);
          main.querySelector("#mod-status").replaceChildren(h("p", { class: "ok", id: "ban-done" }, `Banned ${r.subject}: ${out.kind} ${out.id}`));
        } catch (err) { status.replaceChildren(errorBox(err)); }
      } },
        h("label", { for: `ban-reason-${i}` }, "Reason "), reason, " ",
        h("label", { for: `ban-until-${i}` }, " until (empty: no end) "), until, " ",
        h("label", { for: `ban-key-${i}` }, " sign as "), keySel, " ",
        h("button", { type: "submit", class: "danger" }, "Ban")) : "",
      // Dismiss: close the reports not yet dismissed, without acting (a signed `dismiss`).
      canSign ? h("form", { class: "inline", onsubmit: async (e) => {
        e.preventDefault();
        try {
          const open = r.reports.filter((id) => !r.dismissed.includes(id));
          const out = await sign({ action: "dismiss", key: dismissKey.value, group: ctx.group, reports: open, text: why.value || undefined });
          await groupScreen(ctx, main);
          main.querySelector("#mod-status").replaceChildren(h("p", { class: "ok", id: "dismiss-done" }, `Dismissed ${open.length} report${open.length === 1 ? "" : "s"} about ${r.subject}: ${out.kind} ${out.id}`));
        } catch (err) { status.replaceChildren(errorBox(err)); }
      } },
        h("label", { for: `dismiss-text-${i}` }, "No action needed: "), why, " ",
        h("label", { for: `dismiss-key-${i}` }, " sign as "), dismissKey, " ",
        h("button", { type: "submit" }, "Dismiss")) : "");
    // The reporters' standing for the viewer, fetched after the first paint.
    Promise.all(r.reporters.slice(0, 3).map((k) => call("GET", `/v1/viewers/${seg(ctx.viewer)}/trust/${seg(k)}`).then((t) => t.score).catch(() => null)))
      .then((scores) => { standing.textContent = scores.map((s) => (s === null ? "?" : s.toFixed(2))).join(", "); });
    return row;
  });

  const dismissedRows = dismissedReports.reports.map((r) => h("li", { class: "report dismissed", "data-subject": r.subject },
    h("div", { class: "meta" }, "Reported: ", r.subject.startsWith("did:") ? keyEl(r.subject, ctx.names) : h("code", {}, r.subject),
      ` · ${r.reports.length} report${r.reports.length === 1 ? "" : "s"} · ${when(r.last_at)}`),
    r.dismissals.map((d) => h("p", {}, "Dismissed by ", keyEl(d.moderator, ctx.names), d.text ? `: ${d.text}` : ""))));

  const banRows = bans.bans.map((b) => { const e = entries.get(b.ban) || {}; return h("tr", { "data-subject": b.subject },
    h("td", {}, b.subject.startsWith("did:") ? keyEl(b.subject, ctx.names) : h("code", {}, b.subject)),
    h("td", {}, e.reason || ""), h("td", {}, e.category || ""), h("td", {}, e.expires ? when(e.expires) : "never"),
    h("td", {}, e.author ? keyEl(e.author, ctx.names) : ""),
    h("td", {}, canSign ? h("button", { type: "button", onclick: async () => {
      const keySel = keySelect(keys, "unban-key", mods);
      try {
        const out = await sign({ action: "list-remove", key: keySel.value, list: e.list || banList, adds: [b.ban] });
        await groupScreen(ctx, main);
        main.querySelector("#mod-status").replaceChildren(h("p", { class: "ok" }, `Unbanned: ${out.kind} ${out.id}`));
      } catch (err) { status.replaceChildren(errorBox(err)); }
    } }, "Unban") : "")); });

  const appealRows = appeals.appeals.map((a) => h("li", {},
    h("div", { class: "meta" }, keyEl(a.appellant, ctx.names), ` · ${when(a.at)} · ${a.state}`),
    h("p", {}, a.text || "(no text)"), a.answer ? h("p", {}, "Answer: ", a.answer) : "",
    canSign && a.state === "open" ? h("p", {}, ["upheld", "granted"].map((o) => h("button", { type: "button", onclick: async () => {
      const keySel = keySelect(keys, "appeal-key", mods);
      try {
        await sign({ action: "appeal-answer", key: keySel.value, appeal: a.appeal, outcome: o });
        await groupScreen(ctx, main);
      } catch (err) { status.replaceChildren(errorBox(err)); }
    } }, o === "upheld" ? "Uphold the ban" : "Grant the appeal")).flatMap((b) => [b, " "])) : ""));

  main.replaceChildren(
    h("h1", {}, "Group ", h("code", {}, ctx.groupName)),
    status,
    canSign ? "" : h("p", { class: "hint" }, ctx.who.role === "admin"
      ? "No key in the node's key folder: actions need one (vouch key new, or VOUCH_KEY_DIR)."
      : "Actions are signed by the node for an admin session only; this session reads."),
    h("h2", {}, "Header and rules"),
    hdr ? h("dl", { class: "header" },
      h("dt", {}, "Rules"), h("dd", {}, hdr.rules || "none"),
      h("dt", {}, "Minimum trust"), h("dd", {}, hdr.min_trust ?? "none"),
      h("dt", {}, "Vote budget"), h("dd", {}, hdr.vote_budget ?? "none"),
      h("dt", {}, "Credential issuer"), h("dd", {}, hdr.credential_issuer || "none"),
      h("dt", {}, "Personhood votes"), h("dd", {}, hdr.personhood_votes ? "yes" : "no"),
      h("dt", {}, "Version"), h("dd", {}, `seq ${hdr.seq}`)) : h("p", {}, "No header seen."),
    h("h2", {}, "Moderators"), h("ul", {}, mods.map((m) => h("li", {}, keyEl(m, ctx.names), m === group.moderators[0] ? " (owner)" : ""))),
    h("h2", {}, `Report queue (${reports.total})`),
    reportRows.length ? h("ol", { class: "reports", id: "reports" }, reportRows) : h("p", {}, "No open reports."),
    dismissedRows.length ? h("details", { id: "dismissed" }, h("summary", {}, `Dismissed (${dismissedReports.total})`),
      h("ul", { class: "reports" }, dismissedRows)) : "",
    h("h2", {}, `Bans (${bans.total})`),
    h("table", { class: "bans", id: "bans" },
      h("thead", {}, h("tr", {}, ["who", "reason", "category", "expires", "by", ""].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, banRows)),
    h("h2", {}, `Appeals (${appeals.total})`),
    appealRows.length ? h("ul", { class: "appeals" }, appealRows) : h("p", {}, "No appeals."));
}

export async function listsScreen(ctx, main, selected) {
  const policy = await call("GET", `/v1/viewers/${seg(ctx.viewer)}/policy`);
  const keys = await signingKeys(ctx);
  const refs = [...new Set([...policy.lists.map((l) => l.list), ...(selected ? [selected] : [])])];
  const pick = h("select", { id: "list-pick" }, refs.map((r) => h("option", { value: r }, r.split("/").slice(1).join("/") + " by …" + r.split("/")[0].slice(-8))));
  const own = h("input", { id: "list-ref", placeholder: "did:key:…/name", size: 40 });
  const body = h("section", { id: "list-body" });
  const status = h("div", { role: "status", "aria-live": "polite", id: "list-status" });
  async function show(ref) {
    if (!ref) { body.replaceChildren(h("p", {}, "No list.")); return; }
    const [l, appeals] = await Promise.all([
      call("GET", `/v1/lists/${refPath(ref)}?limit=1000`),
      call("GET", `/v1/lists/${refPath(ref)}/appeals?limit=200`),
    ]);
    const curatorKeys = keys.filter((k) => k.did === l.curator);
    const active = l.entries.filter((e) => e.status === "live");
    const history = [...l.entries].sort((a, b) => b.at - a.at);
    const subject = h("input", { id: "entry-subject", placeholder: "did:key:… or a post's CID", size: 44 });
    const reason = h("input", { id: "entry-reason" });
    const category = h("input", { id: "entry-category", size: 12 });
    const expires = h("input", { id: "entry-expires", type: "date" });
    body.replaceChildren(
      h("h2", {}, l.list.split("/").slice(1).join("/")),
      h("p", {}, "Curator ", keyEl(l.curator, ctx.names), l.header ? ` · ${l.header.purpose} · ${l.header.description || ""}` : ""),
      h("h3", {}, `Entries (${active.length} live)`),
      h("table", { class: "entries", id: "entries" },
        h("thead", {}, h("tr", {}, ["subject", "reason", "category", "expires", ""].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, active.map((e) => h("tr", { "data-subject": e.subject },
          h("td", {}, e.subject.startsWith("did:") ? keyEl(e.subject, ctx.names) : h("code", {}, e.subject)),
          h("td", {}, e.reason || ""), h("td", {}, e.category || ""), h("td", {}, e.expires ? when(e.expires) : "never"),
          h("td", {}, curatorKeys.length ? h("button", { type: "button", onclick: async () => {
            try {
              const out = await sign({ action: "list-remove", key: curatorKeys[0].name, list: l.list, adds: [e.id] });
              await show(ref);
              status.replaceChildren(h("p", { class: "ok", id: "entry-removed" }, `Removed: ${out.kind} ${out.id}`));
            } catch (err) { status.replaceChildren(errorBox(err)); }
          } }, "Remove") : ""))))),
      curatorKeys.length ? h("form", { class: "inline", onsubmit: async (ev) => {
        ev.preventDefault();
        try {
          const out = await sign({ action: "list-add", key: curatorKeys[0].name, list: l.list, subject: subject.value.trim(),
            reason: reason.value || undefined, category: category.value || undefined,
            expires: expires.value ? Date.parse(expires.value) : undefined });
          await show(ref);
          status.replaceChildren(h("p", { class: "ok" }, `Added: ${out.kind} ${out.id}`));
        } catch (err) { status.replaceChildren(errorBox(err)); }
      } },
        h("h3", {}, "Add an entry"),
        h("label", { for: "entry-subject" }, "Subject "), subject, " ",
        h("label", { for: "entry-reason" }, "reason "), reason, " ",
        h("label", { for: "entry-category" }, "category "), category, " ",
        h("label", { for: "entry-expires" }, "expires "), expires, " ",
        h("button", { type: "submit" }, "Add")) : h("p", { class: "hint" }, "You curate this list only if its curator's key is in the node's key folder and this is an admin session."),
      h("h3", {}, `Appeals against entries (${appeals.total})`),
      appeals.appeals.length ? h("ul", { class: "appeals", id: "list-appeals" }, appeals.appeals.map((a) => h("li", {},
        h("div", { class: "meta" }, keyEl(a.appellant, ctx.names), ` · ${when(a.at)} · ${a.state} · against the entry for `,
          a.subject.startsWith("did:") ? keyEl(a.subject, ctx.names) : h("code", {}, a.subject)),
        h("p", {}, a.text || "(no text)"),
        curatorKeys.length && a.state === "open" ? h("p", {}, ["upheld", "granted"].map((o) => h("button", { type: "button", onclick: async () => {
          try {
            await sign({ action: "appeal-answer", key: curatorKeys[0].name, appeal: a.appeal, outcome: o });
            await show(ref);
          } catch (err) { status.replaceChildren(errorBox(err)); }
        } }, o === "upheld" ? "Keep the entry" : "Grant the appeal")).flatMap((b) => [b, " "])) : ""))) : h("p", {}, "No appeals."),
      h("h3", {}, "History"),
      h("ol", { class: "history" }, history.slice(0, 200).map((e) => h("li", {},
        `${when(e.at)} added `, e.subject.startsWith("did:") ? keyEl(e.subject, ctx.names) : e.subject,
        e.reason ? ` (${e.reason})` : "", e.status !== "live" ? ` · ${e.status}${(e.retracted_by || []).length ? " by " + e.retracted_by.join(", ") : ""}` : ""))));
  }
  pick.addEventListener("change", () => show(pick.value).catch((e) => body.replaceChildren(errorBox(e))));
  main.replaceChildren(
    h("h1", {}, "Lists"),
    h("p", {}, h("label", { for: "list-pick" }, "A list you follow: "), pick),
    h("form", { class: "inline", onsubmit: (e) => { e.preventDefault(); if (own.value.trim()) location.hash = `#/lists/${seg(own.value.trim())}`; } },
      h("label", { for: "list-ref" }, "Or any list: "), own, " ", h("button", { type: "submit" }, "Open")),
    status, body);
  if (selected) pick.value = selected;
  await show(pick.value || selected);
}
