//! Order independence: any subset of a mixed set of moderation objects (list headers with an
//! equivocation, adds, removes, orphan removes, re-adds, bans by moderators and others, a
//! moderator's removal, appeals and answers, labels and negations, votes over budget, a
//! revocation), applied in any order and with duplicates, gives the same state and the same
//! decisions as applying it in one canonical order.
#![allow(clippy::unwrap_used)]

#[path = "support/objects.rs"]
mod support;

use proptest::prelude::*;
use std::sync::OnceLock;
use support::{key, sign, NOW};
use vouch_identity::SecretKey;
use vouch_reputation::*;

const MIN: u64 = 60_000;

struct World {
    objects: Vec<SignedObject>,
    list: ListRef,
    ban_list: ListRef,
    group: GroupRef,
    policy: Policy,
    items: Vec<Item>,
}

fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(build_world)
}

fn build_world() -> World {
    let viewer = key(150);
    let curator = key(151);
    let owner = key(152);
    let modr = key(153);
    let rogue = key(154);
    let labeler = key(155);
    let people: Vec<SecretKey> = (160..166).map(key).collect();
    let list = ListRef {
        owner: curator.public_key(),
        name: "spam".into(),
    };
    let group = GroupRef {
        owner: owner.public_key(),
        name: "g".into(),
    };
    let ban_list = ListRef {
        owner: owner.public_key(),
        name: "g-bans".into(),
    };
    let mut o = Vec::new();
    let lh = |seq: u64, desc: &str| {
        sign(
            &curator,
            NOW - 500 * MIN + seq,
            Body::List(ListBody {
                name: "spam".into(),
                purpose: ListPurpose::Block,
                description: Some(desc.into()),
                group: None,
                seq,
            }),
        )
    };
    o.push(lh(1, "v1"));
    o.push(lh(2, "v2"));
    o.push(lh(2, "v2 again")); // equivocation
    let add = |by: &SecretKey, l: &ListRef, who: &SecretKey, at: u64, expires: Option<u64>| {
        sign(
            by,
            at,
            Body::ListAdd(ListAddBody {
                list: l.clone(),
                subject: Subject::Key(who.public_key()),
                reason: Some("r".into()),
                category: None,
                expires,
            }),
        )
    };
    let rem = |by: &SecretKey, l: &ListRef, adds: Vec<ObjectId>, at: u64| {
        sign(
            by,
            at,
            Body::ListRemove(ListRemoveBody {
                list: l.clone(),
                adds,
            }),
        )
    };
    let a0 = add(&curator, &list, &people[0], NOW - 400 * MIN, None);
    let a1 = add(
        &curator,
        &list,
        &people[1],
        NOW - 400 * MIN,
        Some(NOW - 300 * MIN),
    );
    let a2 = add(&curator, &list, &people[2], NOW - 400 * MIN, None);
    let r0 = rem(&curator, &list, vec![a0.id()], NOW - 350 * MIN);
    let readd = add(&curator, &list, &people[0], NOW - 340 * MIN, None);
    let orphan = rem(&curator, &list, vec![ObjectId([9; 32])], NOW - 330 * MIN);
    let forged = add(&rogue, &list, &people[3], NOW - 330 * MIN, None);
    o.extend([a0, a1, a2.clone(), r0, readd, orphan, forged]);
    // Group: moderator named then removed; bans by the moderator, the owner and a rogue.
    let gh = |seq: u64, mods: Vec<vouch_identity::PublicKey>| {
        sign(
            &owner,
            NOW - 480 * MIN + seq,
            Body::Group(GroupBody {
                name: "g".into(),
                rules: None,
                policy: GroupPolicy {
                    vote_budget: Some(2),
                    ..Default::default()
                },
                moderators: mods,
                seq,
            }),
        )
    };
    o.push(gh(1, vec![modr.public_key()]));
    o.push(gh(2, vec![modr.public_key(), rogue.public_key()]));
    o.push(gh(3, vec![rogue.public_key()]));
    o.push(sign(
        &owner,
        NOW - 470 * MIN,
        Body::List(ListBody {
            name: "g-bans".into(),
            purpose: ListPurpose::Ban,
            description: None,
            group: Some(group.clone()),
            seq: 1,
        }),
    ));
    let b_mod = add(&modr, &ban_list, &people[3], NOW - 200 * MIN, None);
    let b_rogue = add(&rogue, &ban_list, &people[4], NOW - 200 * MIN, None);
    let b_owner = add(&owner, &ban_list, &people[5], NOW - 200 * MIN, None);
    let b_owner2 = add(&owner, &ban_list, &people[2], NOW - 200 * MIN, None);
    let unban = rem(&rogue, &ban_list, vec![b_owner2.id()], NOW - 150 * MIN);
    let appeal = sign(
        &people[5],
        NOW - 190 * MIN,
        Body::Appeal(AppealBody {
            target: b_owner.id(),
            text: None,
            outcome: None,
        }),
    );
    let answer = |by: &SecretKey, outcome, at| {
        sign(
            by,
            at,
            Body::Appeal(AppealBody {
                target: appeal.id(),
                text: None,
                outcome: Some(outcome),
            }),
        )
    };
    o.push(answer(&rogue, AppealOutcome::Upheld, NOW - 180 * MIN));
    o.push(answer(&owner, AppealOutcome::Granted, NOW - 170 * MIN));
    o.extend([b_mod, b_rogue, b_owner, b_owner2, unban, appeal]);
    // Labels, with a later negation.
    let lab = |neg: bool, at: u64, who: &SecretKey| {
        sign(
            &labeler,
            at,
            Body::Label(LabelBody {
                subject: Subject::Key(who.public_key()),
                value: "spam".into(),
                neg,
                reason: None,
                expires: None,
            }),
        )
    };
    o.push(lab(false, NOW - 100 * MIN, &people[1]));
    o.push(lab(true, NOW - 90 * MIN, &people[1]));
    o.push(lab(false, NOW - 100 * MIN, &people[4]));
    // Trust, votes (over the group's budget of 2), a report and a revocation.
    for p in &people[..3] {
        o.push(sign(
            &viewer,
            NOW - 600 * MIN,
            Body::Attest(AttestBody::new(p.public_key(), 70)),
        ));
    }
    for (i, p) in people.iter().enumerate() {
        for t in 0..3u64 {
            o.push(sign(
                &people[(i + 1) % people.len()],
                NOW - 50 * MIN + t * 1000 + i as u64,
                Body::Vote(VoteBody {
                    target: Subject::Key(p.public_key()),
                    value: -1,
                    epoch: epoch_of(NOW - 50 * MIN + t * 1000 + i as u64),
                    group: Some(group.clone()),
                }),
            ));
        }
    }
    o.push(sign(
        &people[0],
        NOW - 20 * MIN,
        Body::Report(ReportBody {
            subject: Subject::Key(people[4].public_key()),
            group: group.clone(),
            category: "spam".into(),
            text: None,
        }),
    ));
    o.push(sign(
        &people[2],
        NOW - 10 * MIN,
        Body::Revoke(RevokeBody {
            since: NOW - 30 * MIN,
            reason: None,
        }),
    ));
    let mut policy = Policy::new(viewer.public_key()).subscribe(list.clone(), 1.0);
    policy.labelers.push(labeler.public_key());
    policy
        .label_verdicts
        .insert("spam".into(), Verdict::Collapse);
    policy.votes.collapse_at = 0.5;
    let mut items = Vec::new();
    for p in &people {
        items.push(Item::author(p.public_key()));
        items.push(Item::Author {
            author: p.public_key(),
            group: Some(group.clone()),
        });
    }
    World {
        objects: o,
        list,
        ban_list,
        group,
        policy,
        items,
    }
}

/// Everything observable about a state, for one viewer.
fn observe(state: &ModerationState) -> String {
    let w = world();
    let trust = DirectTrust::from_state(state, &w.policy.viewer, NOW);
    let view = View::build(state, &w.policy, &trust, &NoCredentials, NOW);
    let decisions: Vec<Decision> = w.items.iter().map(|i| explain(&view, i, NOW)).collect();
    // `decide` (which may answer from a record's summary) agrees with `explain`, and every
    // reason it gives is one `explain` gives.
    for (item, e) in w.items.iter().zip(&decisions) {
        let d = decide(&view, item, NOW);
        assert_eq!(d.verdict, e.verdict, "{item:?}");
        for r in &d.reasons {
            assert!(
                e.reasons.contains(r),
                "{:?} not in explain for {item:?}",
                r.code
            );
        }
    }
    format!(
        "{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
        state.live_entries(&w.list, NOW),
        state.list_header(&w.list).map(|(id, _)| id),
        state.list_equivocations(&w.list),
        state.list(&w.list).map(|l| l.orphan_retractions()),
        state.live_entries(&w.ban_list, NOW),
        state.banned_subjects(&w.group, NOW),
        state.appeals_queue(&w.group),
        state.reports_queue(&w.group, NOW),
        state.group_header(&w.group).map(|(id, _)| id),
        decisions,
    )
}

fn apply_all<'a>(objs: impl IntoIterator<Item = &'a SignedObject>) -> ModerationState {
    let mut s = ModerationState::new();
    for o in objs {
        s.apply(o);
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn arrival_order_does_not_matter(
        subset in Just(()).prop_flat_map(|_| {
            let n = world().objects.len();
            proptest::sample::subsequence((0..n).collect::<Vec<_>>(), 0..=n)
        }),
        order_seed in any::<u64>(),
        dup in any::<bool>(),
    ) {
        let w = world();
        let canonical = apply_all(subset.iter().map(|i| &w.objects[*i]));
        // A deterministic shuffle from the seed (Fisher-Yates with an LCG).
        let mut order = subset.clone();
        let mut x = order_seed | 1;
        for i in (1..order.len()).rev() {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            order.swap(i, (x >> 33) as usize % (i + 1));
        }
        if dup {
            let again: Vec<usize> = order.iter().step_by(3).copied().collect();
            order.extend(again);
        }
        let shuffled = apply_all(order.iter().map(|i| &w.objects[*i]));
        prop_assert_eq!(observe(&canonical), observe(&shuffled));
    }
}

#[test]
fn the_full_world_has_the_expected_state() {
    // Guards the property test against a world where nothing interesting happens.
    let w = world();
    let s = apply_all(&w.objects);
    assert_eq!(s.list_equivocations(&w.list).len(), 1);
    assert_eq!(s.list(&w.list).unwrap().orphan_retractions().len(), 1);
    // Live: the re-add of person 0 and person 2 (person 1 expired, 3 forged).
    assert_eq!(s.live_entries(&w.list, NOW).len(), 2);
    // Bans: the removed moderator's ban does not count, the rogue (now a moderator) does;
    // the owner's ban on 5 was lifted by appeal, the one on 2 retracted by the rogue.
    let banned = s.banned_subjects(&w.group, NOW);
    assert_eq!(banned.len(), 1);
    let q = s.appeals_queue(&w.group);
    assert_eq!(q.len(), 1);
    assert_eq!(q[0].state, AppealState::Granted);
    let trust = DirectTrust::from_state(&s, &w.policy.viewer, NOW);
    let view = View::build(&s, &w.policy, &trust, &NoCredentials, NOW);
    let verdicts: Vec<Verdict> = w
        .items
        .iter()
        .map(|i| decide(&view, i, NOW).verdict)
        .collect();
    assert!(verdicts.contains(&Verdict::Hide));
    assert!(verdicts.contains(&Verdict::Collapse));
    assert!(verdicts.contains(&Verdict::Warn));
}
