"""A real browser against a real node: web pages cannot reach the sidecar API (issue 17).

Debian's Chromium, headless, driven by Playwright (tests/browser/run.sh installs both). A page
served from another origin tries a JSON fetch, a text/plain fetch, a form POST and plain reads
against a running `vouch node run`; a DNS-rebinding page (its host name resolving to
127.0.0.1, as after a rebinding, via Chromium's --host-resolver-rules) tries the same
same-origin. Each attempt is made without the token and, to show that each defense holds on
its own, with the admin token too (as if a page had it). Afterwards the node's state, read
through the API with the token, shows nothing was created, and its counters show that the
requests did reach the node and were refused there (not only by the browser). A page of a
configured origin, with a token, works: CORS for configured origins only.

Usage: VOUCH=path/to/vouch python -m pytest tests/browser
"""

import http.server
import json
import os
import pathlib
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request

import pytest
from playwright.sync_api import sync_playwright

VOUCH = os.environ.get("VOUCH", "target/debug/vouch")
CHROMIUM = os.environ.get("VOUCH_CHROMIUM", "/usr/bin/chromium")
VIEWER = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
VICTIM = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"


class Node:
    def __init__(self, tmp, origins):
        self.dir = pathlib.Path(tmp) / "node"
        self.dir.mkdir()
        args = [VOUCH, "node", "run", "--data-dir", str(self.dir),
                "--listen", "/ip4/127.0.0.1/tcp/0", "--api", "127.0.0.1:0"]
        for o in origins:
            args += ["--api-origin", o]
        self.log = open(self.dir / "node.log", "ab")
        env = {k: v for k, v in os.environ.items() if not k.startswith("VOUCH_")}
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=self.log,
                                     env={**env, "RUST_LOG": "warn"})
        deadline = time.time() + 120
        while not (self.dir / "api.addr").exists():
            assert self.proc.poll() is None, (self.dir / "node.log").read_text()
            assert time.time() < deadline, "the node did not start"
            time.sleep(0.1)
        self.addr = (self.dir / "api.addr").read_text().strip()
        self.port = int(self.addr.rsplit(":", 1)[1])
        self.token = (self.dir / "api.token").read_text().strip()

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"http://{self.addr}{path}", data=data, method=method)
        req.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.load(r)

    def metric(self, name):
        return self.call("GET", "/v1/status")["metrics"][name]

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


ATTACK = """<!doctype html><html><body>
<form id="form" method="POST" enctype="text/plain" target="sink"></form>
<iframe name="sink" id="sink"></iframe>
<script>
// Every attempt records what the page could learn: the status and text it could read, or
// the error the browser gave it.
async function attempt(url, init) {
  try {
    const r = await fetch(url, init);
    let text = "";
    try { text = await r.text(); } catch (e) { text = "unreadable"; }
    return {ok: r.ok, status: r.status, type: r.type, text};
  } catch (e) {
    return {error: String(e)};
  }
}
window.formPost = (action, name, value) => {
  const f = document.getElementById("form");
  f.action = action;
  f.innerHTML = "";
  const i = document.createElement("input");
  i.name = name; i.value = value; f.appendChild(i);
  f.submit();
};
</script></body></html>"""


class Pages(http.server.BaseHTTPRequestHandler):
    """Serves the attacker's page (any host name) and a page of the configured app origin."""

    def do_GET(self):
        body = ATTACK.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def env():
    pages = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Pages)
    threading.Thread(target=pages.serve_forever, daemon=True).start()
    pport = pages.server_address[1]
    tmp = tempfile.mkdtemp(prefix="vouch-browser-")
    app_origin = f"http://app.test:{pport}"
    node = Node(tmp, [app_origin])
    node.call("POST", "/v1/viewers", {"viewer": VIEWER, "policy": {"unknown_author": "hide"}})
    profile = pathlib.Path(tmp) / "profile"
    with sync_playwright() as p:
        # A fresh profile: no cookies, no cached preflights.
        browser = p.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
                # Chromium's own Local Network Access checks would stop a page whose document
                # did not come from this machine before the node sees it; other browsers have
                # none, so they are off: what is tested is the node's own refusal.
                "--disable-features=LocalNetworkAccessChecks,"
                "BlockInsecurePrivateNetworkRequests,PrivateNetworkAccessSendPreflights",
                # The attacker's names resolve to this machine, as a rebinding makes them.
                "--host-resolver-rules=MAP attacker.test 127.0.0.1, MAP rebind.test 127.0.0.1, "
                "MAP app.test 127.0.0.1",
            ],
        )
        try:
            yield {"node": node, "browser": browser, "pport": pport, "app": app_origin}
        finally:
            browser.close()
            node.stop()
            pages.shutdown()
            shutil.rmtree(tmp, ignore_errors=True)


def leaked(results, node):
    """Whether any response a page could read holds the node's data."""
    text = json.dumps(results)
    return VIEWER in text or '"viewers"' in text or node.token in text


def test_a_page_from_another_origin_cannot_read_or_write(env):
    node, browser = env["node"], env["browser"]
    api = f"http://{node.addr}"
    before = {m: node.metric(m) for m in
              ["api_origin_refused_total", "api_unauthorized_total"]}
    page = browser.new_page()
    page.goto(f"http://attacker.test:{env['pport']}/")
    results = {}
    for label, token in [("no-token", None), ("with-token", node.token)]:
        auth = {"Authorization": f"Bearer {token}"} if token else {}
        body = json.dumps({"viewer": VICTIM})
        results[label] = page.evaluate(
            """async ([api, body, auth]) => ({
                read: await attempt(api + "/v1/viewers", {headers: auth}),
                read_policy: await attempt(api + "/v1/viewers/%s/policy", {headers: auth}),
                json_post: await attempt(api + "/v1/viewers", {method: "POST",
                    headers: {...auth, "Content-Type": "application/json"}, body}),
                text_post: await attempt(api + "/v1/viewers", {method: "POST", mode: "no-cors",
                    headers: {"Content-Type": "text/plain"}, body}),
                text_read: await attempt(api + "/v1/viewers", {method: "POST",
                    headers: {"Content-Type": "text/plain"}, body}),
            })""" % VIEWER,
            [api, body, auth],
        )
    # A form POST (text/plain: its body can be made to look like JSON).
    with page.expect_event("requestfinished") as done:
        page.evaluate(
            "([a, n, v]) => formPost(a, n, v)",
            [f"{api}/v1/viewers", '{"viewer":"' + VICTIM + '","x":"', '"}'],
        )
    form = done.value.response()
    results["form"] = {"status": form.status if form else None}
    page.close()

    for label in ["no-token", "with-token"]:
        r = results[label]
        # Reads and the JSON POST: the browser gets nothing (no CORS for this origin).
        for what in ["read", "read_policy", "json_post", "text_read"]:
            assert "error" in r[what], (label, what, r[what])
        # The no-cors text/plain POST leaves the page with an opaque answer.
        assert r["text_post"].get("type") == "opaque", (label, r["text_post"])
    assert results["form"]["status"] == 403, results["form"]
    assert not leaked(results, node), results
    # The node refused them itself: they reached it, and were counted.
    assert node.metric("api_origin_refused_total") >= before["api_origin_refused_total"] + 8
    # Nothing was created.
    viewers = [v["viewer"] for v in node.call("GET", "/v1/viewers")["viewers"]]
    assert viewers == [VIEWER], viewers


def test_a_dns_rebinding_page_cannot_read_or_write(env):
    node, browser = env["node"], env["browser"]
    before = node.metric("api_host_refused_total")
    page = browser.new_page()
    # The page was first served by the attacker at rebind.test:<the node's port>; now the
    # name resolves to 127.0.0.1, so its same-origin requests go to the node.
    origin = f"http://rebind.test:{node.port}"
    page.route(origin + "/", lambda route: route.fulfill(
        status=200, content_type="text/html", body=ATTACK))
    page.goto(origin + "/")
    results = {}
    for label, token in [("no-token", None), ("with-token", node.token)]:
        auth = {"Authorization": f"Bearer {token}"} if token else {}
        results[label] = page.evaluate(
            """async ([body, auth]) => ({
                read: await attempt("/v1/viewers", {headers: auth}),
                status: await attempt("/v1/status", {headers: auth}),
                json_post: await attempt("/v1/viewers", {method: "POST",
                    headers: {...auth, "Content-Type": "application/json"}, body}),
                text_post: await attempt("/v1/viewers", {method: "POST",
                    headers: {"Content-Type": "text/plain"}, body}),
            })""",
            [json.dumps({"viewer": VICTIM}), auth],
        )
    page.close()
    for label, r in results.items():
        for what, answer in r.items():
            # Same origin, so the page reads the answer: the node's refusal, nothing else.
            assert answer.get("status") == 421, (label, what, answer)
            assert "host-not-allowed" in answer.get("text", ""), (label, what, answer)
    assert not leaked(results, node), results
    assert node.metric("api_host_refused_total") >= before + 8
    viewers = [v["viewer"] for v in node.call("GET", "/v1/viewers")["viewers"]]
    assert viewers == [VIEWER], viewers


def test_a_configured_origin_with_a_token_works(env):
    node, browser = env["node"], env["browser"]
    page = browser.new_page()
    page.goto(env["app"] + "/")
    r = page.evaluate(
        """async ([api, token]) => ({
            without: await attempt(api + "/v1/viewers", {}),
            with: await attempt(api + "/v1/viewers", {headers: {Authorization: "Bearer " + token}}),
        })""",
        [f"http://{node.addr}", node.token],
    )
    page.close()
    # CORS lets the app read the node's answers: a 401 without the token, the data with it.
    assert r["without"].get("status") == 401, r
    assert r["with"].get("status") == 200, r
    assert VIEWER in r["with"]["text"], r
