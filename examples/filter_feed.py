#!/usr/bin/env python3
"""Filter a feed through a Vouch node: print the posts a viewer keeps, and why others go.

Usage: filter_feed.py API_URL VIEWER_DID FEED_FILE   (FEED_FILE: one post CID a line)
Standard library only; see examples/README.md.
"""
import json
import sys
import urllib.request

BATCH = 1000  # the most items one decide call takes


def decide(api, viewer, cids):
    body = json.dumps({"items": [{"post": cid} for cid in cids]}).encode()
    url = f"{api.rstrip('/')}/v1/viewers/{viewer}/decide"
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as answer:
        return json.load(answer)["decisions"]


def main(api, viewer, feed_file):
    cids = [line.strip() for line in open(feed_file) if line.strip()]
    kept = 0
    for start in range(0, len(cids), BATCH):
        batch = cids[start:start + BATCH]
        for cid, d in zip(batch, decide(api, viewer, batch)):
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
