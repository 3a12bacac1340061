//! Property tests for every kind: encode/decode round trip, sign/verify, and "any single
//! flipped byte is rejected".
#![allow(clippy::unwrap_used)]

#[path = "support/objects.rs"]
mod support;

use proptest::prelude::*;
use support::{key, NOW};
use vouch_identity::PublicKey;
use vouch_reputation::*;

fn pk() -> impl Strategy<Value = PublicKey> {
    (2u8..40).prop_map(|n| key(n).public_key())
}
fn oid() -> impl Strategy<Value = ObjectId> {
    any::<[u8; 32]>().prop_map(ObjectId)
}
fn name() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 _.éü-]{1,20}"
}
fn token() -> impl Strategy<Value = String> {
    "[a-z0-9-]{1,20}"
}
fn opt_text() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(".{0,40}")
}
fn group_ref() -> impl Strategy<Value = GroupRef> {
    (pk(), name()).prop_map(|(owner, name)| GroupRef { owner, name })
}
fn list_ref() -> impl Strategy<Value = ListRef> {
    (pk(), name()).prop_map(|(owner, name)| ListRef { owner, name })
}
fn subject() -> impl Strategy<Value = Subject> {
    prop_oneof![pk().prop_map(Subject::Key), oid().prop_map(Subject::Object)]
}
fn expires(at: u64) -> impl Strategy<Value = Option<u64>> {
    proptest::option::of((1u64..1u64 << 40).prop_map(move |d| at + d))
}

/// Any valid body of any kind, authored by key(1) at `at`.
fn body(at: u64) -> impl Strategy<Value = Body> {
    let author = key(1).public_key();
    prop_oneof![
        (
            proptest::option::of(group_ref()),
            ".{1,60}",
            proptest::collection::vec(oid(), 0..3),
            proptest::option::of((oid(), oid()))
        )
            .prop_map(|(group, text, links, thread)| Body::Post(PostBody {
                group,
                text,
                links: links.iter().map(ObjectId::to_cid).collect(),
                reply: thread.map(|t| t.0),
                root: thread.map(|t| t.1),
            })),
        (
            subject(),
            prop_oneof![Just(1i64), Just(-1i64)],
            proptest::option::of(group_ref())
        )
            .prop_map(move |(target, value, group)| Body::Vote(VoteBody {
                target,
                value,
                epoch: epoch_of(at),
                group
            })),
        (
            pk(),
            -100i64..=100,
            proptest::option::of(group_ref()),
            opt_text(),
            expires(at)
        )
            .prop_map(|(subject, level, context, claim, expires)| Body::Attest(
                AttestBody {
                    subject,
                    level,
                    context,
                    claim,
                    expires
                }
            )),
        (
            name(),
            prop_oneof![
                Just(ListPurpose::Block),
                Just(ListPurpose::Allow),
                Just(ListPurpose::Label)
            ],
            opt_text(),
            any::<u64>()
        )
            .prop_map(|(name, purpose, description, seq)| Body::List(ListBody {
                name,
                purpose,
                description,
                group: None,
                seq
            })),
        (name(), group_ref(), any::<u64>()).prop_map(|(name, g, seq)| Body::List(ListBody {
            name,
            purpose: ListPurpose::Ban,
            description: None,
            group: Some(g),
            seq
        })),
        (
            list_ref(),
            subject(),
            opt_text(),
            proptest::option::of(token()),
            expires(at)
        )
            .prop_map(|(list, subject, reason, category, expires)| Body::ListAdd(
                ListAddBody {
                    list,
                    subject,
                    reason,
                    category,
                    expires
                }
            )),
        (list_ref(), proptest::collection::btree_set(oid(), 1..5)).prop_map(|(list, adds)| {
            Body::ListRemove(ListRemoveBody {
                list,
                adds: adds.into_iter().collect(),
            })
        }),
        (
            name(),
            opt_text(),
            proptest::option::of(0u64..=100),
            proptest::option::of(0u64..=10_000),
            any::<bool>(),
            proptest::collection::btree_set(pk(), 0..4),
            any::<u64>(),
            proptest::option::of((1u64..=1_000_000, proptest::option::of(50u64..=99)))
        )
            .prop_map(
                move |(
                    name,
                    rules,
                    min_trust,
                    vote_budget,
                    personhood_votes,
                    mods,
                    seq,
                    village,
                )| {
                    // Village rules need personhood votes and an issuer.
                    let village = village.filter(|_| personhood_votes);
                    Body::Group(GroupBody {
                        name,
                        rules,
                        policy: GroupPolicy {
                            min_trust,
                            vote_budget,
                            credential_issuer: village.map(|_| "did:key:zUC7example".into()),
                            personhood_votes,
                            amend_quorum: village.map(|v| v.0),
                            amend_majority: village.and_then(|v| v.1),
                        },
                        moderators: mods.into_iter().filter(|m| *m != author).collect(),
                        seq,
                    })
                }
            ),
        (subject(), token(), any::<bool>(), opt_text(), expires(at)).prop_map(
            |(subject, value, neg, reason, expires)| Body::Label(LabelBody {
                subject,
                value,
                neg,
                reason,
                expires
            })
        ),
        (subject(), group_ref(), token(), opt_text()).prop_map(
            |(subject, group, category, text)| Body::Report(ReportBody {
                subject,
                group,
                category,
                text
            })
        ),
        (
            oid(),
            opt_text(),
            proptest::option::of(prop_oneof![
                Just(AppealOutcome::Upheld),
                Just(AppealOutcome::Granted)
            ])
        )
            .prop_map(|(target, text, outcome)| Body::Appeal(AppealBody {
                target,
                text,
                outcome
            })),
        (2u8..40).prop_map(move |n| Body::Rotate(RotateBody::new(&author, &key(n), at))),
        (0u64..=at, opt_text())
            .prop_map(|(since, reason)| Body::Revoke(RevokeBody { since, reason })),
        (2u8..40).prop_map(move |n| Body::Link(LinkBody::new(&author, &key(n), at))),
        (2u8..40).prop_map(|n| Body::Incept(InceptBody {
            next: key(n).public_key().next_key_digest()
        })),
        (
            pk(),
            proptest::option::of(2u8..40),
            proptest::option::of(0u64..=at)
        )
            .prop_map(|(old, next, since)| Body::Rotate(RotateBody::Reveal {
                old,
                next: next.map(|n| key(n).public_key().next_key_digest()),
                since
            })),
        (
            group_ref(),
            oid(),
            ".{1,60}",
            2u64..=256,
            1u64..1u64 << 40,
            proptest::option::of((
                proptest::option::of(0u64..=100),
                proptest::option::of(0u64..=10_000)
            ))
        )
            .prop_map(move |(group, header, text, options, d, amend)| {
                let amend = amend.filter(|(t, b)| t.is_some() || b.is_some()).map(
                    |(min_trust, vote_budget)| Amendment {
                        min_trust,
                        vote_budget,
                    },
                );
                Body::Poll(PollBody {
                    group,
                    header,
                    text,
                    options: if amend.is_some() { 2 } else { options },
                    closes: at + d,
                    amend,
                })
            }),
        (
            oid(),
            0u64..=255,
            proptest::collection::vec(any::<u8>(), 1..700)
        )
            .prop_map(|(poll, choice, proof)| Body::Ballot(BallotBody {
                poll,
                choice,
                proof
            })),
        "\\{.{1,200}\\}".prop_map(|vc| Body::Credential(CredentialBody { vc })),
        (".{1,80}", opt_text()).prop_map(|(credential, reason)| Body::CredentialRevoke(
            CredentialRevokeBody { credential, reason }
        )),
        (
            group_ref(),
            proptest::collection::btree_set(oid(), 1..5),
            opt_text()
        )
            .prop_map(|(group, reports, text)| Body::Dismiss(DismissBody {
                group,
                reports: reports.into_iter().collect(),
                text
            })),
    ]
}

fn object() -> impl Strategy<Value = SignedObject> {
    (0u64..=NOW)
        .prop_flat_map(|at| (Just(at), body(at)))
        .prop_map(|(at, body)| {
            let k = key(1);
            Object {
                author: k.public_key(),
                at,
                body,
            }
            .sign(&k)
            .unwrap()
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Encode then decode gives back the same object, id and bytes; the signature verifies.
    #[test]
    fn round_trip(obj in object()) {
        let back = validate(obj.bytes(), NOW).unwrap();
        prop_assert_eq!(&back, &obj);
        prop_assert_eq!(back.id(), ObjectId::of_bytes(obj.bytes()));
    }

    /// Flipping any single byte of a valid object makes it invalid (never a panic, never a
    /// different valid object).
    #[test]
    fn any_flipped_byte_is_rejected(obj in object(), pos in any::<prop::sample::Index>(), bit in 0u8..8) {
        let mut bytes = obj.bytes().to_vec();
        let i = pos.index(bytes.len());
        bytes[i] ^= 1 << bit;
        prop_assert!(validate(&bytes, NOW).is_err(), "byte {} bit {} accepted", i, bit);
    }

    /// Arbitrary bytes never panic the validator.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = validate(&bytes, NOW);
    }

    /// The same object signed by any other key is rejected as `invalid-signature`.
    #[test]
    fn wrong_signer_is_rejected(obj in object(), n in 2u8..40) {
        use ipld_core::ipld::Ipld;
        let mut map: std::collections::BTreeMap<String, Ipld> =
            serde_ipld_dagcbor::from_slice(obj.bytes()).unwrap();
        map.remove("sig");
        let unsigned = serde_ipld_dagcbor::to_vec(&map).unwrap();
        let sig = key(n).sign(vouch_identity::Domain::Object, &unsigned);
        map.insert("sig".into(), Ipld::Bytes(sig.0.to_vec()));
        let forged = serde_ipld_dagcbor::to_vec(&map).unwrap();
        prop_assert_eq!(validate(&forged, NOW).unwrap_err().code(), "invalid-signature");
        // Re-signed by the right key, the same bytes are valid again.
        let sig = key(1).sign(vouch_identity::Domain::Object, &unsigned);
        map.insert("sig".into(), Ipld::Bytes(sig.0.to_vec()));
        prop_assert_eq!(serde_ipld_dagcbor::to_vec(&map).unwrap(), obj.bytes().to_vec());
    }
}
