#!/usr/bin/env python3
"""Filter a feed through a Vouch node: print the posts a viewer keeps, and why others go.

Usage: filter_feed.py API_URL VIEWER_DID FEED_FILE   (FEED_FILE: one post CID a line)
The API token: $VOUCH_API_TOKEN, else the file $VOUCH_API_TOKEN_FILE, else the node's admin
token in $VOUCH_DATA_DIR/api.token (default ~/.local/share/vouch). Standard library only;
see examples/README.md.
"""
import json
import os
import sys
import urllib.request

BATCH = 1000  # the most items one decide call takes


def token():
    if os.environ.get("VOUCH_API_TOKEN"):
        return os.environ["VOUCH_API_TOKEN"]
    data_dir = os.environ.get("VOUCH_DATA_DIR") or os.path.join(
        os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share"), "vouch")
    path = os.environ.get("VOUCH_API_TOKEN_FILE") or os.path.join(data_dir, "api.token")
    with open(path) as f:
        return f.read().strip()


def decide(api, auth, viewer, cids):
    body = json.dumps({"items": [{"post": cid} for cid in cids]}).encode()
    url = f"{api.rstrip('/')}/v1/viewers/{viewer}/decide"
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {auth}"}
    with urllib.request.urlopen(urllib.request.Request(url, body, headers)) as answer:
        return json.load(answer)["decisions"]


def main(api, viewer, feed_file):
    auth = token()
    cids = [line.strip() for line in open(feed_file) if line.strip()]
    kept = 0
    for start in range(0, len(cids), BATCH):
        batch = cids[start:start + BATCH]
        for cid, d in zip(batch, decide(api, auth, viewer, batch)):
            if "error" in d:  # a post the node does not store, a bad CID
                print(f"drop {cid} error: {d['error']['code']}: {d['error']['message']}")
                continue
            keep = d["verdict"] in ("show", "warn")  # warn: show, with the reason as a note
            kept += keep
            why = " ".join(r["sentence"] for r in d["reasons"] if r["effect"] == d["verdict"])
            print(f"{'keep' if keep else 'drop'} {cid} {d['verdict']}: {why}".rstrip(": "))
    print(f"kept {kept} of {len(cids)}")


if __name__ == "__main__":
    main(*sys.argv[1:]) if len(sys.argv) == 4 else sys.exit(__doc__)
