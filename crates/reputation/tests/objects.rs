//! Object model tests: every kind signs, encodes, validates and round-trips; hostile inputs
//! get the right error code.
#![allow(clippy::unwrap_used)]

#[path = "support/objects.rs"]
mod support;

use support::*;
use vouch_reputation::*;

#[test]
fn every_kind_round_trips_and_validates() {
    let samples = signed_samples(NOW);
    assert_eq!(samples.len(), Kind::ALL.len());
    for (obj, kind) in samples.iter().zip(Kind::ALL) {
        assert_eq!(obj.kind(), kind);
        let back = validate(obj.bytes(), NOW).unwrap();
        assert_eq!(&back, obj, "{kind}");
        assert_eq!(back.id(), ObjectId::of_bytes(obj.bytes()));
        assert!(back.id().to_string().starts_with("bafyrei"));
        assert_eq!(
            back.id().to_string().parse::<ObjectId>().unwrap(),
            back.id()
        );
    }
}

#[test]
fn batch_agrees_with_single() {
    let mut items: Vec<Vec<u8>> = signed_samples(NOW)
        .iter()
        .map(|o| o.bytes().to_vec())
        .collect();
    let n = items.len();
    // Break the signature of one and the encoding of another.
    let last = items[3].len() - 1;
    items[3][last] ^= 0x01;
    items[5][0] = 0xa7;
    let refs: Vec<&[u8]> = items.iter().map(|v| v.as_slice()).collect();
    let batch = validate_batch(&refs, NOW);
    assert_eq!(batch.len(), n);
    for (i, item) in refs.iter().enumerate() {
        assert_eq!(batch[i], validate(item, NOW), "item {i}");
    }
    assert!(batch[3].is_err());
    assert!(batch[5].is_err());
    assert_eq!(batch.iter().filter(|r| r.is_ok()).count(), n - 2);
}

fn signed(body: Body, at: u64) -> Vec<u8> {
    let k = key(1);
    Object {
        author: k.public_key(),
        at,
        body,
    }
    .sign_unchecked(&k)
    .unwrap()
    .bytes()
    .to_vec()
}

fn code(bytes: &[u8]) -> &'static str {
    match validate(bytes, NOW) {
        Ok(_) => "ok",
        Err(e) => e.code(),
    }
}

#[test]
fn hostile_inputs_get_their_codes() {
    let post = |text: &str| {
        Body::Post(PostBody {
            text: text.into(),
            ..Default::default()
        })
    };
    assert_eq!(code(&signed(post("hi"), NOW)), "ok");
    assert_eq!(code(&[]), "malformed");
    assert_eq!(code(&[0xff; 10]), "malformed");
    assert_eq!(code(&vec![0u8; 70_000]), "oversize");
    assert_eq!(
        code(&signed(post(&"x".repeat(17_000)), NOW)),
        "out-of-bounds"
    );
    assert_eq!(code(&signed(post("hi"), NOW + 301_000)), "future-timestamp");
    assert_eq!(code(&signed(post("hi"), NOW + 299_000)), "ok");
    let mut bad_sig = signed(post("hi"), NOW);
    // The signature sits right after `at` in canonical order; flip a bit in it.
    bad_sig[30] ^= 0x80;
    assert_eq!(code(&bad_sig), "invalid-signature");
    let attest = |level| Body::Attest(AttestBody::new(key(2).public_key(), level));
    assert_eq!(code(&signed(attest(100), NOW)), "ok");
    assert_eq!(code(&signed(attest(101), NOW)), "out-of-bounds");
    assert_eq!(code(&signed(attest(-101), NOW)), "out-of-bounds");
    let vote = Body::Vote(VoteBody {
        target: Subject::Key(key(2).public_key()),
        value: 1,
        epoch: epoch_of(NOW) + 1,
        group: None,
    });
    assert_eq!(code(&signed(vote, NOW)), "epoch-mismatch");
    let expired = Body::Label(LabelBody {
        subject: Subject::Key(key(2).public_key()),
        value: "spam".into(),
        neg: false,
        reason: None,
        expires: Some(NOW - 1),
    });
    assert_eq!(code(&signed(expired, NOW)), "bad-expiry");
    let mut rot = RotateBody::new(&key(1).public_key(), &key(11), NOW);
    if let RotateBody::Handover { new_sig, .. } = &mut rot {
        new_sig.0[0] ^= 1;
    }
    assert_eq!(code(&signed(Body::Rotate(rot), NOW)), "invalid-cosignature");
    let link = Body::Link(LinkBody {
        identity: "did:web:example.com".into(),
        proof: vouch_identity::Signature([0; 64]),
    });
    assert_eq!(code(&signed(link, NOW)), "unsupported-did");
}

#[test]
fn sign_refuses_out_of_bounds_and_wrong_key() {
    let k = key(1);
    let obj = Object {
        author: k.public_key(),
        at: NOW,
        body: Body::Post(PostBody::default()),
    };
    assert_eq!(obj.clone().sign(&k).unwrap_err().code(), "out-of-bounds");
    assert_eq!(
        obj.sign_unchecked(&key(2)).unwrap_err().code(),
        "invalid-signature"
    );
}

#[test]
fn decode_stored_reads_back_what_validate_accepted_and_skips_only_the_signature() {
    for obj in signed_samples(NOW) {
        assert_eq!(decode_stored(obj.bytes()).unwrap(), obj);
    }
    let obj = &signed_samples(NOW)[0];
    // A flipped signature bit is not noticed (the store vouches for the signature) ...
    let mut bad_sig = obj.bytes().to_vec();
    let pos = bad_sig
        .windows(obj.signature().0.len())
        .position(|w| w == obj.signature().0)
        .unwrap();
    bad_sig[pos + 3] ^= 0x01;
    assert_eq!(
        validate(&bad_sig, NOW).unwrap_err().code(),
        "invalid-signature"
    );
    assert_eq!(decode_stored(&bad_sig).unwrap().object(), obj.object());
    // ... but every other check still runs.
    let mut broken = obj.bytes().to_vec();
    broken[0] = 0xa7;
    assert!(decode_stored(&broken).is_err());
    assert!(decode_stored(&[]).is_err());
}
