//! Golden test vectors (`specs/vectors/objects-*.json`): generated here deterministically,
//! compared byte for byte with the committed files, and every vector checked against the
//! validator. Run with `VOUCH_BLESS=1` to rewrite the files after an intended change.
#![allow(clippy::unwrap_used)]

#[path = "support/objects.rs"]
mod support;

use ipld_core::ipld::Ipld;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use support::*;
use vouch_identity::{Domain, SecretKey, Signature};
use vouch_reputation::*;

fn sign(body: Body, at: u64, k: &SecretKey) -> Vec<u8> {
    Object {
        author: k.public_key(),
        at,
        body,
    }
    .sign_unchecked(k)
    .unwrap()
    .bytes()
    .to_vec()
}

/// Decodes bytes to a generic IPLD map, lets `f` change it, and encodes it again
/// (canonically), re-signing the result with `k` when `resign`.
fn mutate(
    bytes: &[u8],
    k: &SecretKey,
    resign: bool,
    f: impl FnOnce(&mut BTreeMap<String, Ipld>),
) -> Vec<u8> {
    let mut map: BTreeMap<String, Ipld> = serde_ipld_dagcbor::from_slice(bytes).unwrap();
    f(&mut map);
    if resign {
        map.remove("sig");
        let unsigned = serde_ipld_dagcbor::to_vec(&map).unwrap();
        let sig = k.sign(Domain::Object, &unsigned);
        map.insert("sig".into(), Ipld::Bytes(sig.0.to_vec()));
    }
    serde_ipld_dagcbor::to_vec(&map).unwrap()
}

fn body_mut(map: &mut BTreeMap<String, Ipld>) -> &mut BTreeMap<String, Ipld> {
    match map.get_mut("body") {
        Some(Ipld::Map(m)) => m,
        _ => panic!("body is not a map"),
    }
}

/// Minimal CBOR writer for hand-made hostile encodings.
fn head(major: u8, n: u64) -> Vec<u8> {
    let m = major << 5;
    match n {
        0..=23 => vec![m | n as u8],
        24..=0xff => vec![m | 24, n as u8],
        0x100..=0xffff => {
            let mut v = vec![m | 25];
            v.extend_from_slice(&(n as u16).to_be_bytes());
            v
        }
        0x1_0000..=0xffff_ffff => {
            let mut v = vec![m | 26];
            v.extend_from_slice(&(n as u32).to_be_bytes());
            v
        }
        _ => {
            let mut v = vec![m | 27];
            v.extend_from_slice(&n.to_be_bytes());
            v
        }
    }
}
fn text(s: &str) -> Vec<u8> {
    let mut v = head(3, s.len() as u64);
    v.extend_from_slice(s.as_bytes());
    v
}

struct Gen {
    valid: Vec<Value>,
    invalid: Vec<Value>,
}

impl Gen {
    fn valid(&mut self, name: &str, bytes: Vec<u8>) {
        let obj = validate(&bytes, NOW).unwrap_or_else(|e| panic!("{name}: {e}"));
        self.valid.push(json!({
            "name": name,
            "kind": obj.kind().as_str(),
            "bytes": hex::encode(&bytes),
            "cid": obj.id().to_string(),
            "author": obj.author().to_did_key(),
            "public_key": hex::encode(obj.author().as_bytes()),
        }));
    }
    fn invalid(&mut self, name: &str, error: &str, note: &str, bytes: Vec<u8>) {
        self.invalid.push(json!({
            "name": name,
            "error": error,
            "note": note,
            "bytes": hex::encode(&bytes),
        }));
    }
}

fn generate() -> (Value, Value) {
    let mut g = Gen {
        valid: vec![],
        invalid: vec![],
    };
    let k1 = key(1);
    let k2 = key(2);
    // Valid: every kind by key 1, then variants.
    for obj in signed_samples(NOW) {
        g.valid(&format!("{}-full", obj.kind()), obj.bytes().to_vec());
    }
    let minimal_post = Body::Post(PostBody {
        text: "gm".into(),
        ..Default::default()
    });
    g.valid("post-minimal", sign(minimal_post.clone(), NOW, &k2));
    g.valid(
        "post-links-only",
        sign(
            Body::Post(PostBody {
                links: vec![ObjectId([1; 32]).to_cid()],
                ..Default::default()
            }),
            NOW,
            &k2,
        ),
    );
    g.valid(
        "post-at-skew-edge",
        sign(minimal_post.clone(), NOW + 300_000, &k2),
    );
    g.valid(
        "vote-up-author",
        sign(
            Body::Vote(VoteBody {
                target: Subject::Key(k1.public_key()),
                value: 1,
                epoch: epoch_of(NOW),
                group: None,
            }),
            NOW,
            &k2,
        ),
    );
    g.valid(
        "attest-distrust-in-context",
        sign(
            Body::Attest(AttestBody {
                subject: k1.public_key(),
                level: -100,
                context: Some(group(&key(3))),
                claim: None,
                expires: None,
            }),
            NOW,
            &k2,
        ),
    );
    g.valid(
        "list-ban",
        sign(
            Body::List(ListBody {
                name: "bans".into(),
                purpose: ListPurpose::Ban,
                description: None,
                group: Some(group(&key(3))),
                seq: 0,
            }),
            NOW,
            &key(3),
        ),
    );
    g.valid(
        "list-add-object-expiring",
        sign(
            Body::ListAdd(ListAddBody {
                list: ListRef {
                    owner: k2.public_key(),
                    name: "nsfw".into(),
                },
                subject: Subject::Object(ObjectId([8; 32])),
                reason: None,
                category: Some("nsfw".into()),
                expires: Some(NOW + 1),
            }),
            NOW,
            &k2,
        ),
    );
    g.valid(
        "group-minimal",
        sign(
            Body::Group(GroupBody {
                name: "quiet".into(),
                rules: None,
                policy: GroupPolicy::default(),
                moderators: vec![],
                seq: 0,
            }),
            NOW,
            &k2,
        ),
    );
    g.valid(
        "label-negation",
        sign(
            Body::Label(LabelBody {
                subject: Subject::Key(k1.public_key()),
                value: "spam".into(),
                neg: true,
                reason: Some("false positive".into()),
                expires: None,
            }),
            NOW,
            &k2,
        ),
    );
    g.valid(
        "appeal-answer",
        sign(
            Body::Appeal(AppealBody {
                target: ObjectId([3; 32]),
                text: None,
                outcome: Some(AppealOutcome::Granted),
            }),
            NOW,
            &key(3),
        ),
    );
    // Pre-rotation: the version 2 rotation (signed by the committed key), and a final one
    // (no next key: the new key can never be rotated).
    g.valid("rotate-v2-reveal", reveal_sample(NOW).bytes().to_vec());
    g.valid(
        "rotate-v2-final",
        sign(
            Body::Rotate(RotateBody::Reveal {
                old: key(13).public_key(),
                next: None,
                since: None,
            }),
            NOW,
            &key(14),
        ),
    );
    // Village rules: a group that lets personhood polls amend its rules.
    let village_issuer = vouch_identity::PersonhoodIssuer::from_key_material(&[5; 32])
        .unwrap()
        .public_key()
        .to_did_key();
    g.valid(
        "group-village",
        sign(
            Body::Group(GroupBody {
                name: "village".into(),
                rules: Some("The village decides its own rules.".into()),
                policy: GroupPolicy {
                    min_trust: Some(10),
                    vote_budget: Some(20),
                    credential_issuer: Some(village_issuer),
                    personhood_votes: true,
                    amend_quorum: Some(25),
                    amend_majority: Some(66),
                },
                moderators: vec![],
                seq: 4,
            }),
            NOW,
            &k2,
        ),
    );
    g.valid(
        "poll-question",
        sign(
            Body::Poll(PollBody {
                group: GroupRef {
                    owner: k2.public_key(),
                    name: "village".into(),
                },
                header: some_id(4),
                text: "Where should the next meetup be? 0 north, 1 south, 2 online".into(),
                options: 3,
                closes: NOW + 1,
                amend: None,
            }),
            NOW,
            &key(3),
        ),
    );

    // Invalid, one group per error code.
    let post = sign(minimal_post.clone(), NOW, &k1);
    g.invalid(
        "oversize-post",
        "oversize",
        "70,000-byte text makes the object larger than 65,536 bytes",
        sign(
            Body::Post(PostBody {
                text: "x".repeat(70_000),
                ..Default::default()
            }),
            NOW,
            &k1,
        ),
    );
    g.invalid("malformed-empty", "malformed", "zero bytes", vec![]);
    g.invalid(
        "malformed-truncated",
        "malformed",
        "valid object cut short by one byte",
        post[..post.len() - 1].to_vec(),
    );
    g.invalid(
        "malformed-trailing-byte",
        "malformed",
        "valid object followed by one more byte",
        [post.as_slice(), &[0x00]].concat(),
    );
    g.invalid(
        "malformed-array",
        "malformed",
        "a CBOR array, not a map",
        vec![0x82, 0x01, 0x02],
    );
    g.invalid(
        "malformed-nonminimal-int",
        "malformed",
        "v encoded as 0x18 0x01 instead of 0x01",
        [&[0xa6, 0x61, 0x76, 0x18, 0x01][..], &post[4..]].concat(),
    );
    g.invalid(
        "malformed-indefinite-map",
        "malformed",
        "envelope as an indefinite-length map",
        [&[0xbf][..], &post[1..], &[0xff]].concat(),
    );
    g.invalid(
        "malformed-missing-sig",
        "malformed",
        "envelope without sig",
        mutate(&post, &k1, false, |m| {
            m.remove("sig");
        }),
    );
    g.invalid(
        "malformed-extra-field",
        "malformed",
        "envelope with an unknown field x",
        mutate(&post, &k1, true, |m| {
            m.insert("x".into(), Ipld::Integer(1));
        }),
    );
    g.invalid(
        "malformed-float-at",
        "malformed",
        "at as a float",
        mutate(&post, &k1, true, |m| {
            m.insert("at".into(), Ipld::Float(NOW as f64));
        }),
    );
    // Keys out of canonical order: `at` before `v`.
    {
        let mut b = vec![0xa6];
        b.extend(text("at"));
        b.extend(head(0, NOW));
        b.extend(text("v"));
        b.push(0x01);
        // Rest of the canonical object after `v` and `at`: sig, body, kind, author.
        b.extend_from_slice(&post[1 + 3 + 3 + 9..]);
        g.invalid(
            "malformed-key-order",
            "malformed",
            "map keys at, v instead of v, at",
            b,
        );
    }
    g.invalid(
        "non-canonical-null-field",
        "non-canonical",
        "post body carries reply: null instead of omitting it",
        mutate(&post, &k1, true, |m| {
            body_mut(m).insert("reply".into(), Ipld::Null);
        }),
    );
    g.invalid(
        "non-canonical-false-flag",
        "non-canonical",
        "label body carries neg: false instead of omitting it",
        mutate(
            &sign(
                Body::Label(LabelBody {
                    subject: Subject::Key(k2.public_key()),
                    value: "spam".into(),
                    neg: false,
                    reason: None,
                    expires: None,
                }),
                NOW,
                &k1,
            ),
            &k1,
            true,
            |m| {
                body_mut(m).insert("neg".into(), Ipld::Bool(false));
            },
        ),
    );
    g.invalid(
        "non-canonical-empty-array",
        "non-canonical",
        "post body carries links: [] instead of omitting it",
        mutate(&post, &k1, true, |m| {
            body_mut(m).insert("links".into(), Ipld::List(vec![]));
        }),
    );
    g.invalid(
        "unsupported-version-2",
        "unsupported-version",
        "v = 2",
        mutate(&post, &k1, true, |m| {
            m.insert("v".into(), Ipld::Integer(2));
        }),
    );
    g.invalid(
        "unknown-kind-mute",
        "unknown-kind",
        "kind = mute",
        mutate(&post, &k1, true, |m| {
            m.insert("kind".into(), Ipld::String("mute".into()));
        }),
    );
    g.invalid(
        "invalid-body-missing-text",
        "invalid-body",
        "post body without text",
        mutate(&post, &k1, true, |m| {
            body_mut(m).remove("text");
        }),
    );
    g.invalid(
        "invalid-body-unknown-field",
        "invalid-body",
        "attest body with an extra field weight",
        mutate(
            &sign(Body::Attest(AttestBody::new(k2.public_key(), 5)), NOW, &k1),
            &k1,
            true,
            |m| {
                body_mut(m).insert("weight".into(), Ipld::Integer(3));
            },
        ),
    );
    g.invalid(
        "invalid-body-purpose",
        "invalid-body",
        "list purpose mute is not a purpose",
        mutate(
            &sign(
                Body::List(ListBody {
                    name: "x".into(),
                    purpose: ListPurpose::Block,
                    description: None,
                    group: None,
                    seq: 1,
                }),
                NOW,
                &k1,
            ),
            &k1,
            true,
            |m| {
                body_mut(m).insert("purpose".into(), Ipld::String("mute".into()));
            },
        ),
    );
    g.invalid(
        "invalid-body-raw-cid-reference",
        "invalid-body",
        "reply names a raw-codec CID, not a Vouch object",
        mutate(&post, &k1, true, |m| {
            let raw = cid::Cid::new_v1(
                0x55,
                multihash::Multihash::<64>::wrap(0x12, &[7; 32]).unwrap(),
            );
            body_mut(m).insert("reply".into(), Ipld::Link(raw));
            body_mut(m).insert("root".into(), Ipld::Link(ObjectId([6; 32]).to_cid()));
        }),
    );
    g.invalid(
        "invalid-body-negative-seq",
        "invalid-body",
        "list seq = -1",
        mutate(
            &sign(
                Body::List(ListBody {
                    name: "x".into(),
                    purpose: ListPurpose::Block,
                    description: None,
                    group: None,
                    seq: 1,
                }),
                NOW,
                &k1,
            ),
            &k1,
            true,
            |m| {
                body_mut(m).insert("seq".into(), Ipld::Integer(-1));
            },
        ),
    );
    let attest = |level: i64, subject: vouch_identity::PublicKey| {
        Body::Attest(AttestBody {
            subject,
            level,
            context: None,
            claim: None,
            expires: None,
        })
    };
    g.invalid(
        "out-of-bounds-level",
        "out-of-bounds",
        "attest level 101",
        sign(attest(101, k2.public_key()), NOW, &k1),
    );
    g.invalid(
        "out-of-bounds-self-attest",
        "out-of-bounds",
        "attest subject is the author",
        sign(attest(50, k1.public_key()), NOW, &k1),
    );
    g.invalid(
        "out-of-bounds-vote-value",
        "out-of-bounds",
        "vote value 2",
        sign(
            Body::Vote(VoteBody {
                target: Subject::Key(k2.public_key()),
                value: 2,
                epoch: epoch_of(NOW),
                group: None,
            }),
            NOW,
            &k1,
        ),
    );
    g.invalid(
        "out-of-bounds-label-value",
        "out-of-bounds",
        "label value Spam! has characters outside a-z 0-9 -",
        sign(
            Body::Label(LabelBody {
                subject: Subject::Key(k2.public_key()),
                value: "Spam!".into(),
                neg: false,
                reason: None,
                expires: None,
            }),
            NOW,
            &k1,
        ),
    );
    g.invalid(
        "out-of-bounds-reply-without-root",
        "out-of-bounds",
        "post with reply but no root",
        sign(
            Body::Post(PostBody {
                text: "re".into(),
                reply: Some(ObjectId([1; 32])),
                ..Default::default()
            }),
            NOW,
            &k1,
        ),
    );
    g.invalid(
        "out-of-bounds-ban-list-without-group",
        "out-of-bounds",
        "ban list without group",
        sign(
            Body::List(ListBody {
                name: "bans".into(),
                purpose: ListPurpose::Ban,
                description: None,
                group: None,
                seq: 0,
            }),
            NOW,
            &k1,
        ),
    );
    g.invalid(
        "out-of-bounds-dismiss-duplicate",
        "out-of-bounds",
        "dismiss naming the same report twice",
        sign(
            Body::Dismiss(DismissBody {
                group: group(&key(3)),
                reports: vec![some_id(5), some_id(5)],
                text: None,
            }),
            NOW,
            &k1,
        ),
    );
    g.invalid(
        "out-of-bounds-empty-remove",
        "out-of-bounds",
        "list-remove naming no entries",
        sign(
            Body::ListRemove(ListRemoveBody {
                list: ListRef {
                    owner: k1.public_key(),
                    name: "l".into(),
                },
                adds: vec![],
            }),
            NOW,
            &k1,
        ),
    );
    g.invalid(
        "out-of-bounds-revoke-since-future",
        "out-of-bounds",
        "revoke since after the object's time",
        sign(
            Body::Revoke(RevokeBody {
                since: NOW + 1,
                reason: None,
            }),
            NOW,
            &k1,
        ),
    );
    g.invalid(
        "out-of-bounds-group-min-trust",
        "out-of-bounds",
        "group policy min_trust 101",
        sign(
            Body::Group(GroupBody {
                name: "g".into(),
                rules: None,
                policy: GroupPolicy {
                    min_trust: Some(101),
                    ..Default::default()
                },
                moderators: vec![],
                seq: 0,
            }),
            NOW,
            &k1,
        ),
    );
    g.invalid(
        "out-of-bounds-report-category",
        "out-of-bounds",
        "report with empty category",
        sign(
            Body::Report(ReportBody {
                subject: Subject::Key(k2.public_key()),
                group: group(&key(3)),
                category: "".into(),
                text: None,
            }),
            NOW,
            &k1,
        ),
    );
    g.invalid(
        "invalid-body-rotate-mixed",
        "invalid-body",
        "rotate body mixing version 1 (new, new_sig) and version 2 (old) fields",
        mutate(
            &sign(
                Body::Rotate(RotateBody::new(&k1.public_key(), &key(11), NOW)),
                NOW,
                &k1,
            ),
            &k1,
            true,
            |m| {
                body_mut(m).insert(
                    "old".into(),
                    Ipld::Bytes(k2.public_key().as_bytes().to_vec()),
                );
            },
        ),
    );
    g.invalid(
        "invalid-body-incept-short-digest",
        "invalid-body",
        "incept next is 31 bytes, not 32",
        mutate(
            &sign(
                Body::Incept(InceptBody {
                    next: key(13).public_key().next_key_digest(),
                }),
                NOW,
                &k1,
            ),
            &k1,
            true,
            |m| {
                body_mut(m).insert("next".into(), Ipld::Bytes(vec![7; 31]));
            },
        ),
    );
    g.invalid(
        "out-of-bounds-rotate-v2-old-is-author",
        "out-of-bounds",
        "version 2 rotation whose old key is its own author",
        sign(
            Body::Rotate(RotateBody::Reveal {
                old: k1.public_key(),
                next: None,
                since: None,
            }),
            NOW,
            &k1,
        ),
    );
    g.invalid(
        "out-of-bounds-incept-self",
        "out-of-bounds",
        "incept committing to the author's own key",
        sign(
            Body::Incept(InceptBody {
                next: k1.public_key().next_key_digest(),
            }),
            NOW,
            &k1,
        ),
    );
    let poll = |options: u64, closes: u64, amend: Option<Amendment>| {
        Body::Poll(PollBody {
            group: group(&key(3)),
            header: some_id(2),
            text: "Adopt?".into(),
            options,
            closes,
            amend,
        })
    };
    g.invalid(
        "out-of-bounds-poll-one-option",
        "out-of-bounds",
        "poll with a single option",
        sign(poll(1, NOW + 1, None), NOW, &k1),
    );
    g.invalid(
        "out-of-bounds-poll-closes",
        "out-of-bounds",
        "poll that closes at its own time",
        sign(poll(2, NOW, None), NOW, &k1),
    );
    g.invalid(
        "out-of-bounds-poll-empty-amendment",
        "out-of-bounds",
        "amendment that changes no rule",
        sign(poll(2, NOW + 1, Some(Amendment::default())), NOW, &k1),
    );
    g.invalid(
        "out-of-bounds-ballot-empty-proof",
        "out-of-bounds",
        "ballot without a personhood proof",
        sign(
            Body::Ballot(BallotBody {
                poll: some_id(10),
                choice: 0,
                proof: vec![],
            }),
            NOW,
            &k1,
        ),
    );
    g.invalid(
        "out-of-bounds-credential-empty",
        "out-of-bounds",
        "credential object without a credential",
        sign(
            Body::Credential(CredentialBody { vc: String::new() }),
            NOW,
            &k1,
        ),
    );
    g.invalid(
        "out-of-bounds-credential-too-long",
        "out-of-bounds",
        "credential of 16385 bytes (limit 16384)",
        sign(
            Body::Credential(CredentialBody {
                vc: "x".repeat(16_385),
            }),
            NOW,
            &k1,
        ),
    );
    g.invalid(
        "out-of-bounds-credential-revoke-empty-id",
        "out-of-bounds",
        "revocation naming no credential",
        sign(
            Body::CredentialRevoke(CredentialRevokeBody {
                credential: String::new(),
                reason: None,
            }),
            NOW,
            &k1,
        ),
    );
    g.invalid(
        "out-of-bounds-group-amend-without-personhood",
        "out-of-bounds",
        "village rules (amend_quorum) in a group without personhood votes",
        sign(
            Body::Group(GroupBody {
                name: "g".into(),
                rules: None,
                policy: GroupPolicy {
                    amend_quorum: Some(10),
                    ..Default::default()
                },
                moderators: vec![],
                seq: 1,
            }),
            NOW,
            &k1,
        ),
    );
    g.invalid(
        "future-timestamp",
        "future-timestamp",
        "at is 301 s after now (limit 300 s)",
        sign(minimal_post.clone(), NOW + 301_000, &k1),
    );
    g.invalid(
        "invalid-key-author-identity-point",
        "invalid-key",
        "author is the small-order identity point",
        mutate(&post, &k1, false, |m| {
            let mut id = vec![0u8; 32];
            id[0] = 1;
            m.insert("author".into(), Ipld::Bytes(id));
        }),
    );
    g.invalid(
        "invalid-key-author-length",
        "invalid-key",
        "author has 31 bytes",
        mutate(&post, &k1, false, |m| {
            m.insert("author".into(), Ipld::Bytes(vec![9; 31]));
        }),
    );
    g.invalid(
        "invalid-key-attest-subject",
        "invalid-key",
        "attest subject is a small-order point",
        mutate(
            &sign(attest(5, k2.public_key()), NOW, &k1),
            &k1,
            true,
            |m| {
                let mut id = vec![0u8; 32];
                id[0] = 1;
                body_mut(m).insert("subject".into(), Ipld::Bytes(id));
            },
        ),
    );
    {
        let mut b = post.clone();
        b[30] ^= 0x80;
        g.invalid(
            "invalid-signature-bit-flip",
            "invalid-signature",
            "one bit of the signature flipped",
            b,
        );
    }
    g.invalid(
        "invalid-signature-wrong-key",
        "invalid-signature",
        "signed by key 2, author is key 1",
        mutate(&post, &k1, false, |m| {
            let mut u = m.clone();
            u.remove("sig");
            let sig = k2.sign(Domain::Object, &serde_ipld_dagcbor::to_vec(&u).unwrap());
            m.insert("sig".into(), Ipld::Bytes(sig.0.to_vec()));
        }),
    );
    g.invalid(
        "invalid-signature-no-domain-prefix",
        "invalid-signature",
        "signed over the encoding without the domain prefix",
        mutate(&post, &k1, false, |m| {
            let mut u = m.clone();
            u.remove("sig");
            let sig = k1.sign_prefixed(&serde_ipld_dagcbor::to_vec(&u).unwrap());
            m.insert("sig".into(), Ipld::Bytes(sig.0.to_vec()));
        }),
    );
    g.invalid(
        "invalid-signature-body-changed",
        "invalid-signature",
        "text changed after signing",
        mutate(&post, &k1, false, |m| {
            body_mut(m).insert("text".into(), Ipld::String("gn".into()));
        }),
    );
    {
        let new = key(11).public_key();
        let rot = RotateBody::Handover {
            new,
            new_sig: key(12).sign(
                Domain::Rotate,
                &RotateBody::consent_message(&k1.public_key(), &new, NOW),
            ),
        };
        g.invalid(
            "invalid-cosignature-rotate",
            "invalid-cosignature",
            "rotation consent signed by a key other than the new key",
            sign(Body::Rotate(rot), NOW, &k1),
        );
        let mut link = LinkBody::new(&k1.public_key(), &key(12), NOW);
        link.proof = key(12).sign(
            Domain::Link,
            &LinkBody::consent_message(&k2.public_key(), &link.identity, NOW),
        );
        g.invalid(
            "invalid-cosignature-link",
            "invalid-cosignature",
            "link proof made for another posting key",
            sign(Body::Link(link), NOW, &k1),
        );
    }
    g.invalid(
        "epoch-mismatch-future-epoch",
        "epoch-mismatch",
        "vote for the next day's epoch",
        sign(
            Body::Vote(VoteBody {
                target: Subject::Key(k2.public_key()),
                value: 1,
                epoch: epoch_of(NOW) + 1,
                group: None,
            }),
            NOW,
            &k1,
        ),
    );
    g.invalid(
        "epoch-mismatch-past-epoch",
        "epoch-mismatch",
        "vote for the previous day's epoch",
        sign(
            Body::Vote(VoteBody {
                target: Subject::Key(k2.public_key()),
                value: -1,
                epoch: epoch_of(NOW) - 1,
                group: None,
            }),
            NOW,
            &k1,
        ),
    );
    g.invalid(
        "bad-expiry-attest",
        "bad-expiry",
        "attest expires at its own time",
        sign(
            Body::Attest(AttestBody {
                subject: k2.public_key(),
                level: 10,
                context: None,
                claim: None,
                expires: Some(NOW),
            }),
            NOW,
            &k1,
        ),
    );
    g.invalid(
        "bad-expiry-list-add",
        "bad-expiry",
        "list entry that expired before it was made",
        sign(
            Body::ListAdd(ListAddBody {
                list: ListRef {
                    owner: k1.public_key(),
                    name: "l".into(),
                },
                subject: Subject::Key(k2.public_key()),
                reason: None,
                category: None,
                expires: Some(NOW - 86_400_000),
            }),
            NOW,
            &k1,
        ),
    );
    g.invalid(
        "unsupported-did-web",
        "unsupported-did",
        "link to a did:web identity",
        sign(
            Body::Link(LinkBody {
                identity: "did:web:example.com".into(),
                proof: Signature([0; 64]),
            }),
            NOW,
            &k1,
        ),
    );

    let meta = |kind: &str, list: Vec<Value>| {
        json!({
            "description": format!("Vouch object test vectors ({kind}). See specs/objects.md."),
            "now": NOW,
            "max_size": Limits::default().max_size,
            "max_skew_ms": Limits::default().max_skew_ms,
            "domain_prefix_hex": hex::encode(Domain::Object.prefix()),
            "vectors": list,
        })
    };
    (meta("valid", g.valid), meta("invalid", g.invalid))
}

fn vectors_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../specs/vectors")
}

#[test]
fn vectors_are_current_and_checked() {
    let (valid, invalid) = generate();
    let files = [
        ("objects-valid.json", &valid),
        ("objects-invalid.json", &invalid),
    ];
    for (name, value) in files {
        let text = serde_json::to_string_pretty(value).unwrap() + "\n";
        let path = vectors_dir().join(name);
        if std::env::var_os("VOUCH_BLESS").is_some() {
            std::fs::write(&path, &text).unwrap();
        }
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == text,
            "{name} is stale: rerun with VOUCH_BLESS=1 and review the diff"
        );
    }
    // Check the files as a consumer would.
    let mut kinds = std::collections::BTreeSet::new();
    for v in valid["vectors"].as_array().unwrap() {
        let bytes = hex::decode(v["bytes"].as_str().unwrap()).unwrap();
        let obj = validate(&bytes, NOW).unwrap();
        assert_eq!(obj.id().to_string(), v["cid"].as_str().unwrap());
        assert_eq!(
            hex::encode(obj.author().as_bytes()),
            v["public_key"].as_str().unwrap()
        );
        kinds.insert(obj.kind());
    }
    assert_eq!(
        kinds.len(),
        Kind::ALL.len(),
        "every kind has a valid vector"
    );
    let mut codes = std::collections::BTreeSet::new();
    for v in invalid["vectors"].as_array().unwrap() {
        let bytes = hex::decode(v["bytes"].as_str().unwrap()).unwrap();
        let err = validate(&bytes, NOW).unwrap_err();
        assert_eq!(err.code(), v["error"].as_str().unwrap(), "{}", v["name"]);
        // The batch path gives the same answer.
        assert_eq!(
            validate_batch(&[&bytes], NOW)[0]
                .as_ref()
                .unwrap_err()
                .code(),
            err.code()
        );
        codes.insert(err.code());
    }
    assert_eq!(
        codes.len(),
        ERROR_CODES.len(),
        "every error code has an invalid vector"
    );
    let total =
        valid["vectors"].as_array().unwrap().len() + invalid["vectors"].as_array().unwrap().len();
    assert!(total >= 40, "{total} vectors");
}
