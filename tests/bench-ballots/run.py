"""Ballot verification throughput on a running node (specs/identity.md §11).

Starts a `vouch node run` on a temporary folder, makes a personhood group, an issuer, one
credential and a poll with the CLI, signs N ballots offline (`vouch poll vote --no-submit`),
submits them all at once, and measures the time until the node verified every proof
(`pending == 0` in `GET /v1/polls/{cid}`), next to the verifier threads' own time per proof
from the node's metrics (the one-thread baseline of the same run).

Usage: python3 run.py VOUCH_BINARY [N]   (N defaults to 400)
"""
import json, os, pathlib, subprocess, sys, tempfile, time, urllib.request

VOUCH = sys.argv[1]
N = int(sys.argv[2]) if len(sys.argv) > 2 else 400
tmp = pathlib.Path(tempfile.mkdtemp(prefix="vouch-ballots-"))
env = {k: v for k, v in os.environ.items() if not k.startswith("VOUCH_")}
env["VOUCH_HOME"] = str(tmp / "home")
env["VOUCH_DATA_DIR"] = str(tmp / "node")

def run(*args):
    r = subprocess.run([VOUCH, *args], env=env, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"vouch {args}: {r.stderr}")
    return r.stdout.strip()

(tmp / "node").mkdir(parents=True)
log = open(tmp / "node.log", "ab")
node = subprocess.Popen([VOUCH, "node", "run", "--data-dir", str(tmp / "node"), "--listen",
                         "/ip4/127.0.0.1/tcp/0", "--api", "127.0.0.1:0"], env={**env, "RUST_LOG": "warn"},
                        stdout=subprocess.DEVNULL, stderr=log)
try:
    addr = tmp / "node" / "api.addr"
    while not addr.exists():
        time.sleep(0.1)
    base = "http://" + addr.read_text().strip()
    def get(path):
        with urllib.request.urlopen(base + path, timeout=60) as r:
            return json.loads(r.read())
    owner = json.loads(run("key", "new", "owner", "--no-commit", "--json"))["did"]
    town = run("personhood", "issuer", "new", "--name", "town")
    run("group", "create", "village", "--key", "owner", "--personhood-votes", "--credential-issuer", town)
    run("personhood", "request", "--out", str(tmp / "req.json"))
    run("personhood", "issue", "--issuer", "town", "--request", str(tmp / "req.json"), "--out", str(tmp / "iss.json"))
    run("personhood", "finalize", "--issuance", str(tmp / "iss.json"))
    poll = json.loads(run("poll", "create", "--key", "owner", "--group", f"{owner}/village", "Q?", "--closes", "+1d", "--json").splitlines()[-1])["cid"]
    files = []
    for i in range(N):
        f = tmp / f"b{i}.cbor"
        run("poll", "vote", poll, "0", "--no-submit", "--out", str(f))
        files.append(f.read_bytes())
    start = time.time()
    for b in files:
        req = urllib.request.Request(base + "/v1/objects?wait=false", data=b, method="POST")
        req.add_header("Content-Type", "application/vnd.ipld.dag-cbor")
        urllib.request.urlopen(req, timeout=60).read()
    submitted = time.time() - start
    while True:
        t = get(f"/v1/polls/{poll}")["tally"]
        if t["ballots"] == N and t["pending"] == 0:
            break
        time.sleep(0.05)
    wall = time.time() - start
    metrics = urllib.request.urlopen(base + "/metrics").read().decode()
    m = {l.split()[0]: float(l.split()[1]) for l in metrics.splitlines() if l.startswith("vouch_personhood")}
    checked = m["vouch_personhood_proofs_checked_total"]
    micros = m["vouch_personhood_verify_micros_total"]
    per = micros / checked / 1000
    print(json.dumps({"ballots": N, "submit_s": round(submitted, 2), "until_verified_s": round(wall, 2),
                      "ballots_per_s": round(N / wall, 1), "proofs_checked": checked,
                      "thread_ms_per_proof": round(per, 2), "one_thread_proofs_per_s": round(1000 / per, 1),
                      "speedup_vs_one_thread": round(N * per / 1000 / wall, 2),
                      "voters": t["voters"], "cores": os.cpu_count()}))
finally:
    node.terminate(); node.wait(30)
