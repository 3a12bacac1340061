//! Compiled decisions change nothing: in random worlds (block, allow and label lists with
//! expiring, expired and retracted entries, bans, votes, trust, overrides, revocations,
//! quorums), deciding with the templates compiled into the view gives exactly the decisions
//! of the rules applied afresh, for every item and at every `now`; and a batch gives the
//! decisions one by one, however many reasons it holds.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::{
    epoch_of, GroupBody, GroupPolicy, ListAddBody, ListBody, ListRemoveBody, Object, RevokeBody,
    VoteBody,
};
use crate::{DirectTrust, NoCredentials, Override, Quorum};
use proptest::prelude::*;
use std::sync::OnceLock;
use vouch_identity::SecretKey;

const NOW: u64 = 1_767_225_600_000;
const MIN: u64 = 60_000;
const AUTHORS: usize = 8;
const LISTS: usize = 5;

/// 0 viewer, 1..=5 curators, 6 group owner, 7.. authors and voters.
fn keys() -> &'static [PublicKey] {
    static K: OnceLock<Vec<PublicKey>> = OnceLock::new();
    K.get_or_init(|| {
        (0..7 + AUTHORS as u8)
            .map(|i| SecretKey::from_seed(&[i + 1; 32]).public_key())
            .collect()
    })
}

fn author(i: usize) -> PublicKey {
    keys()[7 + i % AUTHORS]
}

fn post_id(author: usize, n: u8) -> ObjectId {
    ObjectId::of_bytes(&[b'p', author as u8, n])
}

fn list_ref(l: usize) -> ListRef {
    ListRef {
        owner: keys()[1 + l],
        name: format!("list-{l}"),
    }
}

fn group() -> GroupRef {
    GroupRef {
        owner: keys()[6],
        name: "g".into(),
    }
}

#[derive(Debug, Clone)]
struct World {
    /// (list, subject: 0..8 authors, 8..12 posts of authors 0..4, kind 0..5)
    entries: Vec<(usize, usize, u8)>,
    weights: [f32; LISTS],
    trust: Vec<Option<i64>>,
    /// (voter, target: 0..4 posts, 4.. authors, up)
    votes: Vec<(usize, usize, bool)>,
    bans: Vec<usize>,
    revoked: Option<usize>,
    override_: Option<(usize, Verdict)>,
    min_lists: u32,
    min_weight: f32,
    protect_trusted: bool,
    unknown_author: Verdict,
    below_quorum: Verdict,
    min_trust: Option<u64>,
}

fn verdict() -> impl Strategy<Value = Verdict> {
    prop::sample::select(Verdict::ALL.to_vec())
}

fn world() -> impl Strategy<Value = World> {
    (
        prop::collection::vec((0..LISTS, 0..12usize, 0..5u8), 0..40),
        prop::array::uniform5(prop::sample::select(vec![0.25f32, 0.5, 1.0])),
        prop::collection::vec(
            prop::option::of(prop::sample::select(vec![-20i64, 0, 30, 80])),
            AUTHORS,
        ),
        prop::collection::vec((0..AUTHORS, 0..12usize, any::<bool>()), 0..12),
        prop::collection::vec(0..AUTHORS, 0..3),
        prop::option::of(0..AUTHORS),
        prop::option::of((0..AUTHORS, verdict())),
        (1..4u32, prop::sample::select(vec![0.25f32, 1.0, 1.5])),
        (any::<bool>(), verdict(), verdict()),
        prop::option::of(prop::sample::select(vec![10u64, 50])),
    )
        .prop_map(
            |(entries, weights, trust, votes, bans, revoked, override_, q, flags, min_trust)| {
                World {
                    entries,
                    weights,
                    trust,
                    votes,
                    bans,
                    revoked,
                    override_,
                    min_lists: q.0,
                    min_weight: q.1,
                    protect_trusted: flags.0,
                    unknown_author: flags.1,
                    below_quorum: flags.2,
                    min_trust,
                }
            },
        )
}

fn apply(state: &mut ModerationState, tag: &[u8], author: PublicKey, at: u64, body: Body) {
    state.apply_object(ObjectId::of_bytes(tag), &Object { author, at, body });
}

fn state_of(w: &World) -> ModerationState {
    let mut s = ModerationState::new();
    let purposes = [
        ListPurpose::Block,
        ListPurpose::Block,
        ListPurpose::Block,
        ListPurpose::Allow,
        ListPurpose::Label,
    ];
    for (l, purpose) in purposes.iter().enumerate() {
        let r = list_ref(l);
        let body = Body::List(ListBody {
            name: r.name.clone(),
            purpose: *purpose,
            description: None,
            group: None,
            seq: 1,
        });
        apply(&mut s, &[b'l', l as u8], r.owner, NOW - 100 * MIN, body);
    }
    for (n, &(l, subject, kind)) in w.entries.iter().enumerate() {
        let r = list_ref(l);
        let subject = if subject < AUTHORS {
            Subject::Key(author(subject))
        } else {
            Subject::Object(post_id(subject - AUTHORS, 0))
        };
        let expires = match kind {
            1 => Some(NOW + (1 + n as u64 % 5) * MIN),
            2 => Some(NOW - MIN),
            _ => None,
        };
        let tag = [b'e', n as u8];
        let body = Body::ListAdd(ListAddBody {
            list: r.clone(),
            subject,
            reason: (kind == 4).then(|| "spam".to_string()),
            category: Some("spam".into()),
            expires,
        });
        apply(&mut s, &tag, r.owner, NOW - 50 * MIN + n as u64, body);
        if kind == 3 {
            let body = Body::ListRemove(ListRemoveBody {
                list: r.clone(),
                adds: vec![ObjectId::of_bytes(&tag)],
            });
            apply(&mut s, &[b'r', n as u8], r.owner, NOW - 40 * MIN, body);
        }
    }
    let g = group();
    let body = Body::Group(GroupBody {
        name: g.name.clone(),
        rules: None,
        policy: GroupPolicy {
            min_trust: w.min_trust,
            ..Default::default()
        },
        moderators: vec![],
        seq: 1,
    });
    apply(&mut s, b"g", g.owner, NOW - 100 * MIN, body);
    let bans = ListRef {
        owner: g.owner,
        name: "g-bans".into(),
    };
    let body = Body::List(ListBody {
        name: bans.name.clone(),
        purpose: ListPurpose::Ban,
        description: None,
        group: Some(g.clone()),
        seq: 1,
    });
    apply(&mut s, b"gb", g.owner, NOW - 100 * MIN, body);
    for (n, a) in w.bans.iter().enumerate() {
        let body = Body::ListAdd(ListAddBody {
            list: bans.clone(),
            subject: Subject::Key(author(*a)),
            reason: None,
            category: None,
            expires: None,
        });
        apply(&mut s, &[b'b', n as u8], g.owner, NOW - 30 * MIN, body);
    }
    for (n, &(voter, target, up)) in w.votes.iter().enumerate() {
        let target = if target < 4 {
            Subject::Object(post_id(target, 0))
        } else {
            Subject::Key(author(target))
        };
        let at = NOW - 20 * MIN + n as u64;
        let body = Body::Vote(VoteBody {
            target,
            value: if up { 1 } else { -1 },
            epoch: epoch_of(at),
            group: None,
        });
        apply(&mut s, &[b'v', n as u8], author(voter), at, body);
    }
    if let Some(a) = w.revoked {
        let body = Body::Revoke(RevokeBody {
            since: NOW - 5 * MIN,
            reason: None,
        });
        apply(&mut s, b"x", author(a), NOW - 5 * MIN, body);
    }
    s
}

fn policy_of(w: &World) -> Policy {
    let mut p = (0..LISTS).fold(Policy::new(keys()[0]), |p, l| {
        p.subscribe(list_ref(l), w.weights[l])
    });
    p.quorum = Quorum {
        min_lists: w.min_lists,
        min_weight: w.min_weight,
    };
    p.protect_trusted = w.protect_trusted;
    p.unknown_author = w.unknown_author;
    p.below_quorum = w.below_quorum;
    p.label_verdicts.insert("spam".into(), Verdict::Collapse);
    p.votes.collapse_at = 0.5;
    if let Some((a, v)) = w.override_ {
        p.overrides.push(Override {
            subject: Subject::Key(author(a)),
            verdict: v,
        });
    }
    p
}

fn trust_of(w: &World) -> DirectTrust {
    let mut t = DirectTrust::new(keys()[0]);
    for (a, level) in w.trust.iter().enumerate() {
        if let Some(level) = level {
            t.insert(author(a), *level, ObjectId::of_bytes(&[b't', a as u8]));
        }
    }
    t
}

fn items() -> Vec<Item> {
    let other = GroupRef {
        owner: keys()[6],
        name: "elsewhere".into(),
    };
    let mut items = Vec::new();
    for a in 0..AUTHORS {
        let post = |n: u8, at: u64, group: Option<GroupRef>| {
            Item::Post(PostItem {
                id: post_id(a, n),
                author: author(a),
                at,
                group,
            })
        };
        items.push(post(0, NOW - 10 * MIN, None));
        items.push(post(1, NOW - 2 * MIN, None));
        items.push(post(2, NOW - 10 * MIN, Some(group())));
        items.push(post(3, NOW - 10 * MIN, Some(other.clone())));
        items.push(Item::author(author(a)));
    }
    items
}

impl View<'_> {
    fn without_templates(mut self) -> Self {
        for rec in self.records.values_mut() {
            rec.template = None;
        }
        self
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn templates_decide_as_the_rules_do(w in world()) {
        let state = state_of(&w);
        let policy = policy_of(&w);
        let trust = trust_of(&w);
        let view = View::build_with_seed(&state, &policy, &trust, &NoCredentials, NOW, 7);
        let plain = View::build(&state, &policy, &trust, &NoCredentials, NOW).without_templates();
        let items = items();
        for now in [NOW, NOW + 3 * MIN, NOW + 30 * MIN] {
            let one_by_one: Vec<Decision> = items.iter().map(|i| plain.decide(i, now)).collect();
            for (item, d) in items.iter().zip(&one_by_one) {
                prop_assert_eq!(&view.decide(item, now), d, "{:?} at {}", item, now);
            }
            prop_assert_eq!(decide_batch(&view, &items, now), one_by_one);
        }
    }
}

#[test]
fn the_bench_like_world_uses_templates() {
    // Guards the property test: a world with plain block entries compiles templates, and
    // posts by those authors are answered from them.
    let w = World {
        entries: (0..AUTHORS).map(|a| (a % 3, a, 0)).collect(),
        weights: [1.0; LISTS],
        trust: vec![Some(30); AUTHORS],
        votes: vec![],
        bans: vec![],
        revoked: None,
        override_: None,
        min_lists: 1,
        min_weight: 1.0,
        protect_trusted: false,
        unknown_author: Verdict::Show,
        below_quorum: Verdict::Warn,
        min_trust: None,
    };
    let (state, policy, trust) = (state_of(&w), policy_of(&w), trust_of(&w));
    let view = View::build(&state, &policy, &trust, &NoCredentials, NOW);
    let compiled = view
        .records
        .values()
        .filter(|r| r.template.is_some())
        .count();
    assert_eq!(compiled, AUTHORS);
    let item = &items()[1];
    let mut out = Vec::new();
    assert!(matches!(
        view.evaluate(item, NOW, false, &mut out),
        Outcome::Template(t) if t.verdict == Verdict::Hide
    ));
    // Not for a post in a group with rules.
    assert!(matches!(
        view.evaluate(&items()[2], NOW, false, &mut out),
        Outcome::Decided(..)
    ));
}

#[test]
fn a_batch_with_many_reasons_per_item_matches_single_decisions() {
    // Every author on three lists with a quorum nobody reaches: each author item gives a
    // reason per list plus `list-below-quorum`, far more than the batch's first buffer.
    let w = World {
        entries: (0..AUTHORS)
            .flat_map(|a| (0..3).map(move |l| (l, a, 4)))
            .collect(),
        weights: [1.0; LISTS],
        trust: vec![None; AUTHORS],
        votes: vec![],
        bans: vec![],
        revoked: None,
        override_: None,
        min_lists: 4,
        min_weight: 1.0,
        protect_trusted: true,
        unknown_author: Verdict::Warn,
        below_quorum: Verdict::Warn,
        min_trust: None,
    };
    let (state, policy, trust) = (state_of(&w), policy_of(&w), trust_of(&w));
    let view = View::build(&state, &policy, &trust, &NoCredentials, NOW);
    let items: Vec<Item> = (0..300).map(|i| Item::author(author(i))).collect();
    let batch = decide_batch(&view, &items, NOW);
    assert_eq!(batch[0].reasons.len(), 5);
    for (item, d) in items.iter().zip(&batch) {
        assert_eq!(d, &view.decide(item, NOW));
    }
    // Pushing to one decision's shared reasons copies them; the others keep theirs.
    let mut first = batch[0].clone();
    first
        .reasons
        .push(Reason::new(ReasonCode::Label, Verdict::Show));
    assert_eq!(first.reasons.len(), 6);
    assert_eq!(batch[0].reasons.len(), 5);
    assert_eq!(batch[8].reasons.len(), 5);
}
