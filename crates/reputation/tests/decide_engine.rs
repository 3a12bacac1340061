//! The trust engine plugged into decisions: an author two hops from the viewer gets the
//! engine's transitive trust and its path, which the one-hop stand-in cannot give.
#![allow(clippy::unwrap_used)]

#[path = "support/objects.rs"]
mod support;

use support::{key, sign, NOW};
use vouch_identity::SecretKey;
use vouch_reputation::*;

/// An attestation signed a day before `NOW`.
fn attest(by: &SecretKey, subject: &SecretKey, level: i64) -> SignedObject {
    support::attest(by, subject, level, NOW - MS_PER_EPOCH)
}

#[test]
fn engine_trust_reaches_two_hops_with_its_path() {
    let (viewer, friend, fof) = (key(50), key(51), key(52));
    let objects = [attest(&viewer, &friend, 90), attest(&friend, &fof, 90)];
    let post = sign(
        &fof,
        NOW - 1000,
        Body::Post(PostBody {
            text: "hi".into(),
            ..Default::default()
        }),
    );
    let mut state = ModerationState::new();
    let mut graph = TrustGraph::new(None);
    graph.set_now(NOW);
    for o in objects.iter().chain([&post]) {
        state.apply(o);
        graph.apply_object(o).unwrap();
    }
    let vb = *viewer.public_key().as_bytes();
    let tv = TrustView::compute(&graph, &vb, &[], TrustParams::default());
    let direct = DirectTrust::from_state(&state, &viewer.public_key(), NOW);
    let engine = EngineTrust::new(&graph, &tv, &direct);

    // One hop only: the friend of a friend is unknown to the stand-in ...
    assert!(direct.trust(&fof.public_key()).is_none());
    // ... but trusted by the engine, not directly, with the two-hop path that explains it.
    let t = engine.trust(&fof.public_key()).unwrap();
    assert!(t.score > 0.0 && !t.direct, "{t:?}");
    assert!(engine.trust(&friend.public_key()).unwrap().direct);
    let path = engine.path(&fof.public_key());
    assert_eq!(path.len(), 2);
    assert_eq!(path[0].from, viewer.public_key());
    assert_eq!(path[1].to, fof.public_key());
    assert_eq!(path[1].attest, objects[1].id());

    // The decision on the post carries the engine's score.
    let policy = Policy::new(viewer.public_key());
    let item = Item::post(&post).unwrap();
    let with_engine =
        View::build(&state, &policy, &engine, &NoCredentials, NOW).explain(&item, NOW);
    let with_direct =
        View::build(&state, &policy, &direct, &NoCredentials, NOW).explain(&item, NOW);
    assert!(
        with_engine.score > with_direct.score,
        "{} vs {}",
        with_engine.score,
        with_direct.score
    );
}

/// A host (the node) keeps compiled views in a cache shared between threads: a view built
/// from shared (`Arc`) lookups owns them, is `Send + Sync + 'static`, and decides the same as
/// one that borrows them.
#[test]
fn a_view_with_shared_lookups_is_owned_and_decides_the_same() {
    fn owned<T: Send + Sync + 'static>(t: T) -> T {
        t
    }
    let (viewer, friend) = (key(60), key(61));
    let objects = [attest(&viewer, &friend, 90)];
    let post = sign(
        &friend,
        NOW - 1000,
        Body::Post(PostBody {
            text: "hi".into(),
            ..Default::default()
        }),
    );
    let mut state = ModerationState::new();
    for o in objects.iter().chain([&post]) {
        state.apply(o);
    }
    let direct = DirectTrust::from_state(&state, &viewer.public_key(), NOW);
    let policy = Policy::new(viewer.public_key());
    let item = Item::post(&post).unwrap();
    let borrowed = View::build(&state, &policy, &direct, &NoCredentials, NOW).decide(&item, NOW);

    let trust: std::sync::Arc<dyn TrustLookup> = std::sync::Arc::new(direct.clone());
    let creds: std::sync::Arc<dyn CredentialLookup> = std::sync::Arc::new(NoCredentials);
    let view = owned(View::build(&state, &policy, trust, creds, NOW));
    let shared = std::thread::spawn(move || view.decide(&item, NOW))
        .join()
        .unwrap();
    assert_eq!(shared.verdict, borrowed.verdict);
    assert_eq!(shared.score, borrowed.score);
    assert!(shared.score > 0.0, "the friend is trusted: {shared:?}");
}
