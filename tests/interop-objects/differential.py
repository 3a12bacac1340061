"""Differential check of Vouch's object decoder against two independent ones, on the fuzz
corpus (every input under fuzz/seeds/decode and, when a campaign left one, fuzz/corpus/decode).

- Python (test_vectors.validate: dag-cbor, multiformats, PyNaCl, written from
  specs/objects.md alone) must give the same accept/reject answer as `vouch object check`
  for every input, and the same CID when both accept.
- JavaScript (@ipld/dag-cbor, tests/interop-car/corpus.mjs): every input Vouch accepts must
  decode there and re-encode to the same bytes, with the same CID; an input that decodes
  there but re-encodes differently (not canonical DAG-CBOR) must be rejected by Vouch.
Error codes are compared too and reported, but an input with several faults may be named by
a different one of them, so only the answers and CIDs must agree.

    python differential.py VOUCH_BINARY [--node NODE_BINARY]
Exit 1 on any disagreement. Prints "N passed, 0 failed".
"""

import json
import pathlib
import subprocess
import sys
import tempfile

from multiformats import CID, multihash

from test_vectors import Reject, validate

ROOT = pathlib.Path(__file__).resolve().parents[2]
NOW = 1_767_225_600_000  # the fuzz targets' time (vouch_node::fuzz::NOW_MS)
MAX_SIZE = 64 * 1024
MAX_SKEW = 5 * 60 * 1000


def corpus():
    files = []
    for d in [ROOT / "fuzz" / "seeds" / "decode", ROOT / "fuzz" / "corpus" / "decode"]:
        if d.is_dir():
            files.extend(sorted(p for p in d.iterdir() if p.is_file()))
    return files


def ours(vouch, inputs, work):
    """`vouch object check --json` on hex copies (the command reads all-hex files as hex)."""
    paths = []
    for i, data in enumerate(inputs):
        p = work / f"{i}.hex"
        p.write_text(data.hex())
        paths.append(p)
    out = {}
    for start in range(0, len(paths), 500):
        chunk = paths[start:start + 500]
        r = subprocess.run([vouch, "object", "check", "--json", "--now", str(NOW)]
                           + [str(p) for p in chunk], capture_output=True, text=True)
        if r.returncode not in (0, 1):
            sys.exit(f"vouch object check failed: {r.stderr}")
        for line in r.stdout.splitlines():
            v = json.loads(line)
            out[pathlib.Path(v["file"]).name] = v
    return [out[p.name] for p in paths]


def theirs_js(node, files):
    script = ROOT / "tests" / "interop-car" / "corpus.mjs"
    out = {}
    for start in range(0, len(files), 500):
        chunk = [str(f) for f in files[start:start + 500]]
        r = subprocess.run([node, str(script)] + chunk, capture_output=True, text=True,
                           cwd=script.parent)
        if r.returncode != 0:
            sys.exit(f"corpus.mjs failed: {r.stderr}")
        for line in r.stdout.splitlines():
            v = json.loads(line)
            out[v["file"]] = v
    return [out[str(f)] for f in files]


def main():
    vouch = sys.argv[1]
    node = sys.argv[sys.argv.index("--node") + 1] if "--node" in sys.argv else None
    files = corpus()
    inputs = [f.read_bytes() for f in files]
    with tempfile.TemporaryDirectory() as tmp:
        answers = ours(vouch, inputs, pathlib.Path(tmp))
    js = theirs_js(node, files) if node else [None] * len(files)
    passed, failed, same_code = 0, [], 0
    for f, data, a, j in zip(files, inputs, answers, js):
        problems = []
        try:
            validate(data, NOW, MAX_SIZE, MAX_SKEW)
            py_ok, py_code = True, None
        except Reject as e:
            py_ok, py_code = False, e.code
        except Exception as e:  # the independent decoder crashed: a disagreement too
            py_ok, py_code = False, f"python-crash: {e!r}"[:80]
        ours_ok = a["valid"]
        if ours_ok != py_ok:
            problems.append(f"vouch {'accepts' if ours_ok else 'rejects ' + a['error']['code']}"
                            f", python {'accepts' if py_ok else 'rejects ' + py_code}")
        cid = str(CID("base32", 1, "dag-cbor", multihash.digest(data, "sha2-256")))
        if ours_ok and py_ok and a["cid"] != cid:
            problems.append(f"CID {a['cid']} vs python {cid}")
        if not ours_ok and not py_ok and a["error"]["code"] == py_code:
            same_code += 1
        if j is not None:
            if ours_ok and not (j["decodes"] and j["canonical"] and j["cid"] == a["cid"]):
                problems.append(f"vouch accepts, @ipld/dag-cbor: {j}")
            if j["decodes"] and not j["canonical"] and ours_ok:
                problems.append("vouch accepts bytes @ipld/dag-cbor re-encodes differently")
        if problems:
            failed.append((f.name, problems))
        else:
            passed += 1
    rejected = sum(1 for a in answers if not a["valid"])
    print(f"differential: {len(files)} corpus inputs, {len(files) - rejected} accepted, "
          f"{rejected} rejected; same error code as python on {same_code} of the rejected; "
          f"javascript {'checked' if node else 'not run'}")
    for name, problems in failed[:20]:
        print(f"DISAGREE {name}: {'; '.join(problems)}")
    print(f"{passed} passed, {len(failed)} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
