"""The web console in a real browser (issue 19): Debian's Chromium driven by Playwright against
the nodes of `vouch demo --keep` (real processes, the demo community).

As a person would: the viewer opens the one-time link the demo printed and sees the feed
with and without Vouch (the first render of the whole feed, 228 posts, is measured and
written to <shots>/timings.json, not asserted); opens the explain view and sees the trust
paths drawn; previews subscribing to a list, sees what it would hide, saves, and the feed
changes; the group's owner bans someone from the report queue (after seeing how far the ban
reaches) and the viewer's feed then hides their post with the ban as reason (in the page and
through the API); the owner dismisses a report about another post (it leaves the open queue
for the dismissed section, the verdict stays, the next report reopens it); a curator removes a list entry and the viewer's open page shows the change
notice. A page of another origin (another port of the same host, so the SameSite=Strict
cookie is sent, and another site) cannot use the session. Every screen is checked for labels
and keyboard use at 1280 and 390 px with no console errors, and screenshotted into
$VOUCH_SHOTS (default target/console-shots; not committed).

Usage: VOUCH=path/to/vouch python -m pytest tests/browser/test_console.py
"""

import http.server
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.request

import pytest
from playwright.sync_api import sync_playwright

VOUCH = os.environ.get("VOUCH", "target/debug/vouch")
CHROMIUM = os.environ.get("VOUCH_CHROMIUM", "/usr/bin/chromium")
SHOTS = pathlib.Path(os.environ.get("VOUCH_SHOTS", "target/console-shots"))
WIDTHS = [1280, 390]


class Demo:
    """`vouch demo --keep`: its nodes keep running; the links it printed."""

    def __init__(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("VOUCH_")}
        self.proc = subprocess.Popen([VOUCH, "demo", "--keep", "--nodes", "2"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     env={**env, "RUST_LOG": "warn"}, text=True)
        self.lines = []
        deadline = time.time() + 300
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
            if "new links:" in line:
                break
            assert time.time() < deadline, "the demo did not start"
        out = "\n".join(self.lines)
        assert "as the viewer:" in out, out
        self.viewer_link = re.search(r"as the viewer:\s+(\S+)", out).group(1)
        self.admin_link = re.search(r"as the admin:\s+(\S+)", out).group(1)
        self.root = pathlib.Path(re.search(r"their folder stays: (\S+)", out).group(1))
        self.addr = self.viewer_link.split("/")[2]
        node_dir = re.search(rf"http://{re.escape(self.addr)}\s+data dir (\S+)", out).group(1)
        self.dir = pathlib.Path(node_dir)
        self.token = (self.dir / "api.token").read_text().strip()
        viewers = self.call("GET", "/v1/viewers")["viewers"]
        self.viewer = viewers[0]["viewer"]
        self.group = viewers[0]["policy"]["groups"][0]
        self.lists = [l["list"] for l in viewers[0]["policy"]["lists"]]

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"http://{self.addr}{path}", data=data, method=method)
        req.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=60) as r:
            text = r.read()
            return json.loads(text) if text else None

    def link(self, viewer=None, scope="policy"):
        body = {} if viewer is None else {"viewer": viewer, "scope": scope}
        return f"http://{self.addr}" + self.call("POST", "/v1/console/codes", body)["path"]

    def metric(self, name):
        return self.call("GET", "/v1/status")["metrics"][name]

    def posts(self):
        owner, name = self.group.split("/", 1)
        return self.call("GET", f"/v1/groups/{owner}/{name}/posts?limit=1000")["posts"]

    def decide(self, items):
        return self.call("POST", f"/v1/viewers/{self.viewer}/decide", {"items": items})["decisions"]

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.root, ignore_errors=True)


ATTACK = """<!doctype html><html><body>
<form id="form" method="POST" enctype="text/plain" target="sink"></form>
<iframe name="sink"></iframe>
<script>
window.results = {};
async function attack(node, viewer, listRef) {
  const r = window.results;
  const tryFetch = async (name, url, init) => {
    try { const x = await fetch(url, init); r[name] = {status: x.status, type: x.type, body: await x.text()}; }
    catch (e) { r[name] = {error: String(e)}; }
  };
  await tryFetch("whoami", node + "/v1/session", {credentials: "include"});
  await tryFetch("policy", node + "/v1/viewers/" + viewer + "/policy", {credentials: "include"});
  await tryFetch("put", node + "/v1/viewers/" + viewer + "/policy", {method: "PUT", credentials: "include",
    headers: {"Content-Type": "application/json"}, body: JSON.stringify({lists: []})});
  await tryFetch("blind", node + "/v1/console/sign", {method: "POST", credentials: "include", mode: "no-cors",
    headers: {"Content-Type": "text/plain"},
    body: JSON.stringify({action: "list-remove", key: "cleo", list: listRef, adds: []})});
  await tryFetch("logout", node + "/v1/session", {method: "DELETE", credentials: "include", mode: "no-cors"});
  const f = document.getElementById("form");
  f.action = node + "/v1/console/sign";
  const i = document.createElement("input"); i.name = '{"action":"list-add","key":"olga","list":"' + listRef + '","subject":"' + viewer + '","x":"'; i.value = '"}';
  f.append(i); f.submit();
  await new Promise((ok) => setTimeout(ok, 1500));
  r.done = true;
}
</script></body></html>"""


class AttackPage(http.server.BaseHTTPRequestHandler):
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
    SHOTS.mkdir(parents=True, exist_ok=True)
    demo = Demo()
    pages = http.server.ThreadingHTTPServer(("127.0.0.1", 0), AttackPage)
    threading.Thread(target=pages.serve_forever, daemon=True).start()
    tmp = tempfile.mkdtemp(prefix="vouch-console-")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run",
                  "--disable-features=LocalNetworkAccessChecks,"
                  "BlockInsecurePrivateNetworkRequests,PrivateNetworkAccessSendPreflights",
                  "--host-resolver-rules=MAP attacker.test 127.0.0.1"])
        try:
            yield {"demo": demo, "browser": browser, "pport": pages.server_address[1], "tmp": tmp}
        finally:
            browser.close()
            pages.shutdown()
            demo.stop()
            shutil.rmtree(tmp, ignore_errors=True)


class Session:
    """A browser context (its own cookies) with one page, logged in by a link; it records
    console errors and failed page scripts."""

    def __init__(self, browser, link, width=1280):
        self.context = browser.new_context(viewport={"width": width, "height": 900})
        self.page = self.context.new_page()
        self.errors = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(link)

    def screen(self, name, selector):
        self.page.goto(self.page.url.split("#")[0] + f"#/{name}")
        self.page.wait_for_selector(selector, timeout=60000)

    def close(self):
        self.context.close()


def shots(page, name, full_page=True):
    """Screenshots at each width; the page must not scroll sideways at any of them."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=full_page)
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= width + 1, f"{name} at {width} px is {wide} px wide"
    page.set_viewport_size({"width": 1280, "height": 900})


def unlabeled(page):
    """Form controls without a label or an aria-label."""
    return page.evaluate("""() => [...document.querySelectorAll('input, select, textarea')]
        .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
        .map((el) => el.outerHTML.slice(0, 80))""")


def verdicts(page):
    return page.evaluate("""() => { const c = {}; for (const r of document.querySelectorAll('.feed .row'))
        c[r.dataset.verdict] = (c[r.dataset.verdict] || 0) + 1; return c; }""")


def test_the_login_link_opens_the_feed_once_without_and_with_vouch(env):
    demo, browser = env["demo"], env["browser"]
    s = Session(browser, demo.viewer_link)
    page = s.page
    page.wait_for_selector(".feed .row", timeout=60000)
    timings = page.evaluate("window.vouchTimings")
    (SHOTS / "timings.json").write_text(json.dumps(timings))
    print(f"\nfirst render of the feed: {timings}")
    # The code left the address bar; the session cookie is not readable by scripts.
    assert "#" not in page.url and "login" not in page.url
    assert "vouch_session" not in page.evaluate("document.cookie")
    posts = demo.posts()
    rows = page.query_selector_all(".feed .row")
    assert len(rows) == len(posts) == timings["posts"]
    # Each row's verdict and reasons are the API's, in its words.
    decided = demo.decide([{"post": p["id"]} for p in posts])
    for row, p, d in zip(rows[::23], posts[::23], decided[::23]):
        assert row.get_attribute("data-post") == p["id"]
        assert row.get_attribute("data-verdict") == d["verdict"]
        text = row.inner_text()
        assert p["text"] in text
        for reason in d["reasons"][:1]:
            if reason["effect"] != "show" or d["verdict"] == "show":
                assert reason["sentence"] in text
    counts = verdicts(page)
    assert counts.get("hide", 0) > 0 and counts.get("show", 0) > 0, counts
    shots(page, "feed", full_page=False)
    assert unlabeled(page) == []
    # By keyboard: a screen puts the focus on its content; the first Tab reaches its first
    # link, and going back reaches the screens' links, which Enter opens.
    page.set_viewport_size({"width": 1280, "height": 900})
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Why?"
    for _ in range(8):
        page.keyboard.press("Shift+Tab")
        if page.evaluate("document.activeElement.textContent") == "Policy":
            break
    assert page.evaluate("document.activeElement.textContent") == "Policy"
    page.keyboard.press("Enter")
    page.wait_for_selector("#preview-button", timeout=60000)
    assert s.errors == [], s.errors
    s.close()
    # The link worked once.
    again = Session(browser, demo.viewer_link)
    again.page.wait_for_selector("text=Login failed", timeout=30000)
    assert again.page.query_selector(".feed") is None
    again.close()


def test_the_explain_view_draws_the_trust_paths_and_the_reasons(env):
    demo, browser = env["demo"], env["browser"]
    s = Session(browser, demo.link(demo.viewer))
    page = s.page
    page.wait_for_selector(".feed .row[data-verdict=show]", timeout=60000)
    row = page.query_selector(".feed .row[data-verdict=show]")
    post = row.get_attribute("data-post")
    row.query_selector("a.explain").focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("svg.graph", timeout=60000)
    explained = demo.call("GET", f"/v1/viewers/{demo.viewer}/explain/{post}")
    shown = page.inner_text("#explain-reasons")
    for r in explained["reasons"]:
        assert r["sentence"] in shown
    assert page.query_selector("svg.graph g.node.viewer") is not None
    assert page.query_selector("svg.graph g.node.subject") is not None
    assert len(page.query_selector_all("svg.graph g.edge")) >= 2
    shots(page, "explain")
    assert s.errors == [], s.errors
    s.close()


def test_previewing_a_list_subscription_shows_what_it_would_hide_then_saving_changes_the_feed(env):
    demo, browser = env["demo"], env["browser"]
    policy = demo.call("GET", f"/v1/viewers/{demo.viewer}/policy")
    spam_watch = next(l for l in policy["lists"] if l["list"].endswith("/spam-watch"))
    without = {**policy, "lists": [l for l in policy["lists"] if l is not spam_watch]}
    demo.call("PUT", f"/v1/viewers/{demo.viewer}/policy", without)
    s = Session(browser, demo.link(demo.viewer))
    page = s.page
    page.wait_for_selector(".feed .row", timeout=60000)
    before = verdicts(page)
    s.screen("policy", "#preview-button")
    page.fill("#new-list", spam_watch["list"])
    page.press("#new-list", "Enter")
    page.click("#preview-button")
    page.wait_for_selector("#preview-counts", timeout=60000)
    expected = demo.call("POST", f"/v1/viewers/{demo.viewer}/diff",
                         {**without, "lists": without["lists"] + [{"list": spam_watch["list"], "weight": 1.0}]})
    newly = sum(1 for c in expected["changes"] if c["after"] == "hide" and c["before"] != "hide")
    assert newly > 0
    assert f"{newly} newly hidden" in page.inner_text("#preview-counts")
    for sentence in expected["sentences"]:
        assert sentence in page.inner_text("#preview-sentences")
    # The structured editors write the policy's JSON: an override, previewed, then dropped.
    page.click("text=Add to overrides (your own verdicts)")
    page.fill("#overrides input", posts_author := demo.posts()[0]["author"])
    page.press("#overrides input", "Tab")
    page.select_option("#overrides select", "hide")
    assert json.loads(page.input_value("#policy-json"))["overrides"] == [{"subject": posts_author, "verdict": "hide"}]
    page.click("#overrides button:has-text('Remove')")
    assert json.loads(page.input_value("#policy-json"))["overrides"] == []
    # A preview saves nothing.
    assert demo.call("GET", f"/v1/viewers/{demo.viewer}/policy")["lists"] == without["lists"]
    assert unlabeled(page) == []
    shots(page, "policy")
    page.click("#save-button")
    page.wait_for_selector("#saved", timeout=60000)
    assert any(l["list"] == spam_watch["list"] for l in demo.call("GET", f"/v1/viewers/{demo.viewer}/policy")["lists"])
    s.screen("feed", ".feed .row")
    after = verdicts(page)
    assert after.get("hide", 0) > before.get("hide", 0), (before, after)
    assert s.errors == [], s.errors
    s.close()


def test_the_owner_bans_from_the_report_queue_and_the_viewers_feed_hides_the_post(env):
    demo, browser, tmp = env["demo"], env["browser"], env["tmp"]
    rude = next(p for p in demo.posts() if p["text"] == "anyone who composts is a fool")
    keys = pathlib.Path(tmp) / "reporter-keys"
    base = {k: v for k, v in os.environ.items() if not k.startswith("VOUCH_")}
    cli_env = {**base, "VOUCH_KEY_DIR": str(keys), "VOUCH_HOME": tmp, "VOUCH_DATA_DIR": str(demo.dir)}
    subprocess.run([VOUCH, "key", "new", "reporter"], env=cli_env, check=True, capture_output=True)
    subprocess.run([VOUCH, "report", "--key", "reporter", rude["author"], "--group", demo.group,
                    "--category", "harassment", "--text", "insults composters"],
                   env=cli_env, check=True, capture_output=True)
    owner = demo.group.split("/")[0]
    s = Session(browser, demo.link())
    page = s.page
    page.wait_for_selector(".feed .row", timeout=60000)
    s.screen("group", f'.report[data-subject="{rude["author"]}"]')
    report = page.query_selector(f'.report[data-subject="{rude["author"]}"]')
    assert "insults composters" in report.inner_text()
    assert rude["text"] in report.query_selector(".reported-post").inner_text()
    report.query_selector("text=How far would a ban reach?").click()
    page.wait_for_selector(f'.report[data-subject="{rude["author"]}"] .reach:has-text("reaches")', timeout=60000)
    assert "reaches 1 of the node's 1 viewers" in report.query_selector(".reach").inner_text()
    shots(page, "group")
    assert unlabeled(page) == []
    olga = next(k["name"] for k in demo.call("GET", "/v1/console/keys")["keys"] if k["did"] == owner)
    report.query_selector("select").select_option(olga)
    report.query_selector("input[type=date]").fill("2030-01-01")
    report.query_selector("button.danger").click()
    page.wait_for_selector("#ban-done", timeout=60000)
    # Through the API: the ban is in force, signed by the owner, and the post is hidden for it.
    bans = demo.call("GET", f"/v1/groups/{demo.group}/bans")["bans"]
    ban = next(b for b in bans if b["subject"] == rude["author"])
    entries = demo.call("GET", f"/v1/lists/{demo.group}-bans?limit=10000")["entries"]
    entry = next(e for e in entries if e["id"] == ban["ban"])
    assert entry["author"] == owner and entry["reason"] == "insults composters"
    assert entry["expires"] == 1893456000000, entry  # 2030-01-01, as picked in the form
    d = demo.decide([{"post": rude["id"]}])[0]
    assert d["verdict"] == "hide"
    ban_reason = next(r for r in d["reasons"] if r["effect"] == "hide")
    assert "ban" in ban_reason["code"], ban_reason
    # In the viewer's page.
    v = Session(browser, demo.link(demo.viewer))
    v.page.wait_for_selector(f'.feed .row[data-post="{rude["id"]}"]', timeout=60000)
    row = v.page.query_selector(f'.feed .row[data-post="{rude["id"]}"]')
    assert row.get_attribute("data-verdict") == "hide"
    assert ban_reason["sentence"] in row.inner_text()
    assert s.errors == [] and v.errors == [], (s.errors, v.errors)
    s.close()
    v.close()


def test_a_moderator_dismisses_a_report_and_it_leaves_the_queue_until_the_next_one(env):
    demo, browser, tmp = env["demo"], env["browser"], env["tmp"]
    owner = demo.group.split("/")[0]
    rude = next(p for p in demo.posts() if p["text"] == "anyone who composts is a fool")
    # Someone else's post, reported as spam: the owner reads it and dismisses the report.
    post = next(p for p in demo.posts() if p["author"] not in (owner, rude["author"]))
    keys = pathlib.Path(tmp) / "dismiss-keys"
    base = {k: v for k, v in os.environ.items() if not k.startswith("VOUCH_")}
    cli_env = {**base, "VOUCH_KEY_DIR": str(keys), "VOUCH_HOME": tmp, "VOUCH_DATA_DIR": str(demo.dir)}
    subprocess.run([VOUCH, "key", "new", "grump"], env=cli_env, check=True, capture_output=True)
    report = lambda text: subprocess.run(
        [VOUCH, "report", "--key", "grump", post["id"], "--group", demo.group, "--category", "spam",
         "--text", text], env=cli_env, check=True, capture_output=True)
    report("looks like an ad")
    before = demo.decide([{"post": post["id"]}])[0]
    s = Session(browser, demo.link())
    page = s.page
    page.wait_for_selector(".feed .row", timeout=60000)
    row_sel = f'#reports .report[data-subject="{post["id"]}"]'
    s.screen("group", row_sel)
    row = page.query_selector(row_sel)
    assert "looks like an ad" in row.inner_text()
    olga = next(k["name"] for k in demo.call("GET", "/v1/console/keys")["keys"] if k["did"] == owner)
    row.query_selector("select[id^=dismiss-key]").select_option(olga)
    row.query_selector("input[id^=dismiss-text]").fill("a recipe, not an ad")
    row.query_selector("button:has-text('Dismiss')").click()
    page.wait_for_selector("#dismiss-done", timeout=60000)
    # In the page: out of the open queue, in the dismissed section with who and why.
    assert page.query_selector(row_sel) is None
    page.click("#dismissed summary")
    gone = page.query_selector(f'#dismissed .report[data-subject="{post["id"]}"]')
    assert gone is not None and "a recipe, not an ad" in gone.inner_text()
    shots(page, "group-dismissed")
    # Through the API: the dismissal is a signed object by the owner naming the report.
    g = demo.group
    open_q = demo.call("GET", f"/v1/groups/{g}/reports?state=open")["reports"]
    assert all(r["subject"] != post["id"] for r in open_q)
    item = next(r for r in demo.call("GET", f"/v1/groups/{g}/reports?state=dismissed")["reports"]
                if r["subject"] == post["id"])
    assert item["open"] is False and item["dismissed"] == item["reports"]
    assert item["dismissals"][0]["moderator"] == owner
    assert item["dismissals"][0]["text"] == "a recipe, not an ad"
    req = urllib.request.Request(f"http://{demo.addr}/v1/objects/{item['dismissals'][0]['id']}")
    req.add_header("Authorization", f"Bearer {demo.token}")
    block = pathlib.Path(tmp) / "dismissal.cbor"
    with urllib.request.urlopen(req, timeout=60) as r:
        block.write_bytes(r.read())
    checked = json.loads(subprocess.run([VOUCH, "object", "check", str(block), "--json"], env=cli_env,
                                        check=True, capture_output=True, text=True).stdout)
    assert checked["kind"] == "dismiss" and checked["author"] == owner, checked
    assert checked["object"]["body"]["reports"] == item["reports"], checked
    # Dismissing takes no action: the post's verdict is what it was.
    assert demo.decide([{"post": post["id"]}])[0]["verdict"] == before["verdict"]
    # The next report about the same post reopens the item.
    report("still an ad")
    page.reload()
    page.wait_for_selector(row_sel, timeout=60000)
    assert "still an ad" in page.query_selector(row_sel).inner_text()
    assert s.errors == [], s.errors
    s.close()


def test_a_curator_removes_an_entry_and_the_viewers_open_page_shows_the_change(env):
    demo, browser = env["demo"], env["browser"]
    posts = demo.posts()
    decided = demo.decide([{"post": p["id"]} for p in posts])
    friend = next(p["author"] for p, d in zip(posts, decided) if d.get("verdict") == "warn")
    spam_watch = next(l for l in demo.lists if l.endswith("/spam-watch"))
    v = Session(browser, demo.link(demo.viewer))
    v.page.wait_for_selector("body[data-events=ready]", timeout=60000)
    s = Session(browser, demo.link())
    s.page.wait_for_selector(".feed .row", timeout=60000)
    s.screen(f"lists/{spam_watch}", f'#entries tr[data-subject="{friend}"]')
    shots(s.page, "lists")
    assert unlabeled(s.page) == []
    s.page.click(f'#entries tr[data-subject="{friend}"] button')
    s.page.wait_for_selector("#entry-removed", timeout=60000)
    v.page.wait_for_selector("#change-sentences", timeout=60000)
    assert "spam-watch" in v.page.inner_text("#change-sentences")
    v.page.screenshot(path=str(SHOTS / "change-notice-1280.png"))
    entries = demo.call("GET", f"/v1/lists/{spam_watch}?limit=10000")["entries"]
    assert not any(e["subject"] == friend and e["status"] == "live" for e in entries)
    assert s.errors == [] and v.errors == [], (s.errors, v.errors)
    s.close()
    v.close()


@pytest.mark.parametrize("host", ["127.0.0.1", "attacker.test"])
def test_a_page_of_another_origin_cannot_use_the_session(env, host):
    demo, browser = env["demo"], env["browser"]
    s = Session(browser, demo.link())
    s.page.wait_for_selector(".feed .row", timeout=60000)
    policy = demo.call("GET", f"/v1/viewers/{demo.viewer}/policy")
    objects = demo.call("GET", "/v1/status")["objects"]
    refused = demo.metric("api_origin_refused_total")
    # The attacker's page in the same browser context: the session cookie is there, and for
    # 127.0.0.1 on another port the request is same-site, so SameSite=Strict sends it.
    attack = s.context.new_page()
    attack.goto(f"http://{host}:{env['pport']}/")
    attack.evaluate("([n, v, l]) => attack(n, v, l)",
                    [f"http://{demo.addr}", demo.viewer, next(l for l in demo.lists)])
    results = attack.evaluate("window.results")
    assert results.get("done"), results
    text = json.dumps(results)
    assert demo.viewer not in text and '"role"' not in text, results
    assert demo.call("GET", f"/v1/viewers/{demo.viewer}/policy") == policy
    assert demo.call("GET", "/v1/status")["objects"] == objects
    assert demo.metric("api_origin_refused_total") >= refused + 5
    # The session still works for the console itself.
    s.screen("policy", "#preview-button")
    assert s.errors == [], s.errors
    s.close()
