//! Tests of event parsing, ids and signatures.

use super::*;

fn key(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32]).unwrap()
}

fn signed(kind: u32, tags: Vec<Vec<String>>, content: &str) -> Event {
    sign_event(&key(7), 1_700_000_000, kind, tags, content.into(), &[0; 32]).unwrap()
}

fn json(e: &Event) -> Vec<u8> {
    serde_json::to_vec(&e.to_json()).unwrap()
}

const NOW: u64 = 1_700_000_100;

#[test]
fn signed_events_verify_and_round_trip() {
    let e = signed(
        1,
        vec![vec!["p".into(), "ab".into()]],
        "hi \"there\"\n\t\\ é 😀 \u{1}",
    );
    let back = verify_event(&json(&e), &EventLimits::default(), NOW).unwrap();
    assert_eq!(back, e);
}

#[test]
fn the_canonical_serialization_is_nip01s() {
    let pk = [0xab; 32];
    let tags = vec![vec!["e".to_string(), "x".to_string()]];
    let content = "a\"b\\c\nd\re\tf\u{8}g\u{c}h\u{1}i/j\u{7f}k";
    let got = serde_json::to_string(&(0u8, hex::encode(pk), 5u64, 1u32, &tags, content)).unwrap();
    // What JSON.stringify gives for the same array (checked with node).
    let want = format!(
        "[0,\"{}\",5,1,[[\"e\",\"x\"]],\"a\\\"b\\\\c\\nd\\re\\tf\\bg\\fh\\u0001i/j\u{7f}k\"]",
        hex::encode(pk)
    );
    assert_eq!(got, want);
}

#[test]
fn each_fault_has_its_code() {
    let l = EventLimits::default();
    let e = signed(1, vec![], "hello");
    let mut v = e.to_json();
    let check = |v: &serde_json::Value, code: &str| {
        let err = verify_event(&serde_json::to_vec(v).unwrap(), &l, NOW).unwrap_err();
        assert_eq!(err.code(), code, "{v}");
    };
    // Changed content: the id no longer matches.
    v["content"] = "hellO".into();
    check(&v, "nostr.bad_id");
    // A valid id for changed content, with the old signature.
    let mut forged = e.clone();
    forged.content = "bye".into();
    forged.id = event_id(&forged.pubkey, forged.created_at, 1, &[], "bye");
    check(&forged.to_json(), "nostr.bad_signature");
    // Upper-case hex, a short id, a missing field, a number as a tag item.
    let mut v = e.to_json();
    v["id"] = hex::encode(e.id).to_uppercase().into();
    check(&v, "nostr.malformed");
    let mut v = e.to_json();
    v["sig"] = "00".into();
    check(&v, "nostr.malformed");
    let mut v = e.to_json();
    v.as_object_mut().unwrap().remove("kind");
    check(&v, "nostr.malformed");
    let mut v = e.to_json();
    v["tags"] = serde_json::json!([["p", 1]]);
    check(&v, "nostr.malformed");
    // A pubkey that is not on the curve (x = 0: 7 is not a square mod p).
    let mut bad = e.clone();
    bad.pubkey = [0; 32];
    bad.id = event_id(&bad.pubkey, bad.created_at, 1, &[], "hello");
    check(&bad.to_json(), "nostr.bad_pubkey");
    // Future, oversized, too many tags, a long tag item, long content.
    let f = sign_event(&key(7), NOW + 3600, 1, vec![], "x".into(), &[0; 32]).unwrap();
    check(&f.to_json(), "nostr.future");
    let big = signed(1, vec![], &"x".repeat(600 * 1024));
    let err = verify_event(&json(&big), &l, NOW).unwrap_err();
    assert_eq!(err.code(), "nostr.oversized");
    let many = signed(3, vec![vec!["t".into()]; 10_001], "");
    check(&many.to_json(), "nostr.tags_oversized");
    let long = signed(3, vec![vec!["t".into(), "y".repeat(2000)]], "");
    check(&long.to_json(), "nostr.tags_oversized");
    let content = signed(1, vec![], &"x".repeat(70 * 1024));
    check(&content.to_json(), "nostr.content_oversized");
    for code in EVENT_ERROR_CODES {
        assert!(code.starts_with("nostr."));
    }
}

#[test]
fn garbage_never_panics() {
    let l = EventLimits::default();
    for input in [
        &b""[..],
        b"null",
        b"[]",
        b"{",
        b"{\"id\":1}",
        b"\xff\xfe",
        b"{\"id\":\"\",\"pubkey\":\"\",\"created_at\":-1,\"kind\":1,\"tags\":[],\"content\":\"\",\"sig\":\"\"}",
    ] {
        assert_eq!(
            verify_event(input, &l, NOW).unwrap_err().code(),
            "nostr.malformed"
        );
    }
}

/// Events made by nostr-tools (`tests/interop-nostr/make-vectors.mjs`) verify here, and the
/// tampered ones it also wrote are refused with the code it names.
#[test]
fn nostr_tools_vectors() {
    let text = include_str!("../../../../../specs/vectors/nostr-events.json");
    let v: serde_json::Value = serde_json::from_str(text).unwrap();
    let mut n_valid = 0;
    for case in v["cases"].as_array().unwrap() {
        let bytes = serde_json::to_vec(&case["event"]).unwrap();
        let got = verify_event(&bytes, &EventLimits::default(), u64::MAX / 2);
        match case["error"].as_str() {
            None => {
                let e = got.unwrap();
                assert_eq!(hex::encode(e.id), case["event"]["id"].as_str().unwrap());
                n_valid += 1;
            }
            Some(code) => assert_eq!(got.unwrap_err().code(), code, "{}", case["name"]),
        }
    }
    assert!(n_valid >= 5);
}
