// The console's entry: logs in with the one-time code of the link (read from the fragment,
// then wiped from the address bar and history), finds who the session is and which viewer
// and group it looks at, routes between screens, and listens to the viewer's event stream
// for list changes.

import { call, seg, h, who, ApiError } from "./api.js";
import { feedScreen, explainScreen, policyScreen } from "./screens.js";
import { groupScreen, listsScreen } from "./moderation.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const notice = document.getElementById("notice");
const ctx = { names: {}, policyChanged: () => {} };

const SCREENS = [
  ["feed", "Feed"], ["policy", "Policy"], ["group", "Group"], ["lists", "Lists"],
];

function showNotice(children, kind) {
  notice.replaceChildren(...children, " ", h("button", { type: "button", onclick: () => { notice.hidden = true; } }, "Dismiss"));
  notice.className = `notice ${kind || ""}`;
  notice.hidden = false;
}

async function login() {
  if (location.pathname !== "/login") return;
  const code = location.hash.slice(1);
  // Out of the address bar and the history before anything else runs.
  history.replaceState(null, "", "/");
  if (!code) return;
  try {
    await call("POST", "/v1/session", { code });
  } catch (e) {
    showNotice([`Login failed: ${e.message}`], "bad");
  }
}

function loginHelp(e) {
  main.replaceChildren(
    h("h1", {}, "Vouch console"),
    h("p", {}, "Open the one-time link that ", h("code", {}, "vouch node run"), ", ", h("code", {}, "vouch console"),
      " or ", h("code", {}, "vouch demo --keep"), " printed. A link works once, within a minute."),
    e && !(e instanceof ApiError && e.status === 401) ? h("p", { class: "error" }, String(e)) : "");
  nav.replaceChildren();
}

async function chooseViewer() {
  if (ctx.who.role === "viewer") return ctx.who.viewer;
  const list = (await call("GET", "/v1/viewers")).viewers;
  ctx.viewers = list;
  const saved = sessionStorage.getItem("vouch-viewer");
  if (saved && list.some((v) => v.viewer === saved)) return saved;
  return list[0] ? list[0].viewer : null;
}

async function loadViewer() {
  const policy = await call("GET", `/v1/viewers/${seg(ctx.viewer)}/policy`);
  ctx.groups = policy.groups || [];
  const saved = sessionStorage.getItem("vouch-group");
  ctx.group = ctx.groups.includes(saved) ? saved : ctx.groups[0] || null;
  ctx.groupName = ctx.group ? ctx.group.split("/").slice(1).join("/") : "";
}

function drawHeader() {
  const links = SCREENS.map(([id, label]) => h("a", { href: `#/${id}`, "data-screen": id }, label));
  const extra = [];
  if (ctx.viewers && ctx.viewers.length > 1) {
    const sel = h("select", { id: "viewer-pick", "aria-label": "Viewer" },
      ctx.viewers.map((v) => h("option", { value: v.viewer }, `viewer …${v.viewer.slice(-8)}`)));
    sel.value = ctx.viewer;
    sel.addEventListener("change", () => { sessionStorage.setItem("vouch-viewer", sel.value); location.reload(); });
    extra.push(sel);
  }
  if (ctx.groups.length > 1) {
    const sel = h("select", { id: "group-pick", "aria-label": "Group" },
      ctx.groups.map((g) => h("option", { value: g }, g.split("/").slice(1).join("/"))));
    sel.value = ctx.group;
    sel.addEventListener("change", () => { sessionStorage.setItem("vouch-group", sel.value); location.reload(); });
    extra.push(sel);
  }
  nav.replaceChildren(...links, ...extra);
  document.getElementById("who").textContent = ctx.who.role === "admin"
    ? `admin · viewer …${(ctx.viewer || "").slice(-8)}`
    : `viewer …${ctx.viewer.slice(-8)} (${ctx.who.scope})`;
  const out = document.getElementById("logout");
  out.hidden = false;
  out.onclick = async () => {
    await call("DELETE", "/v1/session").catch(() => {});
    if (ctx.events) ctx.events.close();
    loginHelp();
    document.getElementById("who").textContent = "";
    out.hidden = true;
  };
}

// The event stream: a list the viewer follows changed (or its policy did): say what
// changed, in the node's sentences, and offer to reload the feed.
function listen() {
  const es = new EventSource(`/v1/viewers/${seg(ctx.viewer)}/events`);
  ctx.events = es;
  es.addEventListener("list-change", (m) => {
    let d;
    try { d = JSON.parse(m.data); } catch { return; }
    // The node's sentences, then each author whose verdict changed (its data, not re-worded).
    const changes = (d.changes || []).slice(0, 5).map((c) =>
      `${who(c.author)}: ${c.before} → ${c.after}${c.lists.length ? ` (${c.lists.map((l) => l.split("/").slice(1).join("/")).join(", ")})` : ""}`);
    const more = (d.changes || []).length > 5 ? [`and ${d.changes.length - 5} more`] : [];
    showNotice([h("strong", {}, "A list you follow changed: "),
      h("span", { id: "change-sentences" }, [...(d.sentences || []), ...changes, ...more].join("; ")), " ",
      h("a", { href: "#/feed", onclick: () => { notice.hidden = true; route(); } }, "Reload the feed")], "change");
  });
  es.addEventListener("ready", () => { document.body.dataset.events = "ready"; });
}

async function route() {
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  const screen = parts[0] || "feed";
  for (const a of nav.querySelectorAll("a")) {
    if (a.dataset.screen === screen) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
  try {
    if (screen === "explain") await explainScreen(ctx, main, parts[1], parts[2]);
    else if (screen === "policy") await policyScreen(ctx, main);
    else if (screen === "group") await groupScreen(ctx, main);
    else if (screen === "lists") await listsScreen(ctx, main, parts.slice(1).join("/") || undefined);
    else await feedScreen(ctx, main);
    document.body.dataset.screen = screen;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return loginHelp(e);
    main.replaceChildren(h("p", { class: "error", role: "alert" }, e.message || String(e)));
  }
  main.focus({ preventScroll: true });
}

async function start() {
  await login();
  try {
    ctx.who = await call("GET", "/v1/session");
  } catch (e) {
    return loginHelp(e);
  }
  ctx.viewer = await chooseViewer();
  if (!ctx.viewer) {
    main.replaceChildren(h("h1", {}, "No viewer"), h("p", {}, "Create one first: vouch viewer add <did:key>."));
    return;
  }
  await loadViewer();
  ctx.policyChanged = () => { loadViewer(); };
  drawHeader();
  listen();
  window.addEventListener("hashchange", route);
  await route();
}

start();
