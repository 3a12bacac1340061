//! Tests of the mapping: replaceable semantics, follows and mutes as trust, mutes and
//! reports as block-list entries, and a decision that cites the Nostr events.

use std::collections::BTreeMap;

use k256::schnorr::SigningKey;
use vouch_reputation::{
    CuratorSubscription, DirectTrust, EngineTrust, Item, ModerationState, NoCredentials, Policy,
    PostItem, Quorum, ReasonCode, TrustGraph, TrustParams, TrustView, Verdict, View,
};

use super::*;
use crate::nostr::event::sign_event;

const T: u64 = 1_767_225_600;

fn sk(n: u8) -> SigningKey {
    let mut b = [0x11; 32];
    b[31] = n;
    SigningKey::from_bytes(&b).unwrap()
}

fn pk(n: u8) -> NostrKey {
    NostrKey(sk(n).verifying_key().to_bytes().into())
}

fn ev(n: u8, kind: u32, tags: Vec<Vec<&str>>, at: u64) -> Event {
    let tags = tags
        .into_iter()
        .map(|t| t.into_iter().map(String::from).collect())
        .collect();
    sign_event(&sk(n), at, kind, tags, String::new(), &[0; 32]).unwrap()
}

fn p_tags(keys: &[u8]) -> Vec<Vec<String>> {
    keys.iter()
        .map(|&k| vec!["p".to_string(), pk(k).to_hex()])
        .collect()
}

fn list_ev(n: u8, kind: u32, keys: &[u8], at: u64) -> Event {
    sign_event(&sk(n), at, kind, p_tags(keys), String::new(), &[0; 32]).unwrap()
}

/// The trust-graph level of every (author, subject) after the facts, latest record first.
fn levels(facts: &[Fact]) -> BTreeMap<([u8; 32], [u8; 32]), i8> {
    let mut latest: BTreeMap<([u8; 32], [u8; 32]), (u64, i8)> = BTreeMap::new();
    for f in facts {
        if let Fact::Attest(a) = f {
            let e = latest.entry((a.author, a.subject)).or_insert((0, 0));
            if a.at_ms >= e.0 {
                *e = (a.at_ms, a.level);
            }
        }
    }
    latest
        .into_iter()
        .filter(|(_, (_, l))| *l != 0)
        .map(|(k, (_, l))| (k, l))
        .collect()
}

fn level(facts: &[Fact], a: u8, b: u8) -> i8 {
    *levels(facts)
        .get(&(*pk(a).subject().as_bytes(), *pk(b).subject().as_bytes()))
        .unwrap_or(&0)
}

#[test]
fn follows_replace_and_rollbacks_are_ignored() {
    let mut s = NostrState::new();
    let mut out = Vec::new();
    assert_eq!(
        s.apply(&list_ev(1, 3, &[2, 3], T), &mut out),
        Outcome::Applied
    );
    assert_eq!(level(&out, 1, 2), FOLLOW_LEVEL);
    assert_eq!(level(&out, 1, 3), FOLLOW_LEVEL);
    // A newer list drops 3 and adds 4.
    assert_eq!(
        s.apply(&list_ev(1, 3, &[2, 4], T + 10), &mut out),
        Outcome::Applied
    );
    assert_eq!(level(&out, 1, 3), 0);
    assert_eq!(level(&out, 1, 4), FOLLOW_LEVEL);
    // The older version again (a relay replaying it, or an attacker holding it): nothing.
    let n = out.len();
    let old = list_ev(1, 3, &[2, 3], T);
    assert_eq!(s.apply(&old, &mut out), Outcome::Rollback);
    let older = list_ev(1, 3, &[3, 5], T - 100);
    assert_eq!(s.apply(&older, &mut out), Outcome::Rollback);
    assert_eq!(out.len(), n);
    assert_eq!(
        s.apply(&list_ev(1, 3, &[2, 4], T + 10), &mut out),
        Outcome::Duplicate
    );
    assert_eq!(s.follows_of(&pk(1)).unwrap().len(), 2);
    assert_eq!(
        s.current(&pk(1), 3, ""),
        Some((T + 10, list_ev(1, 3, &[2, 4], T + 10).id))
    );
}

#[test]
fn same_second_keeps_the_lowest_id() {
    let a = list_ev(1, 3, &[2], T);
    let b = list_ev(1, 3, &[3], T);
    let (low, high) = if a.id < b.id { (a, b) } else { (b, a) };
    for order in [[&low, &high], [&high, &low]] {
        let mut s = NostrState::new();
        let mut out = Vec::new();
        for e in order {
            s.apply(e, &mut out);
        }
        assert_eq!(s.current(&pk(1), 3, "").unwrap().1, low.id);
    }
}

#[test]
fn final_levels_do_not_depend_on_arrival_order() {
    let events = [
        list_ev(1, 3, &[2, 3, 4], T),
        list_ev(1, 3, &[2, 4], T + 5),
        list_ev(1, 10_000, &[4], T + 1),
        list_ev(1, 10_000, &[3], T + 7),
        list_ev(2, 3, &[1, 3], T + 2),
        list_ev(2, 10_000, &[1], T + 3),
        list_ev(2, 10_000, &[], T + 9),
    ];
    let mut reference = None;
    // Every rotation and its reverse.
    for r in 0..events.len() {
        for rev in [false, true] {
            let mut order: Vec<&Event> = events.iter().cycle().skip(r).take(events.len()).collect();
            if rev {
                order.reverse();
            }
            let mut s = NostrState::new();
            let mut out = Vec::new();
            for e in order {
                s.apply(e, &mut out);
            }
            let l = levels(&out);
            match &reference {
                None => reference = Some(l),
                Some(want) => assert_eq!(&l, want),
            }
        }
    }
    // The latest lists: 1 follows 2 and 4 and mutes 3; 2 follows 1 and 3, mutes nobody.
    let want = reference.unwrap();
    let key = |a: u8, b: u8| (*pk(a).subject().as_bytes(), *pk(b).subject().as_bytes());
    assert_eq!(want.get(&key(1, 2)), Some(&FOLLOW_LEVEL));
    assert_eq!(want.get(&key(1, 4)), Some(&FOLLOW_LEVEL));
    assert_eq!(want.get(&key(1, 3)), Some(&MUTE_LEVEL));
    assert_eq!(want.get(&key(2, 1)), Some(&FOLLOW_LEVEL));
    assert_eq!(want.get(&key(2, 3)), Some(&FOLLOW_LEVEL));
    assert_eq!(want.len(), 5);
}

fn block_entries(facts: &[Fact]) -> Vec<(PublicKey, Subject, String)> {
    let mut adds = Vec::new();
    let mut removed = BTreeSet::new();
    for f in facts {
        if let Fact::Object(id, o) = f {
            match &o.body {
                Body::ListAdd(a) if a.list.name == BLOCK_LIST => adds.push((
                    *id,
                    o.author,
                    a.subject,
                    a.category.clone().unwrap_or_default(),
                )),
                Body::ListRemove(r) => removed.extend(r.adds.iter().copied()),
                _ => {}
            }
        }
    }
    adds.into_iter()
        .filter(|(id, ..)| !removed.contains(id))
        .map(|(_, a, s, c)| (a, s, c))
        .collect()
}

use vouch_identity::PublicKey;

#[test]
fn mutes_and_reports_fill_the_block_list_and_unmutes_retract() {
    let mut s = NostrState::new();
    let mut out = Vec::new();
    s.apply(&list_ev(1, 10_000, &[3, 4], T), &mut out);
    let report = ev(1, KIND_REPORT, vec![vec!["p", &pk(5).to_hex(), "spam"]], T);
    assert_eq!(s.apply(&report, &mut out), Outcome::Applied);
    assert_eq!(s.apply(&report, &mut out), Outcome::Duplicate);
    let owner = pk(1).subject();
    let got = block_entries(&out);
    assert_eq!(got.len(), 3);
    assert!(got.contains(&(owner, Subject::Key(pk(3).subject()), "mute".into())));
    assert!(got.contains(&(owner, Subject::Key(pk(5).subject()), "report-spam".into())));
    assert_eq!(level(&out, 1, 3), MUTE_LEVEL);
    // Unmute 3: its entry is retracted and its level goes back to 0.
    s.apply(&list_ev(1, 10_000, &[4], T + 1), &mut out);
    let got = block_entries(&out);
    assert_eq!(got.len(), 2);
    assert!(!got
        .iter()
        .any(|(_, s, _)| *s == Subject::Key(pk(3).subject())));
    assert_eq!(level(&out, 1, 3), 0);
    // Every entry names the Nostr event that made it.
    for f in &out {
        if let Fact::Object(id, o) = f {
            if matches!(o.body, Body::ListAdd(_)) {
                assert!(s.origin(id).is_some());
            }
        }
    }
    // One list header per owner.
    let headers = out
        .iter()
        .filter(|f| matches!(f, Fact::Object(_, o) if matches!(o.body, Body::List(_))))
        .count();
    assert_eq!(headers, 1);
}

#[test]
fn labels_and_people_lists() {
    let mut s = NostrState::new();
    let mut out = Vec::new();
    let note = [9u8; 32];
    let label = ev(
        1,
        KIND_LABEL,
        vec![
            vec!["L", "ugc"],
            vec!["l", "Spam!", "ugc"],
            vec!["e", &hex::encode(note)],
        ],
        T,
    );
    s.apply(&label, &mut out);
    let labels: Vec<&LabelBody> = out
        .iter()
        .filter_map(|f| match f {
            Fact::Object(_, o) => match &o.body {
                Body::Label(l) => Some(l),
                _ => None,
            },
            _ => None,
        })
        .collect();
    assert_eq!(labels.len(), 1);
    assert_eq!(labels[0].value, "spam");
    assert_eq!(labels[0].subject, Subject::Object(ObjectId(note)));
    let mut people = list_ev(1, KIND_PEOPLE, &[2, 3], T);
    people.tags.push(vec!["d".into(), "Friends".into()]);
    let people = sign_event(&sk(1), T, KIND_PEOPLE, people.tags, String::new(), &[0; 32]).unwrap();
    assert_eq!(s.apply(&people, &mut out), Outcome::Applied);
    let names: BTreeSet<&str> = out
        .iter()
        .filter_map(|f| match f {
            Fact::Object(_, o) => match &o.body {
                Body::ListAdd(a) => Some(a.list.name.as_str()),
                _ => None,
            },
            _ => None,
        })
        .collect();
    assert!(names.contains("nostr-set-friends"));
    assert_eq!(
        s.apply(&list_ev(1, 1, &[], T), &mut out),
        Outcome::Unsupported
    );
}

/// Feeds facts to a trust graph and a moderation state, as the engine does.
fn engine(facts: &[Fact]) -> (TrustGraph, ModerationState) {
    let mut g = TrustGraph::new(None);
    let mut st = ModerationState::default();
    for f in facts {
        match f {
            Fact::Attest(a) => {
                g.add_attestation(a).unwrap();
            }
            Fact::Object(id, o) => {
                st.apply_object(*id, o);
            }
        }
    }
    (g, st)
}

#[test]
fn muted_by_people_you_follow_is_hidden_and_a_sybil_swarm_is_not() {
    // Viewer 1 follows 2, 3 and 4; 2 and 3 mute 9; 4 follows 9. Fifty fresh keys mute 4.
    let mut events = vec![
        list_ev(1, 3, &[2, 3, 4], T),
        list_ev(2, 10_000, &[9], T),
        list_ev(3, 10_000, &[9], T),
        list_ev(4, 3, &[9], T),
    ];
    for n in 100..150 {
        events.push(list_ev(n, 10_000, &[4], T));
    }
    let mut s = NostrState::new();
    let mut facts = Vec::new();
    // Half the events before the viewer is registered, half after: the same state.
    for e in &events[..2] {
        s.apply(e, &mut facts);
    }
    s.add_viewer(pk(1), &mut facts);
    for e in &events[2..] {
        s.apply(e, &mut facts);
    }
    let (g, st) = engine(&facts);
    let viewer = pk(1).subject();
    let mut policy = Policy::new(viewer);
    policy.curators.push(CuratorSubscription {
        curator: viewer,
        weight: 1.0,
        depth: 2,
        decay: 1.0,
    });
    policy.quorum = Quorum {
        min_lists: 2,
        min_weight: 2.0,
    };
    let now = (T + 60) * 1000;
    let tv = TrustView::compute(&g, viewer.as_bytes(), &[], TrustParams::default());
    let direct = DirectTrust::from_state(&st, &viewer, now);
    let trust = EngineTrust::new(&g, &tv, &direct);
    let view = View::build(&st, &policy, &trust, &NoCredentials, now);
    let post = |author: u8| {
        Item::Post(PostItem {
            id: ObjectId([author; 32]),
            author: pk(author).subject(),
            at: now,
            group: None,
        })
    };
    let d = view.explain(&post(9), now);
    assert_eq!(d.verdict, Verdict::Hide, "{:?}", d.sentences());
    // One reason per block list; their entries cite the two mute lists.
    let cited: BTreeSet<[u8; 32]> = d
        .reasons
        .iter()
        .filter(|r| r.code == ReasonCode::ListBlock)
        .flat_map(|r| r.objects.iter())
        .filter_map(|id| s.origin(id))
        .collect();
    assert_eq!(
        cited,
        BTreeSet::from([events[1].id, events[2].id]),
        "{:?}",
        d.sentences()
    );
    // 4 is muted by fifty keys nobody the viewer follows follows: shown, and trusted.
    let d4 = view.decide(&post(4), now);
    assert_eq!(d4.verdict, Verdict::Show, "{:?}", d4.sentences());
    // A stranger nobody follows: the policy's unknown-author verdict (show by default).
    let d7 = view.explain(&post(77), now);
    assert!(d7
        .reasons
        .iter()
        .any(|r| r.code == ReasonCode::AuthorUnknown));
    // Muted by one follow only: below the quorum of two.
    let mut s2 = NostrState::new();
    let mut f2 = Vec::new();
    s2.add_viewer(pk(1), &mut f2);
    for e in &events[..2] {
        s2.apply(e, &mut f2);
    }
    s2.apply(&events[3], &mut f2);
    let (g2, st2) = engine(&f2);
    let tv2 = TrustView::compute(&g2, viewer.as_bytes(), &[], TrustParams::default());
    let direct2 = DirectTrust::from_state(&st2, &viewer, now);
    let trust2 = EngineTrust::new(&g2, &tv2, &direct2);
    let view2 = View::build(&st2, &policy, &trust2, &NoCredentials, now);
    assert_ne!(view2.decide(&post(9), now).verdict, Verdict::Hide);
}
