//! Entry points for the fuzz targets of `fuzz/` (feature `fuzzing`, never in a release): one
//! function per decoder or state transition a stranger can reach, taking raw bytes and
//! calling the node's own code on them, so a fuzz target exercises the real path and not a
//! copy. Each function must not panic on any input; the checks inside (`assert!`) are the
//! properties the fuzzer hunts for (round trips, order independence), and a failure is a bug.
//!
//! Reached from outside by: `/vouch/sync/1` requests and responses (CBOR, as the libp2p codec
//! decodes them) and the negentropy messages inside them ([`sync_request`],
//! [`sync_response`], [`negentropy`]); gossip and fetched objects into the moderation state
//! and the trust graph ([`objects_state`]); CAR files ([`car`]); the API's JSON bodies
//! ([`api_decide`], [`api_policy`]); `did:key`, CID, group and list strings ([`refs`]); and
//! the stored policy format, read back from the database ([`policy_record`]).

use std::sync::OnceLock;

use futures::executor::block_on;
use libp2p::request_response::{self, Codec as _};
use sha2::{Digest, Sha256};
use vouch_identity::PublicKey;
use vouch_reputation::{
    decide_batch, decode_stored, diff, Body, DirectTrust, GroupRef, Item, Limits, ModerationState,
    NoCredentials, Policy, SignedObject, TrustGraph, TrustParams, TrustView, View,
};

use crate::api::decide::{parse_items, Parsed};
use crate::json::{CreateViewerJson, DecideRequest, PolicyJson, MAX_DECIDE_ITEMS};
use crate::net::sync::{
    answer, storage, Initiator, SyncRequest, SyncResponse, FETCH_BATCH, MAX_REQUEST_BYTES,
    MAX_RESPONSE_BYTES, MAX_TOPIC_LEN,
};
use crate::net::SYNC_PROTOCOL;
use crate::node::engine::TrustSnapshot;
use crate::node::policy_record::PolicyRecord;

/// The time every entry point runs at: 2026-01-01T00:00:00Z.
pub const NOW_MS: u64 = 1_767_225_600_000;

/// Most objects [`objects_state`] takes from one input (more only slows the fuzzer down).
pub const MAX_OBJECTS: usize = 32;

type SyncCodec = request_response::cbor::codec::Codec<SyncRequest, SyncResponse>;

fn codec() -> SyncCodec {
    // The limits the node's behaviour is built with (`net::build_swarm`).
    SyncCodec::default()
        .set_request_size_maximum(MAX_REQUEST_BYTES)
        .set_response_size_maximum(MAX_RESPONSE_BYTES)
}

/// A fixed responder's catch-up index: 300 items, one second apart.
fn items() -> &'static [(u64, [u8; 32])] {
    static ITEMS: OnceLock<Vec<(u64, [u8; 32])>> = OnceLock::new();
    ITEMS.get_or_init(|| {
        (0..300u64)
            .map(|i| {
                let id: [u8; 32] = Sha256::digest(i.to_le_bytes()).into();
                (NOW_MS - 300_000 + i * 1000, id)
            })
            .collect()
    })
}

/// Answers a negentropy message as the responder does, and feeds it to an initiator that
/// holds every other item of the same set, as a reply would be.
pub fn negentropy(msg: &[u8]) {
    if let Ok(store) = storage(items()) {
        let _ = answer(&store, msg);
    }
    let half: Vec<(u64, [u8; 32])> = items().iter().step_by(2).copied().collect();
    if let Ok((mut init, _first)) = Initiator::start(&half) {
        if let Ok(Some(_)) = init.step(msg) {
            let need = init.take_need();
            assert!(need.len() <= items().len() + msg.len() / 32);
        }
    }
}

/// A real store (a temporary SQLite database, kept for the process's life) holding the
/// seed objects, for the responder side of [`sync_request`].
fn store() -> Option<&'static crate::node::store::StoreReader> {
    use crate::node::store::{open, Durability, StoreReader, StoreWriter, StoredObject};
    static STORE: OnceLock<Option<(tempfile::TempDir, StoreReader)>> = OnceLock::new();
    STORE
        .get_or_init(|| {
            let dir = tempfile::tempdir().ok()?;
            let conn = open(dir.path(), Durability::Normal).ok()?;
            let metrics = std::sync::Arc::new(crate::node::metrics::Metrics::default());
            let (writer, thread) = StoreWriter::spawn(conn, metrics);
            let rows = seed_objects()
                .iter()
                .map(StoredObject::from_signed)
                .collect();
            writer.insert_blocking(rows).ok()?;
            drop(writer);
            thread.join().ok()?;
            let reader = StoreReader::open(dir.path()).ok()?;
            Some((dir, reader))
        })
        .as_ref()
        .map(|(_, r)| r)
}

/// Decodes a `/vouch/sync/1` request as the libp2p CBOR codec does, then serves it as the
/// responder does (`NetLoop::on_sync_request`): the same bounds, the topic's index read from
/// a real store and answered by negentropy, fetched ids read (and re-verified) from it.
pub fn sync_request(data: &[u8]) {
    let mut io = futures::io::Cursor::new(data);
    let Ok(request) = block_on(codec().read_request(&SYNC_PROTOCOL, &mut io)) else {
        return;
    };
    let Some(reader) = store() else {
        return;
    };
    match request {
        SyncRequest::Reconcile { topic, msg } => {
            if topic.len() <= MAX_TOPIC_LEN {
                if let Ok(items) = reader.sync_items(&topic) {
                    if let Ok(s) = storage(&items) {
                        let _ = answer(&s, &msg);
                    }
                }
            }
        }
        SyncRequest::Fetch { ids } => {
            let ids: Option<Vec<vouch_reputation::ObjectId>> = ids
                .iter()
                .map(|b| {
                    <[u8; 32]>::try_from(b.as_slice())
                        .ok()
                        .map(vouch_reputation::ObjectId)
                })
                .collect();
            if let Some(ids) = ids.filter(|ids| ids.len() <= FETCH_BATCH) {
                if let Ok(found) = reader.get_many(&ids, crate::net::sync::FETCH_RESPONSE_MAX_BYTES)
                {
                    for bytes in found {
                        assert!(ids.contains(&vouch_reputation::ObjectId::of_bytes(&bytes)));
                    }
                }
            }
        }
    }
}

/// Decodes a `/vouch/sync/1` response as the codec does, then handles it as the initiator
/// does: a reconciliation answer goes to negentropy, fetched objects through validation.
pub fn sync_response(data: &[u8]) {
    let mut io = futures::io::Cursor::new(data);
    let Ok(response) = block_on(codec().read_response(&SYNC_PROTOCOL, &mut io)) else {
        return;
    };
    match response {
        SyncResponse::Reconcile { msg } => negentropy(&msg),
        SyncResponse::Objects { objects } => {
            let refs: Vec<&[u8]> = objects.iter().map(|b| b.as_slice()).collect();
            let batch = Limits::default().validate_batch(&refs, NOW_MS);
            for (bytes, result) in refs.iter().zip(&batch) {
                assert_eq!(
                    result.is_ok(),
                    Limits::default().validate(bytes, NOW_MS).is_ok()
                );
            }
        }
        SyncResponse::Error { code } => {
            let _ = code.len();
        }
    }
}

/// Reads a CAR file as `vouch import` does: header, then each block checked against its CID
/// and validated.
pub fn car(data: &[u8]) {
    let Ok(mut reader) = crate::car::CarReader::new(data) else {
        return;
    };
    let _ = reader.roots().len();
    while let Ok(Some((cid, block))) = reader.next_block() {
        if let Ok(id) = crate::car::check_block(&cid, &block) {
            if let Ok(obj) = vouch_reputation::validate(&block, NOW_MS) {
                assert_eq!(obj.id(), id);
            }
        }
    }
}

/// `did:key`, CID, `<owner>/<name>` and subject strings as the API's paths and bodies read
/// them. Whatever parses prints back to a string that parses to the same value.
pub fn refs(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(k) = crate::json::parse_did("f", s) {
        assert_eq!(crate::json::parse_did("f", &crate::json::did(&k)), Ok(k));
    }
    if let Ok(id) = crate::json::parse_cid("f", s) {
        assert_eq!(crate::json::parse_cid("f", &id.to_string()), Ok(id));
    }
    if let Ok(g) = crate::json::parse_group("f", s) {
        assert_eq!(
            crate::json::parse_group("f", &crate::json::group_str(&g)),
            Ok(g)
        );
    }
    if let Ok(l) = crate::json::parse_list("f", s) {
        assert_eq!(
            crate::json::parse_list("f", &crate::json::list_str(&l)),
            Ok(l)
        );
    }
    if let Ok(subject) = crate::json::parse_subject("f", s) {
        assert_eq!(
            crate::json::parse_subject("f", &crate::json::subject_str(&subject)),
            Ok(subject)
        );
    }
    let _ = PublicKey::from_did_key(s);
}

/// A small fixed state to decide against: one group with a ban list, a block list, posts.
fn fixed_state() -> &'static (ModerationState, TrustGraph) {
    static STATE: OnceLock<(ModerationState, TrustGraph)> = OnceLock::new();
    STATE.get_or_init(|| {
        let mut state = ModerationState::new();
        let mut graph = TrustGraph::new(None);
        for obj in seed_objects() {
            state.apply(&obj);
            let _ = graph.apply_object(&obj);
        }
        (state, graph)
    })
}

/// Signed objects for [`fixed_state`]: attestations, a post, a list with an entry, a group.
fn seed_objects() -> Vec<SignedObject> {
    use vouch_identity::SecretKey;
    use vouch_reputation::{
        AttestBody, GroupBody, ListAddBody, ListBody, ListPurpose, Object, PostBody, Subject,
    };
    let key = |i: u8| SecretKey::from_seed(&[i; 32]);
    let at = NOW_MS - 60_000;
    let mut out = Vec::new();
    let mut push = |k: u8, body: Body| {
        let obj = Object {
            author: key(k).public_key(),
            at: at + out.len() as u64,
            body,
        };
        if let Ok(s) = obj.sign(&key(k)) {
            out.push(s);
        }
    };
    push(1, Body::Attest(AttestBody::new(key(2).public_key(), 80)));
    push(2, Body::Attest(AttestBody::new(key(3).public_key(), 60)));
    push(1, Body::Attest(AttestBody::new(key(4).public_key(), -50)));
    push(
        3,
        Body::Post(PostBody {
            text: "hello".into(),
            ..Default::default()
        }),
    );
    let spam = vouch_reputation::ListRef {
        owner: key(2).public_key(),
        name: "spam".into(),
    };
    let rust = GroupRef {
        owner: key(1).public_key(),
        name: "rust".into(),
    };
    push(
        2,
        Body::List(ListBody {
            name: "spam".into(),
            purpose: ListPurpose::Block,
            description: Some("spammers".into()),
            group: None,
            seq: 1,
        }),
    );
    push(
        2,
        Body::ListAdd(ListAddBody {
            list: spam,
            subject: Subject::Key(key(4).public_key()),
            reason: Some("spam".into()),
            category: None,
            expires: None,
        }),
    );
    push(
        1,
        Body::Group(GroupBody {
            name: "rust".into(),
            rules: Some("be kind".into()),
            policy: vouch_reputation::GroupPolicy::default(),
            moderators: vec![key(2).public_key()],
            seq: 1,
        }),
    );
    push(
        1,
        Body::List(ListBody {
            name: "rust-bans".into(),
            purpose: ListPurpose::Ban,
            description: None,
            group: Some(rust.clone()),
            seq: 1,
        }),
    );
    push(
        2,
        Body::ListAdd(ListAddBody {
            list: vouch_reputation::ListRef {
                owner: key(1).public_key(),
                name: "rust-bans".into(),
            },
            subject: Subject::Key(key(3).public_key()),
            reason: None,
            category: None,
            expires: Some(NOW_MS + 3_600_000),
        }),
    );
    push(
        3,
        Body::Post(PostBody {
            text: "in the group".into(),
            group: Some(rust),
            ..Default::default()
        }),
    );
    out
}

fn view_of<'a>(
    state: &ModerationState,
    graph: &TrustGraph,
    viewer: &PublicKey,
    policy: &Policy,
) -> View<'a> {
    let trust = TrustView::compute(graph, viewer.as_bytes(), &[], TrustParams::default());
    let direct = DirectTrust::from_state(state, viewer, NOW_MS);
    let lookup: std::sync::Arc<dyn vouch_reputation::TrustLookup> =
        std::sync::Arc::new(TrustSnapshot::new(graph, &trust, direct));
    let credentials: std::sync::Arc<dyn vouch_reputation::CredentialLookup> =
        std::sync::Arc::new(NoCredentials);
    View::build_with_seed(state, policy, lookup, credentials, NOW_MS, 7)
}

fn viewer() -> PublicKey {
    vouch_identity::SecretKey::from_seed(&[1; 32]).public_key()
}

/// `POST /v1/viewers/{viewer}/decide`: the body as the API parses it, each item as the
/// handler reads it, and the ready items decided against a small state, one by one and in a
/// batch (which must agree).
pub fn api_decide(data: &[u8]) {
    let Ok(request) = serde_json::from_slice::<DecideRequest>(data) else {
        return;
    };
    if request.items.len() > MAX_DECIDE_ITEMS {
        return;
    }
    let items: Vec<Item> = parse_items(&request.items, NOW_MS)
        .into_iter()
        .filter_map(|p| match p {
            Parsed::Ready(item) => Some(item),
            Parsed::Lookup(_) | Parsed::Failed(_) | Parsed::Inline => None,
        })
        .collect();
    let (state, graph) = fixed_state();
    let view = view_of(state, graph, &viewer(), &Policy::new(viewer()));
    let batch = decide_batch(&view, &items, NOW_MS);
    for (item, d) in items.iter().zip(&batch) {
        assert_eq!(&view.decide(item, NOW_MS), d);
        let _ = view.explain(item, NOW_MS);
    }
}

/// `PUT /v1/viewers/{viewer}/policy`, `POST /v1/viewers/{viewer}/diff` and `POST
/// /v1/viewers`: the body as the API parses it, the policy it gives, the stored form of that
/// policy (which must read back to the same policy), a view built with it, and the diff
/// against the default policy.
pub fn api_policy(data: &[u8]) {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let policy_json = match serde_json::from_value::<CreateViewerJson>(value.clone()) {
        Ok(create) => {
            let _ = crate::json::parse_did("viewer", &create.viewer);
            create.policy
        }
        Err(_) => match serde_json::from_value::<PolicyJson>(value) {
            Ok(p) => p,
            Err(_) => return,
        },
    };
    let me = viewer();
    let Ok((policy, groups)) = policy_json.to_policy(me) else {
        return;
    };
    let record = PolicyRecord::new(&policy, &groups);
    let back = PolicyRecord::from_bytes(&record.to_bytes()).and_then(|r| r.to_policy(me));
    match back {
        Ok((p, g)) => {
            assert_eq!(p, policy, "a stored policy reads back as it was written");
            assert_eq!(g, groups);
        }
        Err(e) => panic!("a policy the API accepted cannot be stored: {e}"),
    }
    let (state, graph) = fixed_state();
    let after = view_of(state, graph, &me, &policy);
    let before = view_of(state, graph, &me, &Policy::new(me));
    let _ = diff(&before, &after, NOW_MS);
    let items: Vec<Item> = (1..=4u8)
        .map(|i| Item::Author {
            author: vouch_identity::SecretKey::from_seed(&[i; 32]).public_key(),
            group: groups.first().cloned(),
        })
        .collect();
    let _ = decide_batch(&after, &items, NOW_MS);
}

/// A viewer's stored policy as the engine reads it from the `viewers` table (a damaged or
/// hostile row must give an error, never a panic); what reads re-encodes to a record that
/// reads back the same.
pub fn policy_record(data: &[u8]) {
    let Ok(record) = PolicyRecord::from_bytes(data) else {
        return;
    };
    if let Ok((policy, groups)) = record.to_policy(viewer()) {
        let again = PolicyRecord::new(&policy, &groups);
        let back = PolicyRecord::from_bytes(&again.to_bytes()).and_then(|r| r.to_policy(viewer()));
        assert!(matches!(back, Ok((p, g)) if p == policy && g == groups));
    }
}

/// Splits an input into objects: each is a 2-byte little-endian length and that many bytes.
pub fn split_objects(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while rest.len() >= 2 && out.len() < MAX_OBJECTS {
        let n = usize::from(u16::from_le_bytes([rest[0], rest[1]]));
        let body = &rest[2..];
        let n = n.min(body.len());
        out.push(&body[..n]);
        rest = &body[n..];
    }
    out
}

/// The frame [`split_objects`] reads, for building seeds.
pub fn frame_objects(objects: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for o in objects {
        let n = u16::try_from(o.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&n.to_le_bytes());
        out.extend_from_slice(&o[..usize::from(n)]);
    }
    out
}

/// Objects as the engine takes them from the store (`decode_stored`: everything validation
/// checks except the signature, which the fuzzer cannot forge), applied to a moderation
/// state and a trust graph in the given order and in reverse. State does not depend on
/// arrival order, so both must give the same trust numbers (full computations) and the same
/// decisions on every author and post, for a viewer with the default policy and one that
/// subscribes to every list and group the objects name. The incrementally updated view must
/// stay within the push resolution of the full one.
pub fn objects_state(data: &[u8]) {
    let objects: Vec<SignedObject> = split_objects(data)
        .into_iter()
        .filter_map(|b| decode_stored(b).ok())
        .collect();
    if objects.is_empty() {
        return;
    }
    let me = objects[0].author().to_owned();
    let mut forward = (ModerationState::new(), TrustGraph::new(None));
    let mut incremental =
        TrustView::compute(&forward.1, me.as_bytes(), &[], TrustParams::default());
    for obj in &objects {
        forward.0.apply(obj);
        if forward.1.apply_object(obj).is_ok() {
            incremental.update(&forward.1);
        }
    }
    let mut backward = (ModerationState::new(), TrustGraph::new(None));
    for obj in objects.iter().rev() {
        backward.0.apply(obj);
        let _ = backward.1.apply_object(obj);
    }
    let full_f = TrustView::compute(&forward.1, me.as_bytes(), &[], TrustParams::default());
    let full_b = TrustView::compute(&backward.1, me.as_bytes(), &[], TrustParams::default());
    let mut scores_f = full_f.scores(&forward.1);
    let mut scores_b = full_b.scores(&backward.1);
    scores_f.sort_by_key(|s| s.0);
    scores_b.sort_by_key(|s| s.0);
    assert_eq!(scores_f, scores_b, "trust depends on arrival order");
    for (key, full) in &scores_f {
        let inc = incremental.score(&forward.1, key).unwrap_or_default();
        assert!(
            (inc.trust - full.trust).abs() < 1e-5,
            "incremental trust {} vs full {}",
            inc.trust,
            full.trust
        );
    }

    // Decisions for two policies, on every author (in general and in each group) and post.
    let mut policy = Policy::new(me);
    let mut groups: Vec<GroupRef> = Vec::new();
    let mut items: Vec<Item> = Vec::new();
    for obj in &objects {
        items.push(Item::Author {
            author: *obj.author(),
            group: None,
        });
        if let Some(post) = Item::post(obj) {
            items.push(post);
        }
        match obj.body() {
            Body::List(l) => policy.lists.push(vouch_reputation::ListSubscription {
                list: vouch_reputation::ListRef {
                    owner: *obj.author(),
                    name: l.name.clone(),
                },
                weight: 1.0,
            }),
            Body::Group(g) => groups.push(GroupRef {
                owner: *obj.author(),
                name: g.name.clone(),
            }),
            _ => {}
        }
    }
    for g in &groups {
        for obj in &objects {
            items.push(Item::Author {
                author: *obj.author(),
                group: Some(g.clone()),
            });
        }
    }
    for policy in [Policy::new(me), policy] {
        let view_f = view_of(&forward.0, &forward.1, &me, &policy);
        let view_b = view_of(&backward.0, &backward.1, &me, &policy);
        let d_f = decide_batch(&view_f, &items, NOW_MS);
        let d_b = decide_batch(&view_b, &items, NOW_MS);
        assert_eq!(d_f, d_b, "decisions depend on arrival order");
        for (item, d) in items.iter().zip(&d_f) {
            assert_eq!(
                &view_f.decide(item, NOW_MS),
                d,
                "decide_batch and decide differ"
            );
        }
        let _ = diff(&view_f, &view_b, NOW_MS);
    }
}

/// Writes the seed inputs of every target that this crate can make (signed objects, sync
/// messages, JSON bodies) into `dir/<target>/`, for `scripts/fuzz.sh` to start from.
pub fn write_seeds(dir: &std::path::Path) -> std::io::Result<usize> {
    let mut n = 0;
    let mut put = |target: &str, name: &str, bytes: &[u8]| -> std::io::Result<()> {
        let d = dir.join(target);
        std::fs::create_dir_all(&d)?;
        std::fs::write(d.join(name), bytes)?;
        n += 1;
        Ok(())
    };
    write_nostr_seeds(&mut put)?;
    let objects = seed_objects();
    let bytes: Vec<&[u8]> = objects.iter().map(|o| o.bytes()).collect();
    put("objects_state", "community", &frame_objects(&bytes))?;
    for (i, o) in objects.iter().enumerate() {
        put(
            "objects_state",
            &format!("one-{i}"),
            &frame_objects(&[o.bytes()]),
        )?;
    }

    // Negentropy: an initiator's first message, and a responder's answer to it.
    let half: Vec<(u64, [u8; 32])> = items().iter().skip(1).step_by(3).copied().collect();
    if let Ok((_init, first)) = Initiator::start(&half) {
        put("negentropy", "initiate", &first)?;
        if let Ok(store) = storage(items()) {
            if let Ok(reply) = answer(&store, &first) {
                put("negentropy", "answer", &reply)?;
                let resp = SyncResponse::Reconcile { msg: reply };
                put("sync_response", "reconcile", &cbor_response(resp))?;
            }
        }
        let req = SyncRequest::Reconcile {
            topic: crate::net::topic::SOCIAL_TOPIC.into(),
            msg: first,
        };
        put("sync_request", "reconcile", &cbor_request(req))?;
    }
    let fetch = SyncRequest::Fetch {
        ids: objects
            .iter()
            .take(3)
            .map(|o| o.id().0)
            .chain(items().iter().take(1).map(|(_, id)| *id))
            .map(|id| serde_bytes::ByteBuf::from(id.to_vec()))
            .collect(),
    };
    put("sync_request", "fetch", &cbor_request(fetch))?;
    let objs = SyncResponse::Objects {
        objects: bytes
            .iter()
            .map(|b| serde_bytes::ByteBuf::from(b.to_vec()))
            .collect(),
    };
    put("sync_response", "objects", &cbor_response(objs))?;
    put(
        "sync_response",
        "error",
        &cbor_response(SyncResponse::Error {
            code: "busy".into(),
        }),
    )?;

    // CAR: the objects as `vouch export` writes them.
    let cids: Vec<cid::Cid> = objects.iter().map(|o| o.id().to_cid()).collect();
    if let Ok(mut w) = crate::car::CarWriter::new(Vec::new(), &cids[..1]) {
        for (c, o) in cids.iter().zip(&objects) {
            let _ = w.write_block(c, o.bytes());
        }
        if let Ok(car) = w.finish() {
            put("car", "export", &car)?;
        }
    }

    // Strings.
    let k = viewer();
    let did = crate::json::did(&k);
    put("refs", "did", did.as_bytes())?;
    put("refs", "cid", objects[0].id().to_string().as_bytes())?;
    put("refs", "group", format!("{did}/rust").as_bytes())?;

    // JSON bodies.
    let post = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(objects[3].bytes())
    };
    let decide = serde_json::json!({
        "items": [
            {"post": objects[3].id().to_string()},
            {"object": post},
            {"author": crate::json::did(objects[2].author())},
            {"author": did, "group": format!("{did}/rust")},
        ],
        "explain": true
    });
    put("api_decide", "items", decide.to_string().as_bytes())?;
    let list = format!("{}/spam", crate::json::did(objects[4].author()));
    let other = crate::json::did(objects[1].author());
    let policy = serde_json::json!({
        "lists": [{"list": list, "weight": 1.0}],
        "curators": [{"curator": other, "weight": 0.5, "depth": 2, "decay": 0.5}],
        "quorum": {"min_lists": 1, "min_weight": 1.0},
        "below_quorum": "warn",
        "overrides": [{"subject": other, "verdict": "show"}],
        "exemptions": [{"list": list, "subject": did}],
        "protect_trusted": true,
        "labelers": [other],
        "label_verdicts": {"spam": "hide", "nsfw": "collapse"},
        "unmapped_label": "warn",
        "votes": {"budget_per_epoch": 10, "window_epochs": 7, "collapse_at": -2.0, "hide_at": -5.0},
        "unknown_author": "collapse",
        "group_rules": true,
        "groups": [format!("{did}/rust")],
    });
    put("api_policy", "policy", policy.to_string().as_bytes())?;
    let create = serde_json::json!({"viewer": did, "policy": policy});
    put("api_policy", "create", create.to_string().as_bytes())?;
    put("api_policy", "empty", b"{}")?;
    if let Ok(Ok((p, g))) = serde_json::from_value::<PolicyJson>(policy).map(|p| p.to_policy(k)) {
        put(
            "policy_record",
            "subscribed",
            &PolicyRecord::new(&p, &g).to_bytes(),
        )?;
    }
    put(
        "policy_record",
        "default",
        &PolicyRecord::new(&Policy::new(k), &[]).to_bytes(),
    )?;
    #[cfg(feature = "vc")]
    write_identity_seeds(&mut put)?;
    Ok(n)
}

fn cbor_request(request: SyncRequest) -> Vec<u8> {
    // Written as the codec writes it, so the seed is what a peer would send.
    let mut io = futures::io::Cursor::new(Vec::new());
    let _ = block_on(codec().write_request(&SYNC_PROTOCOL, &mut io, request));
    io.into_inner()
}

fn cbor_response(response: SyncResponse) -> Vec<u8> {
    let mut io = futures::io::Cursor::new(Vec::new());
    let _ = block_on(codec().write_response(&SYNC_PROTOCOL, &mut io, response));
    io.into_inner()
}

/// The object decoder and validator on arbitrary bytes, one by one and in a batch (which
/// must agree); whatever is accepted re-encodes to exactly the input and keeps its id.
pub fn decode(data: &[u8]) {
    let single = vouch_reputation::validate(data, NOW_MS);
    let batch = vouch_reputation::validate_batch(&[data], NOW_MS);
    assert_eq!(single.is_ok(), batch.first().is_some_and(|r| r.is_ok()));
    if let Ok(obj) = single {
        assert_eq!(obj.bytes(), data);
        assert_eq!(obj.id(), vouch_reputation::ObjectId::of_bytes(data));
        // What validates also decodes as a stored row, to the same object.
        assert_eq!(decode_stored(data).ok().as_ref(), Some(&obj));
    }
}

/// A fixed personhood issuer for [`personhood`] and its seeds.
#[cfg(feature = "vc")]
fn personhood_issuer() -> &'static vouch_identity::PersonhoodIssuer {
    static ISSUER: OnceLock<vouch_identity::PersonhoodIssuer> = OnceLock::new();
    ISSUER.get_or_init(
        || match vouch_identity::PersonhoodIssuer::from_key_material(&[42; 32]) {
            Ok(i) => i,
            Err(e) => panic!("fixed issuer key material: {e}"),
        },
    )
}

#[cfg(feature = "vc")]
fn personhood_scope() -> vouch_identity::PersonhoodScope {
    vouch_identity::PersonhoodScope::new(format!("{}/village", crate::json::did(&viewer())), 7)
}

/// Personhood bytes as a ballot or a holder carries them: a proof (verified against a fixed
/// issuer, scope and voting key), a credential, an issuance request, an issuer `did:key`.
#[cfg(feature = "vc")]
pub fn personhood(data: &[u8]) {
    use vouch_identity::{
        verify_personhood, PersonhoodCredential, PersonhoodIssuerKey, PersonhoodProof,
        PersonhoodRequest,
    };
    if let Ok(proof) = PersonhoodProof::from_bytes(data) {
        assert_eq!(
            PersonhoodProof::from_bytes(&proof.to_bytes()).ok(),
            Some(proof.clone())
        );
        let issuer = personhood_issuer().public_key();
        let _ = verify_personhood(&proof, &issuer, &personhood_scope(), &viewer(), NOW_MS);
    }
    if let Ok(cred) = PersonhoodCredential::from_bytes(data) {
        let _ = cred.pseudonym(&personhood_scope());
    }
    let _ = PersonhoodRequest::from_bytes(data);
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = PersonhoodIssuerKey::from_did_key(s);
    }
}

/// A credential's JSON as `vouch credential verify` and the identity commands read it.
#[cfg(feature = "vc")]
pub fn credential(data: &[u8]) {
    if let Ok(json) = std::str::from_utf8(data) {
        let _ = vouch_identity::verify_credential(json, NOW_MS, &[]);
    }
}

/// Writes one seed: `(target, name, bytes)`.
#[cfg(feature = "vc")]
type PutSeed<'a> = dyn FnMut(&str, &str, &[u8]) -> std::io::Result<()> + 'a;

/// Seeds of the identity targets (feature `vc`): a valid personhood proof, credential,
/// request and issuer key; a signed credential.
#[cfg(feature = "vc")]
fn write_identity_seeds(put: &mut PutSeed<'_>) -> std::io::Result<()> {
    use rand_chacha::rand_core::SeedableRng;
    use vouch_identity::{CredentialRequest, PersonhoodRequest, SecretKey};
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
    let issuer = personhood_issuer();
    let day = 24 * 3600 * 1000;
    if let Ok((req, pending)) = PersonhoodRequest::new(&mut rng) {
        put("personhood", "request", req.as_bytes())?;
        if let Ok(iss) = issuer.issue(&req, NOW_MS - NOW_MS % day + 30 * day, NOW_MS, &mut rng) {
            if let Ok(cred) = pending.finalize(&issuer.public_key(), &iss) {
                put("personhood", "credential", &cred.to_bytes())?;
                if let Ok(proof) = cred.prove(&personhood_scope(), &viewer()) {
                    put("personhood", "proof", &proof.to_bytes())?;
                }
            }
        }
    }
    put(
        "personhood",
        "issuer",
        issuer.public_key().to_did_key().as_bytes(),
    )?;
    let request = CredentialRequest {
        id: "urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66".into(),
        subject: SecretKey::from_seed(&[9; 32]).public_key().to_did_key(),
        types: vec![vouch_identity::PERSONHOOD_CREDENTIAL_TYPE.into()],
        claims: serde_json::Map::new(),
        valid_from_ms: NOW_MS - day,
        valid_until_ms: Some(NOW_MS + 365 * day),
    };
    if let Ok(json) =
        vouch_identity::issue_credential(&SecretKey::from_seed(&[8; 32]), &request, NOW_MS)
    {
        put("credential", "personhood", json.as_bytes())?;
    }
    Ok(())
}

/// A message from a Nostr relay as the node's relay client reads it (bounded), the event in
/// it, and the input itself as an event: parsed with the node's limits, id recomputed,
/// BIP-340 signature verified; and whatever parses (all of it but the signature, which a
/// fuzzer cannot forge) mapped into engine facts by a `NostrState`, twice, as a relay that
/// sends an event again would.
pub fn nostr(data: &[u8]) {
    use crate::nostr::{event, map::NostrState, relay};
    let limits = event::EventLimits::default();
    let now_s = NOW_MS / 1000;
    let mut events: Vec<Vec<u8>> = vec![data.to_vec()];
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(relay::RelayMsg::Event(_, v)) = relay::parse_relay_msg(text, 1 << 20) {
            if let Ok(b) = serde_json::to_vec(&v) {
                events.push(b);
            }
        }
    }
    let mut state = NostrState::new();
    for e in &events {
        let _ = event::verify_event(e, &limits, now_s);
        if let Ok(parsed) = event::parse_event(e, &limits, now_s) {
            let mut out = Vec::new();
            let _ = state.apply(&parsed, &mut out);
            let _ = state.apply(&parsed, &mut out);
        }
    }
}

/// Seeds of the `nostr` target: a follow list, a mute list, a report and a label, signed
/// with fixed keys and auxiliary randomness, alone and inside a relay's `EVENT` message.
fn write_nostr_seeds(
    put: &mut impl FnMut(&str, &str, &[u8]) -> std::io::Result<()>,
) -> std::io::Result<()> {
    use crate::nostr::event::sign_event;
    use k256::schnorr::SigningKey;
    let keys: Vec<SigningKey> = (1u8..=3)
        .filter_map(|i| SigningKey::from_bytes(&[i; 32]).ok())
        .collect();
    let hex = |k: &SigningKey| -> String {
        let b: [u8; 32] = k.verifying_key().to_bytes().into();
        hex::encode(b)
    };
    let (Some(a), Some(b), Some(c)) = (keys.first(), keys.get(1), keys.get(2)) else {
        return Ok(());
    };
    let at = NOW_MS / 1000 - 60;
    let p = |k: &SigningKey| vec!["p".to_owned(), hex(k)];
    let events = [
        (
            "follows",
            sign_event(a, at, 3, vec![p(b), p(c)], String::new(), &[7; 32]),
        ),
        (
            "mutes",
            sign_event(a, at, 10000, vec![p(c)], String::new(), &[8; 32]),
        ),
        (
            "report",
            sign_event(
                b,
                at,
                1984,
                vec![vec!["p".into(), hex(c), "spam".into()]],
                "spam".into(),
                &[9; 32],
            ),
        ),
        (
            "label",
            sign_event(
                b,
                at,
                1985,
                vec![
                    vec!["L".into(), "vouch".into()],
                    vec!["l".into(), "nsfw".into(), "vouch".into()],
                    p(c),
                ],
                String::new(),
                &[10; 32],
            ),
        ),
    ];
    for (name, e) in events {
        let Ok(e) = e else { continue };
        let json = e.to_json();
        put("nostr", name, json.to_string().as_bytes())?;
        let msg = serde_json::json!(["EVENT", "sub", json]);
        put(
            "nostr",
            &format!("relay-{name}"),
            msg.to_string().as_bytes(),
        )?;
    }
    Ok(())
}

/// The entry point of a fuzz target, by the target's name (`fuzz/fuzz_targets/<name>.rs`).
pub fn entry(target: &str) -> Option<fn(&[u8])> {
    Some(match target {
        "decode" => decode,
        "objects_state" => objects_state,
        "sync_request" => sync_request,
        "sync_response" => sync_response,
        "negentropy" => negentropy,
        "car" => car,
        "api_decide" => api_decide,
        "api_policy" => api_policy,
        "refs" => refs,
        "policy_record" => policy_record,
        "nostr" => nostr,
        #[cfg(feature = "vc")]
        "personhood" => personhood,
        #[cfg(feature = "vc")]
        "credential" => credential,
        _ => return None,
    })
}

#[cfg(test)]
mod tests;
