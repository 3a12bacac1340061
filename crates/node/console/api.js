// The console's one door to the node: same-origin fetch with the session cookie (never a
// token in the page), JSON in and out, errors as {status, code, message}.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(`${code}: ${message}`);
    this.status = status;
    this.code = code;
  }
}

export async function call(method, path, body) {
  const init = { method, credentials: "same-origin", headers: {} };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const r = await fetch(path, init);
  if (r.status === 204) return null;
  const text = await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  if (!r.ok) {
    const e = (data && data.error) || {};
    throw new ApiError(r.status, e.code || "error", e.message || text);
  }
  return data;
}

// A path segment for a did:key, a CID or an owner/name reference.
export const seg = (s) => encodeURIComponent(s);
export const refPath = (ref) => {
  const i = ref.indexOf("/");
  return `${seg(ref.slice(0, i))}/${seg(ref.slice(i + 1))}`;
};

// Small DOM builder: h("p", {class: "x"}, "text", child). No innerHTML anywhere: every text
// from the node goes in as text.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// A did:key shortened for reading; the full key in the title.
export function who(did, names) {
  if (!did) return "";
  if (names && names[did]) return names[did];
  return did.startsWith("did:key:") ? `…${did.slice(-8)}` : did.slice(0, 14) + "…";
}

export function keyEl(did, names) {
  return h("span", { class: "key", title: did }, who(did, names));
}

export function when(ms) {
  if (!ms) return "";
  return new Date(ms).toISOString().replace("T", " ").slice(0, 16);
}
