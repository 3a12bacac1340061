//! Key compromise, attack by attack (`specs/identity.md` §1): the thief rotates first, the
//! thief backdates, the owner revokes after the theft, the thief forks, and two nodes that
//! receive the same objects in different orders agree. Each test checks both states that
//! read key events, the trust graph and the moderation state.
#![allow(clippy::unwrap_used)]

#[path = "support/objects.rs"]
mod support;

use proptest::prelude::*;
use support::{key, sign, NOW};
use vouch_identity::{PublicKey, SecretKey};
use vouch_reputation::*;

const DAY: u64 = MS_PER_EPOCH;

/// The viewer, the owner's first posting key, the key it commits to, that key's own
/// successor, the thief's key, and a friend of the owner.
struct Cast {
    viewer: SecretKey,
    k0: SecretKey,
    k1: SecretKey,
    k2: SecretKey,
    thief: SecretKey,
    friend: SecretKey,
}

fn cast() -> Cast {
    Cast {
        viewer: key(40),
        k0: key(41),
        k1: key(42),
        k2: key(43),
        thief: key(44),
        friend: key(45),
    }
}

fn attest(from: &SecretKey, to: &PublicKey, at: u64) -> SignedObject {
    sign(
        from,
        at,
        Body::Attest(AttestBody {
            subject: *to,
            level: 90,
            context: None,
            claim: None,
            expires: None,
        }),
    )
}

fn incept(k: &SecretKey, next: &SecretKey, at: u64) -> SignedObject {
    sign(
        k,
        at,
        Body::Incept(InceptBody {
            next: next.public_key().next_key_digest(),
        }),
    )
}

/// A version 2 rotation of `old`, signed by `new`, committing to `next`.
fn reveal(
    new: &SecretKey,
    old: &PublicKey,
    next: Option<&SecretKey>,
    at: u64,
    since: Option<u64>,
) -> SignedObject {
    sign(
        new,
        at,
        Body::Rotate(RotateBody::Reveal {
            old: *old,
            next: next.map(|k| k.public_key().next_key_digest()),
            since,
        }),
    )
}

/// A version 1 rotation: `old` hands over to `new`.
fn handover(old: &SecretKey, new: &SecretKey, at: u64) -> SignedObject {
    sign(
        old,
        at,
        Body::Rotate(RotateBody::new(&old.public_key(), new, at)),
    )
}

fn revoke(k: &SecretKey, since: u64, at: u64) -> SignedObject {
    sign(
        k,
        at,
        Body::Revoke(RevokeBody {
            since,
            reason: Some("phone stolen".into()),
        }),
    )
}

fn post(k: &SecretKey, at: u64) -> SignedObject {
    sign(
        k,
        at,
        Body::Post(PostBody {
            text: "hello".into(),
            ..Default::default()
        }),
    )
}

/// Both states that read key events, fed the same objects in the given order.
struct Node {
    graph: TrustGraph,
    state: ModerationState,
}

fn node(objects: &[SignedObject]) -> Node {
    let mut graph = TrustGraph::new(None);
    graph.set_now(NOW);
    let mut state = ModerationState::new();
    for o in objects {
        graph.apply_object(o).unwrap();
        state.apply(o);
    }
    Node { graph, state }
}

impl Node {
    /// The key `k` now speaks as, asserting that both states agree.
    fn current(&self, k: &SecretKey) -> PublicKey {
        let pk = k.public_key();
        let from_state = self.state.current_key(&pk);
        let from_graph = self
            .graph
            .author_id(pk.as_bytes())
            .map(|id| self.graph.current_id(id))
            .and_then(|id| self.graph.key(id).copied())
            .unwrap_or(*pk.as_bytes());
        assert_eq!(
            from_state.as_bytes(),
            &from_graph,
            "graph and state disagree"
        );
        from_state
    }

    fn key_state(&self, k: &SecretKey) -> KeyState {
        let s = self.state.key_state(&k.public_key());
        assert_eq!(s, self.graph.key_events().state(k.public_key().as_bytes()));
        s
    }

    /// The viewer's trust score in `k` (0 without any).
    fn trust(&self, viewer: &SecretKey, k: &SecretKey) -> f64 {
        let v = TrustView::compute(
            &self.graph,
            viewer.public_key().as_bytes(),
            &[],
            TrustParams::default(),
        );
        v.score(&self.graph, k.public_key().as_bytes())
            .map_or(0.0, |s| s.trust)
    }

    /// The viewer's decision on a post.
    fn decide(&self, viewer: &SecretKey, p: &SignedObject) -> Decision {
        let policy = Policy::new(viewer.public_key());
        let trust = DirectTrust::from_state(&self.state, &viewer.public_key(), NOW);
        let view = View::build(&self.state, &policy, &trust, &NoCredentials, NOW);
        view.decide(&Item::post(p).unwrap(), NOW)
    }
}

fn codes(d: &Decision) -> Vec<&'static str> {
    d.reasons.iter().map(|r| r.code.as_str()).collect()
}

/// The owner's world before any theft: the viewer trusts k0 and the friend; k0 committed
/// to k1 when it was made.
fn world(c: &Cast) -> Vec<SignedObject> {
    vec![
        incept(&c.k0, &c.k1, NOW - 300 * DAY),
        attest(&c.viewer, &c.k0.public_key(), NOW - 200 * DAY),
        attest(&c.k0, &c.friend.public_key(), NOW - 100 * DAY),
    ]
}

#[test]
fn the_thief_rotates_first_and_backdates_but_only_the_committed_key_counts() {
    let c = cast();
    let mut objs = world(&c);
    // The thief steals k0 and rotates it to its own key both ways, dated long before the
    // owner's commitment and before anything else: a handover signed by k0, and a version 2
    // rotation signed by its own key.
    objs.push(handover(&c.k0, &c.thief, NOW - 400 * DAY));
    objs.push(reveal(
        &c.thief,
        &c.k0.public_key(),
        None,
        NOW - 400 * DAY,
        None,
    ));
    let n = node(&objs);
    assert_eq!(
        n.current(&c.k0),
        c.k0.public_key(),
        "the thief's rotations count for nothing"
    );
    assert_eq!(n.trust(&c.viewer, &c.thief), 0.0);
    let before = n.trust(&c.viewer, &c.k0);
    assert!(before > 0.0);

    // The owner takes the committed key out of its drawer; it alone signs (k0's secret is
    // not needed: the phone may be gone). Everything k0 signed from the theft on is void.
    let theft = NOW - DAY;
    objs.push(reveal(
        &c.k1,
        &c.k0.public_key(),
        Some(&c.k2),
        NOW - DAY / 2,
        Some(theft),
    ));
    for order in [objs.clone(), objs.iter().rev().cloned().collect()] {
        let n = node(&order);
        assert_eq!(n.current(&c.k0), c.k1.public_key());
        assert_eq!(n.trust(&c.viewer, &c.thief), 0.0);
        assert!(
            (n.trust(&c.viewer, &c.k1) - before).abs() < 1e-12,
            "trust moved to k1"
        );
        // k0's earlier attestation now speaks for k1: the friend keeps its trust.
        assert!(n.trust(&c.viewer, &c.friend) > 0.0);
        let s = n.key_state(&c.k0);
        assert_eq!(
            s.void.map(|(t, cause, _)| (t, cause)),
            Some((theft, VoidCause::Rotated))
        );
        assert_eq!(
            n.key_state(&c.k1).commitment,
            Commitment::Next(c.k2.public_key().next_key_digest())
        );
        // A post the thief signs with k0 after the theft is hidden, with the reason.
        let d = n.decide(&c.viewer, &post(&c.k0, theft + 10));
        assert_eq!(d.verdict, Verdict::Hide);
        assert_eq!(codes(&d), ["author-key-rotated"]);
    }
}

#[test]
fn the_owner_revokes_after_the_theft_of_a_key_without_commitment() {
    let c = cast();
    let base = vec![
        attest(&c.viewer, &c.k0.public_key(), NOW - 200 * DAY),
        attest(&c.k0, &c.friend.public_key(), NOW - 100 * DAY),
    ];
    // Without a commitment a thief's handover counts until the owner acts: the thief even
    // backdates it to before the owner will say the theft happened.
    let stolen = handover(&c.k0, &c.thief, NOW - 50 * DAY);
    let mut objs = base.clone();
    objs.push(stolen.clone());
    let n = node(&objs);
    assert_eq!(
        n.current(&c.k0),
        c.thief.public_key(),
        "an uncommitted key can be taken"
    );
    assert!(n.trust(&c.viewer, &c.thief) > 0.0);

    // The owner revokes from the day it noticed, later than the backdated handover. Under
    // the old rule (a revocation voids objects from `since` on) the handover would stand;
    // now a revocation voids every version 1 rotation of the key, whatever its date.
    let noticed = NOW - 10 * DAY;
    objs.push(revoke(&c.k0, noticed, NOW - 9 * DAY));
    for order in [objs.clone(), objs.iter().rev().cloned().collect()] {
        let n = node(&order);
        assert_eq!(n.current(&c.k0), c.k0.public_key());
        assert_eq!(n.trust(&c.viewer, &c.thief), 0.0);
        let s = n.key_state(&c.k0);
        assert_eq!(
            s.void.map(|(t, cause, _)| (t, cause)),
            Some((noticed, VoidCause::Revoked))
        );
        assert_eq!(s.successor, None);
        // k0's attestation from before `since` still stands.
        assert!(n.trust(&c.viewer, &c.friend) > 0.0);
    }

    // The thief's other way: commit k0 to a key of its own, then reveal it. The owner's
    // revocation voids k0's commitments too, so this fails the same way.
    let thief_next = key(46);
    let mut objs = base;
    objs.push(incept(&c.k0, &thief_next, NOW - 60 * DAY));
    objs.push(reveal(
        &thief_next,
        &c.k0.public_key(),
        None,
        NOW - 59 * DAY,
        None,
    ));
    assert_eq!(node(&objs).current(&c.k0), thief_next.public_key());
    objs.push(revoke(&c.k0, noticed, NOW - 9 * DAY));
    let n = node(&objs);
    assert_eq!(n.current(&c.k0), c.k0.public_key());
    assert_eq!(n.trust(&c.viewer, &thief_next), 0.0);
}

#[test]
fn a_thief_who_forks_a_committed_key_freezes_it_and_gains_nothing() {
    let c = cast();
    let mut objs = world(&c);
    // The thief publishes a second commitment for k0 and reveals it; the owner reveals the
    // real one. Two commitments: nobody can tell which came first, so neither counts and
    // k0 is void from the start.
    objs.push(incept(&c.k0, &c.thief, NOW - 2 * DAY));
    objs.push(reveal(
        &c.thief,
        &c.k0.public_key(),
        None,
        NOW - 2 * DAY,
        None,
    ));
    objs.push(reveal(
        &c.k1,
        &c.k0.public_key(),
        Some(&c.k2),
        NOW - DAY,
        None,
    ));
    let n = node(&objs);
    assert_eq!(n.current(&c.k0), c.k0.public_key());
    let s = n.key_state(&c.k0);
    assert!(matches!(s.commitment, Commitment::Forked(ref ids) if ids.len() == 2));
    assert_eq!(
        s.void.map(|(t, cause, _)| (t, cause)),
        Some((0, VoidCause::Forked))
    );
    assert_eq!(n.trust(&c.viewer, &c.thief), 0.0);
    assert_eq!(n.trust(&c.viewer, &c.k1), 0.0);
    // Whatever k0 signs, at any date, is void: the thief cannot use its reputation.
    let d = n.decide(&c.viewer, &post(&c.k0, NOW - 500 * DAY));
    assert_eq!(
        (d.verdict, codes(&d)),
        (Verdict::Hide, vec!["author-key-forked"])
    );
    // Its attestation of the friend is void too.
    assert_eq!(n.trust(&c.viewer, &c.friend), 0.0);
}

#[test]
fn a_committed_chain_survives_theft_of_its_current_key() {
    let c = cast();
    let mut objs = world(&c);
    objs.push(reveal(
        &c.k1,
        &c.k0.public_key(),
        Some(&c.k2),
        NOW - 30 * DAY,
        None,
    ));
    // The thief steals k1 (the current key). An `incept` by k1 cannot replace the
    // commitment k1 was introduced with; a handover signed by k1 does not count.
    let n = node(&objs);
    assert_eq!(n.current(&c.k0), c.k1.public_key());
    objs.push(incept(&c.k1, &c.thief, NOW - 5 * DAY));
    objs.push(handover(&c.k1, &c.thief, NOW - 5 * DAY));
    objs.push(reveal(
        &c.thief,
        &c.k1.public_key(),
        None,
        NOW - 5 * DAY,
        None,
    ));
    let n = node(&objs);
    assert_eq!(n.current(&c.k0), c.k1.public_key());
    // The owner revokes k1 (a key introduced by a committed rotation keeps its commitment)
    // and rotates to k2, which it committed to.
    objs.push(revoke(&c.k1, NOW - 6 * DAY, NOW - 4 * DAY));
    objs.push(reveal(&c.k2, &c.k1.public_key(), None, NOW - 4 * DAY, None));
    let n = node(&objs);
    assert_eq!(n.current(&c.k0), c.k2.public_key());
    assert!(n.trust(&c.viewer, &c.k2) > 0.0);
    assert_eq!(n.trust(&c.viewer, &c.thief), 0.0);
    assert_eq!(n.key_state(&c.k2).commitment, Commitment::Final);

    // What the thief of k1 can still do: sign a second rotation into k1 with another
    // commitment. That forks k1 (void since 0, no successor): the chain freezes at k1 and
    // the thief still gains nothing.
    let mut forked = objs.clone();
    forked.push(reveal(
        &c.k1,
        &c.k0.public_key(),
        Some(&c.thief),
        NOW - 3 * DAY,
        None,
    ));
    let n = node(&forked);
    assert_eq!(n.current(&c.k0), c.k1.public_key());
    assert_eq!(
        n.key_state(&c.k1).void.map(|(t, cause, _)| (t, cause)),
        Some((0, VoidCause::Forked))
    );
    assert_eq!(n.trust(&c.viewer, &c.thief), 0.0);
    let d = n.decide(&c.viewer, &post(&c.k1, NOW - 3 * DAY));
    assert_eq!(codes(&d), ["author-key-forked"]);
}

/// A pool of key events and attestations with every kind of conflict in it.
fn pool() -> Vec<SignedObject> {
    let c = cast();
    let other = key(47);
    let mut objs = world(&c);
    objs.extend([
        attest(&c.viewer, &c.friend.public_key(), NOW - 90 * DAY),
        attest(&c.friend, &other.public_key(), NOW - 80 * DAY),
        attest(&c.viewer, &c.k1.public_key(), NOW - 70 * DAY),
        handover(&c.k0, &c.thief, NOW - 400 * DAY),
        reveal(&c.thief, &c.k0.public_key(), None, NOW - 400 * DAY, None),
        reveal(
            &c.k1,
            &c.k0.public_key(),
            Some(&c.k2),
            NOW - DAY,
            Some(NOW - 2 * DAY),
        ),
        incept(&c.k0, &c.thief, NOW - 3 * DAY),
        revoke(&c.k1, NOW - 20 * DAY, NOW - DAY),
        reveal(&c.k2, &c.k1.public_key(), None, NOW - DAY / 2, None),
        incept(&c.friend, &other, NOW - 40 * DAY),
        reveal(&other, &c.friend.public_key(), None, NOW - 30 * DAY, None),
        handover(&other, &c.thief, NOW - 10 * DAY),
        handover(&other, &key(48), NOW - 11 * DAY),
        revoke(&c.thief, 0, NOW - DAY),
        attest(&c.thief, &c.friend.public_key(), NOW - 5 * DAY),
        attest(&c.k2, &c.friend.public_key(), NOW - DAY / 4),
    ]);
    objs
}

fn keys_of_pool() -> Vec<SecretKey> {
    let c = cast();
    vec![
        c.viewer,
        c.k0,
        c.k1,
        c.k2,
        c.thief,
        c.friend,
        key(47),
        key(48),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Any subset of the pool, received in two different orders by two nodes: both nodes,
    /// and in each node the trust graph and the moderation state, agree on every key's
    /// state, on the key every key speaks as, and on the viewer's trust (bit for bit).
    #[test]
    fn two_nodes_agree_whatever_the_order(
        (a, b) in proptest::sample::subsequence(pool(), 0..=pool().len())
            .prop_flat_map(|s| (Just(s.clone()).prop_shuffle(), Just(s).prop_shuffle()))
    ) {
        let (na, nb) = (node(&a), node(&b));
        let viewer = key(40);
        for k in keys_of_pool() {
            prop_assert_eq!(na.key_state(&k), nb.key_state(&k));
            prop_assert_eq!(na.current(&k), nb.current(&k));
            prop_assert_eq!(
                na.trust(&viewer, &k).to_bits(),
                nb.trust(&viewer, &k).to_bits()
            );
        }
    }
}
