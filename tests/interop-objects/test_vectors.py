"""Independent check of Vouch's object test vectors (specs/vectors/objects-*.json).

Written from specs/objects.md alone, with other people's DAG-CBOR (dag-cbor), CID
(multiformats) and ed25519 (PyNaCl / libsodium) code: every valid vector must re-derive to
the same CID and verify; every invalid vector must be rejected with the same error code.
"""

import hashlib
import json
import pathlib
import unicodedata

import dag_cbor
import nacl.bindings
import nacl.exceptions
import nacl.signing
import pytest
from multiformats import CID, multibase, multihash

VECTORS = pathlib.Path(__file__).resolve().parents[2] / "specs" / "vectors"
PREFIX = {
    "object": b"vouch/v1/object\x00",
    "rotate": b"vouch/v1/rotate\x00",
    "link": b"vouch/v1/link\x00",
}
NEXT_KEY_PREFIX = b"vouch/v1/next-key\x00"
MS_PER_EPOCH = 86_400_000
I64 = (-(2**63), 2**63 - 1)
U64 = (0, 2**64 - 1)


class Reject(Exception):
    def __init__(self, code, why=""):
        super().__init__(f"{code}: {why}")
        self.code = code


def is_int(x, lo, hi):
    return type(x) is int and lo <= x <= hi


def check_key(b):
    if not isinstance(b, bytes) or len(b) != 32:
        raise Reject("invalid-key", "key must be 32 bytes")
    # libsodium: canonical encoding of a point that is not of small order.
    if not nacl.bindings.crypto_core_ed25519_is_valid_point(b):
        raise Reject("invalid-key", "not a valid ed25519 point")
    return b


# ---- body schemas: field -> (type, required) ---------------------------------------------
# Types: str, int (i64), uint (u64), bool, key, cid (any CID), oid (Vouch object CID),
# subject, groupref, listref, purpose, outcome, policy, sig, [T] (list of T).
GROUPREF = {"owner": ("key", True), "name": ("str", True)}
LISTREF = GROUPREF
POLICY = {
    "min_trust": ("uint", False),
    "vote_budget": ("uint", False),
    "credential_issuer": ("str", False),
    "personhood_votes": ("flag", False),
    "amend_quorum": ("uint", False),
    "amend_majority": ("uint", False),
}
AMENDMENT = {"min_trust": ("uint", False), "vote_budget": ("uint", False)}
ROTATE_V1 = {"new": ("key", True), "new_sig": ("sig", True)}
ROTATE_V2 = {"old": ("key", True), "next": ("digest", False), "since": ("uint", False)}
SCHEMAS = {
    "post": {"group": ("groupref", False), "text": ("str", True), "links": ("[cid]", False),
             "reply": ("oid", False), "root": ("oid", False)},
    "vote": {"target": ("subject", True), "value": ("int", True), "epoch": ("uint", True),
             "group": ("groupref", False)},
    "attest": {"subject": ("key", True), "level": ("int", True), "context": ("groupref", False),
               "claim": ("str", False), "expires": ("uint", False)},
    "list": {"name": ("str", True), "purpose": ("purpose", True), "description": ("str", False),
             "group": ("groupref", False), "seq": ("uint", True)},
    "list-add": {"list": ("listref", True), "subject": ("subject", True), "reason": ("str", False),
                 "category": ("str", False), "expires": ("uint", False)},
    "list-remove": {"list": ("listref", True), "adds": ("[oid]", True)},
    "group": {"name": ("str", True), "rules": ("str", False), "policy": ("policy", True),
              "moderators": ("[key]", False), "seq": ("uint", True)},
    "label": {"subject": ("subject", True), "value": ("str", True), "neg": ("flag", False),
              "reason": ("str", False), "expires": ("uint", False)},
    "report": {"subject": ("subject", True), "group": ("groupref", True), "category": ("str", True),
               "text": ("str", False)},
    "dismiss": {"group": ("groupref", True), "reports": ("[oid]", True), "text": ("str", False)},
    "appeal": {"target": ("oid", True), "text": ("str", False), "outcome": ("outcome", False)},
    "rotate": ROTATE_V1,  # or ROTATE_V2, told apart by their fields (see schema_for)
    "revoke": {"since": ("uint", True), "reason": ("str", False)},
    "link": {"identity": ("str", True), "proof": ("sig", True)},
    "incept": {"next": ("digest", True)},
    "poll": {"group": ("groupref", True), "header": ("oid", True), "text": ("str", True),
             "options": ("uint", True), "closes": ("uint", True), "amend": ("amendment", False)},
    "ballot": {"poll": ("oid", True), "choice": ("uint", True), "proof": ("bytes", True)},
    "credential": {"vc": ("str", True)},
    "credential-revoke": {"credential": ("str", True), "reason": ("str", False)},
}


def schema_for(kind, body):
    """rotate has two versions: v1 {new, new_sig} and v2 {old, next?, since?}."""
    if kind == "rotate" and isinstance(body, dict) and not ({"new", "new_sig"} & set(body)):
        return ROTATE_V2
    return SCHEMAS[kind]


class Canon:
    """Collects data-model redundancies (null / false / [] where the field must be absent)."""

    def __init__(self):
        self.redundant = False


def check_value(t, x, canon):
    """Type-checks one field value; raises invalid-body / invalid-key."""
    if t.startswith("["):
        if not isinstance(x, list):
            raise Reject("invalid-body", "expected a list")
        return [check_value(t[1:-1], e, canon) for e in x]
    if t == "str":
        if not isinstance(x, str):
            raise Reject("invalid-body", "expected text")
    elif t == "int":
        if not is_int(x, *I64):
            raise Reject("invalid-body", "expected a 64-bit integer")
    elif t == "uint":
        if not is_int(x, *U64):
            raise Reject("invalid-body", "expected an unsigned integer")
    elif t == "flag":
        if not isinstance(x, bool):
            raise Reject("invalid-body", "expected a bool")
    elif t == "key":
        check_key(x)
    elif t == "sig":
        if not isinstance(x, bytes) or len(x) != 64:
            raise Reject("invalid-body", "expected 64 signature bytes")
    elif t == "digest":
        if not isinstance(x, bytes) or len(x) != 32:
            raise Reject("invalid-body", "expected 32 digest bytes")
    elif t == "bytes":
        if not isinstance(x, bytes):
            raise Reject("invalid-body", "expected a byte string")
    elif t == "cid":
        if not isinstance(x, CID):
            raise Reject("invalid-body", "expected a CID link")
    elif t == "oid":
        if not isinstance(x, CID) or x.version != 1 or x.codec.name != "dag-cbor" \
                or x.hashfun.name != "sha2-256" or len(x.raw_digest) != 32:
            raise Reject("invalid-body", "expected a CIDv1 dag-cbor sha2-256")
    elif t == "subject":
        if not isinstance(x, dict) or len(x) != 1:
            raise Reject("invalid-body", "subject is a one-entry map")
        (tag, val), = x.items()
        if tag == "key":
            check_key(val)
        elif tag == "obj":
            check_value("oid", val, canon)
        else:
            raise Reject("invalid-body", "subject is key or obj")
    elif t in ("groupref", "listref"):
        check_struct(GROUPREF, x, canon)
    elif t == "policy":
        check_struct(POLICY, x, canon)
    elif t == "amendment":
        check_struct(AMENDMENT, x, canon)
    elif t == "purpose":
        if x not in ("block", "allow", "ban", "label"):
            raise Reject("invalid-body", "unknown purpose")
    elif t == "outcome":
        if x not in ("upheld", "granted"):
            raise Reject("invalid-body", "unknown outcome")
    else:
        raise AssertionError(t)
    return x


def check_struct(schema, x, canon):
    if not isinstance(x, dict):
        raise Reject("invalid-body", "expected a map")
    for k in x:
        if k not in schema:
            raise Reject("invalid-body", f"unknown field {k}")
    for name, (t, required) in schema.items():
        if name not in x:
            if required:
                raise Reject("invalid-body", f"missing field {name}")
            continue
        v = x[name]
        if not required and v is None:
            canon.redundant = True  # absent, but written as null
            continue
        if t == "flag" and v is False:
            canon.redundant = True
        if t.startswith("[") and not required and v == []:
            canon.redundant = True
        check_value(t, v, canon)
    return x


# ---- field bounds (specs/objects.md, "Field bounds"), in the spec's order per kind --------
def bound(ok, why):
    if not ok:
        raise Reject("out-of-bounds", why)


def blen(s):
    return len(s.encode("utf-8"))


def name_ok(n):
    bound(1 <= blen(n) <= 64, "name 1..64 bytes")
    bound(not any(unicodedata.category(c) == "Cc" for c in n), "no control characters")


def token_ok(t):
    bound(1 <= blen(t) <= 64, "token 1..64 bytes")
    bound(all(c in "abcdefghijklmnopqrstuvwxyz0123456789-" for c in t), "token charset")


def opt_text(body, field, limit):
    if body.get(field) is not None:
        bound(blen(body[field]) <= limit, f"{field} too long")


def expiry_ok(body, at):
    e = body.get("expires")
    if e is not None and e <= at:
        raise Reject("bad-expiry", "expires <= at")


def verify(key, domain, msg, sig):
    try:
        nacl.signing.VerifyKey(key).verify(PREFIX[domain] + msg, sig)
        return True
    except (nacl.exceptions.BadSignatureError, ValueError):
        return False


def next_key_digest(key):
    return hashlib.sha256(NEXT_KEY_PREFIX + key).digest()


def did_key_to_bytes(did):
    if not did.startswith("did:key:z"):
        return None
    try:
        raw = multibase.decode(did[len("did:key:"):])
    except Exception:
        return None
    if len(raw) != 34 or raw[:2] != b"\xed\x01":
        return None
    if not nacl.bindings.crypto_core_ed25519_is_valid_point(raw[2:]):
        return None
    return raw[2:]


def check_fields(kind, author, at, b):
    be8 = at.to_bytes(8, "big")
    if kind == "post":
        if b.get("group"):
            name_ok(b["group"]["name"])
        bound(blen(b["text"]) <= 16384, "text too long")
        bound(len(b.get("links", [])) <= 16, "too many links")
        bound(b["text"] != "" or b.get("links"), "text or links")
        bound(("reply" in b) == ("root" in b), "reply and root go together")
    elif kind == "vote":
        bound(b["value"] in (1, -1), "value +-1")
        if b.get("group"):
            name_ok(b["group"]["name"])
        if b["epoch"] != at // MS_PER_EPOCH:
            raise Reject("epoch-mismatch")
    elif kind == "attest":
        bound(-100 <= b["level"] <= 100, "level")
        bound(b["subject"] != author, "self attestation")
        if b.get("context"):
            name_ok(b["context"]["name"])
        opt_text(b, "claim", 512)
        expiry_ok(b, at)
    elif kind == "list":
        name_ok(b["name"])
        opt_text(b, "description", 2048)
        bound((b["purpose"] == "ban") == ("group" in b), "group iff ban")
        if b.get("group"):
            name_ok(b["group"]["name"])
    elif kind == "list-add":
        name_ok(b["list"]["name"])
        opt_text(b, "reason", 512)
        if b.get("category") is not None:
            token_ok(b["category"])
        expiry_ok(b, at)
    elif kind == "list-remove":
        name_ok(b["list"]["name"])
        bound(1 <= len(b["adds"]) <= 256, "1..256 adds")
        bound(len({bytes(c) for c in b["adds"]}) == len(b["adds"]), "duplicate add")
    elif kind == "group":
        name_ok(b["name"])
        opt_text(b, "rules", 16384)
        mods = b.get("moderators", [])
        bound(len(mods) <= 64, "moderators")
        bound(len(set(mods)) == len(mods), "duplicate moderator")
        bound(author not in mods, "owner is not a moderator")
        p = b["policy"]
        if p.get("min_trust") is not None:
            bound(p["min_trust"] <= 100, "min_trust")
        if p.get("vote_budget") is not None:
            bound(p["vote_budget"] <= 10000, "vote_budget")
        if p.get("credential_issuer") is not None:
            d = p["credential_issuer"]
            bound(d.startswith("did:") and blen(d) <= 256, "credential_issuer")
        if p.get("amend_quorum") is not None:
            bound(1 <= p["amend_quorum"] <= 1_000_000, "amend_quorum")
            bound(p.get("personhood_votes") is True and p.get("credential_issuer") is not None,
                  "amend_quorum needs personhood votes and an issuer")
        if p.get("amend_majority") is not None:
            bound(50 <= p["amend_majority"] <= 99 and p.get("amend_quorum") is not None,
                  "amend_majority")
    elif kind == "label":
        token_ok(b["value"])
        opt_text(b, "reason", 512)
        expiry_ok(b, at)
    elif kind == "report":
        name_ok(b["group"]["name"])
        token_ok(b["category"])
        opt_text(b, "text", 2048)
    elif kind == "dismiss":
        name_ok(b["group"]["name"])
        bound(1 <= len(b["reports"]) <= 256, "1..256 reports")
        bound(len({bytes(c) for c in b["reports"]}) == len(b["reports"]), "duplicate report")
        opt_text(b, "text", 2048)
    elif kind == "appeal":
        opt_text(b, "text", 2048)
    elif kind == "rotate" and "old" in b:
        bound(b["old"] != author, "old key differs from the author")
        bound(b.get("next") != next_key_digest(author), "next is not the author")
        bound(b.get("since") is None or b["since"] <= at, "since <= at")
    elif kind == "rotate":
        bound(b["new"] != author, "new key differs")
        if not verify(b["new"], "rotate", author + b["new"] + be8, b["new_sig"]):
            raise Reject("invalid-cosignature")
    elif kind == "incept":
        bound(b["next"] != next_key_digest(author), "next is not the author")
    elif kind == "poll":
        name_ok(b["group"]["name"])
        bound(1 <= blen(b["text"]) <= 2048, "text 1..2048 bytes")
        bound(2 <= b["options"] <= 256, "options 2..256")
        bound(b["closes"] > at, "closes after at")
        a = b.get("amend")
        if a is not None:
            bound(b["options"] == 2, "an amendment has two options")
            bound(a.get("min_trust") is not None or a.get("vote_budget") is not None,
                  "amendment changes a rule")
            if a.get("min_trust") is not None:
                bound(a["min_trust"] <= 100, "amend.min_trust")
            if a.get("vote_budget") is not None:
                bound(a["vote_budget"] <= 10000, "amend.vote_budget")
    elif kind == "ballot":
        bound(b["choice"] <= 255, "choice 0..255")
        bound(1 <= len(b["proof"]) <= 1024, "proof 1..1024 bytes")
    elif kind == "credential":
        bound(1 <= blen(b["vc"]) <= 16384, "vc 1..16384 bytes")
    elif kind == "credential-revoke":
        bound(1 <= blen(b["credential"]) <= 512, "credential id 1..512 bytes")
        opt_text(b, "reason", 512)
    elif kind == "revoke":
        bound(b["since"] <= at, "since <= at")
        opt_text(b, "reason", 512)
    elif kind == "link":
        bound(blen(b["identity"]) <= 256, "identity length")
        ident = did_key_to_bytes(b["identity"])
        if ident is None:
            raise Reject("unsupported-did")
        bound(ident != author, "identity is not the posting key")
        msg = author + b["identity"].encode() + be8
        if not verify(ident, "link", msg, b["proof"]):
            raise Reject("invalid-cosignature")


def validate(data, now, max_size, max_skew):
    """Returns (kind, author) or raises Reject with the spec's error code."""
    if len(data) > max_size:
        raise Reject("oversize")
    try:
        env = dag_cbor.decode(data)
    except Exception as e:  # strict DAG-CBOR: any decoding error
        raise Reject("malformed", str(e)[:60])
    if not isinstance(env, dict) or set(env) != {"v", "kind", "author", "at", "body", "sig"}:
        raise Reject("malformed", "not an envelope")
    if not is_int(env["v"], *U64) or not isinstance(env["kind"], str) \
            or not isinstance(env["author"], bytes) or not is_int(env["at"], *U64) \
            or not isinstance(env["sig"], bytes) or len(env["sig"]) != 64:
        raise Reject("malformed", "envelope field types")
    if env["v"] != 1:
        raise Reject("unsupported-version")
    kind = env["kind"]
    if kind not in SCHEMAS:
        raise Reject("unknown-kind")
    author = check_key(env["author"])
    canon = Canon()
    body = check_struct(schema_for(kind, env["body"]), env["body"], canon)
    if canon.redundant or dag_cbor.encode(env) != data:
        raise Reject("non-canonical")
    at = env["at"]
    if at > now + max_skew:
        raise Reject("future-timestamp")
    body = {k: v for k, v in body.items() if v is not None}
    check_fields(kind, author, at, body)
    unsigned = {k: v for k, v in env.items() if k != "sig"}
    if not verify(author, "object", dag_cbor.encode(unsigned), env["sig"]):
        raise Reject("invalid-signature")
    return kind, author


def load(name):
    d = json.loads((VECTORS / name).read_text())
    assert bytes.fromhex(d["domain_prefix_hex"]) == PREFIX["object"]
    return d, [pytest.param(v, id=v["name"]) for v in d["vectors"]]


VALID, VALID_PARAMS = load("objects-valid.json")
INVALID, INVALID_PARAMS = load("objects-invalid.json")


@pytest.mark.parametrize("vec", VALID_PARAMS)
def test_valid_vector(vec):
    data = bytes.fromhex(vec["bytes"])
    kind, author = validate(data, VALID["now"], VALID["max_size"], VALID["max_skew_ms"])
    assert kind == vec["kind"]
    assert author.hex() == vec["public_key"]
    cid = CID("base32", 1, "dag-cbor", multihash.digest(data, "sha2-256"))
    assert str(cid) == vec["cid"]
    assert "did:key:" + multibase.encode(b"\xed\x01" + author, "base58btc") == vec["author"]


@pytest.mark.parametrize("vec", INVALID_PARAMS)
def test_invalid_vector(vec):
    data = bytes.fromhex(vec["bytes"])
    with pytest.raises(Reject) as err:
        validate(data, INVALID["now"], INVALID["max_size"], INVALID["max_skew_ms"])
    assert err.value.code == vec["error"], str(err.value)


def test_coverage():
    kinds = {v["kind"] for v in VALID["vectors"]}
    assert kinds == set(SCHEMAS)
    codes = {v["error"] for v in INVALID["vectors"]}
    assert len(codes) == 14
    assert len(VALID["vectors"]) + len(INVALID["vectors"]) >= 40
