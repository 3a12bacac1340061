// Trust paths as a graph: the viewer on the left, the subject on the right, every key in
// the column of its hop count from the viewer (a layered layout, no library).

import { who } from "./api.js";

const NS = "http://www.w3.org/2000/svg";
const COL = 170;
const ROW = 56;
const PAD = 40;

function s(tag, attrs, text) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

// Columns by hop count: the fewest hops that reach a key; the subject always last.
export function layout(viewer, subject, paths) {
  const depth = new Map([[viewer, 0]]);
  const edges = new Map();
  let maxDepth = 1;
  for (const p of paths) {
    p.hops.forEach((hop, i) => {
      if (!depth.has(hop.from)) depth.set(hop.from, i);
      const d = Math.min(depth.get(hop.to) ?? Infinity, i + 1);
      depth.set(hop.to, d);
      maxDepth = Math.max(maxDepth, i + 1);
      const k = `${hop.from} ${hop.to}`;
      const e = edges.get(k) || { from: hop.from, to: hop.to, level: hop.level, strength: 0 };
      e.strength += p.strength;
      edges.set(k, e);
    });
  }
  depth.set(subject, Math.max(maxDepth, depth.get(subject) ?? 1));
  const columns = [];
  for (const [key, d] of depth) (columns[d] ||= []).push(key);
  const pos = new Map();
  columns.forEach((keys, d) => {
    (keys || []).sort().forEach((key, i) => pos.set(key, { x: PAD + d * COL, y: PAD + i * ROW, d }));
  });
  return { pos, edges: [...edges.values()], columns: columns.length };
}

// The SVG element for `trust` (the API's trust JSON), with names for known keys.
export function trustGraph(trust, names) {
  const { pos, edges, columns } = layout(trust.viewer, trust.subject, trust.paths || []);
  const rows = Math.max(1, ...[...pos.values()].map((p) => (p.y - PAD) / ROW + 1));
  const width = PAD * 2 + (columns - 1) * COL + 60;
  const height = PAD * 2 + (rows - 1) * ROW;
  const svg = s("svg", {
    viewBox: `0 0 ${width} ${height}`, width, height, role: "img", class: "graph",
    "aria-label": `${(trust.paths || []).length} trust paths from the viewer to ${who(trust.subject, names)}`,
  });
  svg.append(s("title", {}, "Trust paths from the viewer to the author"));
  const defs = s("defs", {});
  const marker = s("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 24, refY: 5, markerWidth: 9, markerHeight: 9, markerUnits: "userSpaceOnUse", orient: "auto" });
  marker.append(s("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "arrowhead" }));
  defs.append(marker);
  svg.append(defs);
  const maxStrength = Math.max(1e-9, ...edges.map((e) => e.strength));
  for (const e of edges) {
    const a = pos.get(e.from), b = pos.get(e.to);
    if (!a || !b) continue;
    const g = s("g", { class: `edge ${e.level < 0 ? "neg" : "pos"}` });
    g.append(s("line", {
      x1: a.x, y1: a.y, x2: b.x, y2: b.y, "marker-end": "url(#arrow)",
      "stroke-width": (1 + 4 * (e.strength / maxStrength)).toFixed(2),
    }));
    g.append(s("text", { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 - 6, class: "level" }, String(e.level)));
    g.append(s("title", {}, `${who(e.from, names)} rates ${who(e.to, names)} ${e.level}`));
    svg.append(g);
  }
  for (const [key, p] of pos) {
    const role = key === trust.viewer ? "viewer" : key === trust.subject ? "subject" : "hop";
    const g = s("g", { class: `node ${role}`, "data-key": key });
    g.append(s("circle", { cx: p.x, cy: p.y, r: 14 }));
    g.append(s("text", { x: p.x, y: p.y + 30, "text-anchor": "middle" },
      role === "viewer" ? "you" : who(key, names)));
    g.append(s("title", {}, key));
    svg.append(g);
  }
  return svg;
}
