//! Moderation decisions, rule by rule: shared lists (quorum, weights, curators, overrides,
//! protection of trusted people, equivocation, expiry, retraction), groups (bans, moderators,
//! appeals, rules, reports), labels, revoked keys, reasons and list change diffs.
#![allow(clippy::unwrap_used)]

#[path = "support/objects.rs"]
mod support;

use std::collections::BTreeMap;
use support::{attest, key, sign, NOW};
use vouch_identity::{PublicKey, SecretKey};
use vouch_reputation::*;

const MIN: u64 = 60_000;

fn list_ref(owner: &SecretKey, name: &str) -> ListRef {
    ListRef {
        owner: owner.public_key(),
        name: name.into(),
    }
}

fn header(owner: &SecretKey, name: &str, purpose: ListPurpose, seq: u64) -> SignedObject {
    sign(
        owner,
        NOW - 100 * MIN + seq,
        Body::List(ListBody {
            name: name.into(),
            purpose,
            description: None,
            group: None,
            seq,
        }),
    )
}

fn add(by: &SecretKey, list: &ListRef, subject: Subject, at: u64) -> SignedObject {
    add_full(by, list, subject, at, Some("spam links".into()), None, None)
}

fn add_full(
    by: &SecretKey,
    list: &ListRef,
    subject: Subject,
    at: u64,
    reason: Option<String>,
    category: Option<String>,
    expires: Option<u64>,
) -> SignedObject {
    sign(
        by,
        at,
        Body::ListAdd(ListAddBody {
            list: list.clone(),
            subject,
            reason,
            category,
            expires,
        }),
    )
}

fn remove(by: &SecretKey, list: &ListRef, adds: Vec<ObjectId>, at: u64) -> SignedObject {
    sign(
        by,
        at,
        Body::ListRemove(ListRemoveBody {
            list: list.clone(),
            adds,
        }),
    )
}

fn post(by: &SecretKey, at: u64, group: Option<GroupRef>) -> Item {
    let o = sign(
        by,
        at,
        Body::Post(PostBody {
            group,
            text: format!("post at {at}"),
            ..Default::default()
        }),
    );
    Item::post(&o).unwrap()
}

fn state_of(objs: &[&SignedObject]) -> ModerationState {
    let mut s = ModerationState::new();
    for o in objs {
        s.apply(o);
    }
    s
}

fn decide_for(state: &ModerationState, policy: &Policy, item: &Item) -> Decision {
    let trust = DirectTrust::from_state(state, &policy.viewer, NOW);
    let view = View::build(state, policy, &trust, &NoCredentials, NOW);
    decide(&view, item, NOW)
}

/// The verdict on an author (no group).
fn author_verdict(state: &ModerationState, policy: &Policy, author: &SecretKey) -> Verdict {
    decide_for(state, policy, &Item::author(author.public_key())).verdict
}

fn explain_for(state: &ModerationState, policy: &Policy, item: &Item) -> Decision {
    let trust = DirectTrust::from_state(state, &policy.viewer, NOW);
    let view = View::build(state, policy, &trust, &NoCredentials, NOW);
    explain(&view, item, NOW)
}

fn codes(d: &Decision) -> Vec<&'static str> {
    d.reasons.iter().map(|r| r.code.as_str()).collect()
}

struct Cast {
    viewer: SecretKey,
    curator: SecretKey,
    spammer: SecretKey,
    friend: SecretKey,
    other: SecretKey,
}

fn cast() -> Cast {
    Cast {
        viewer: key(20),
        curator: key(21),
        spammer: key(22),
        friend: key(23),
        other: key(24),
    }
}

// ---- shared lists ---------------------------------------------------------------------------

/// The curator's block list "spam" with the spammer on it (added 50 minutes before `NOW`):
/// the list, its header and the entry.
fn spam_list(c: &Cast) -> (ListRef, SignedObject, SignedObject) {
    let l = list_ref(&c.curator, "spam");
    let h = header(&c.curator, "spam", ListPurpose::Block, 1);
    let a = add(
        &c.curator,
        &l,
        Subject::Key(c.spammer.public_key()),
        NOW - 50 * MIN,
    );
    (l, h, a)
}

/// The decision's reason with `code` (the test fails when there is none).
fn reason(d: &Decision, code: ReasonCode) -> &Reason {
    d.reasons
        .iter()
        .find(|r| r.code == code)
        .unwrap_or_else(|| panic!("no {code:?} reason in {:?}", d.reasons))
}

#[test]
fn block_list_hides_with_reason_curator_and_sentence() {
    let c = cast();
    let (l, h, a) = spam_list(&c);
    let s = state_of(&[&h, &a]);
    let policy = Policy::new(c.viewer.public_key()).subscribe(l.clone(), 1.0);
    let d = decide_for(&s, &policy, &post(&c.spammer, NOW - MIN, None));
    assert_eq!(d.verdict, Verdict::Hide);
    let r = reason(&d, ReasonCode::ListBlock);
    assert_eq!(r.effect, Verdict::Hide);
    assert_eq!(r.list.as_deref(), Some(&l));
    assert_eq!(r.list.as_ref().unwrap().owner, c.curator.public_key());
    assert_eq!(r.objects, vec![a.id(), h.id()]);
    assert_eq!(r.note.as_deref(), Some("spam links"));
    let sentence = r.sentence();
    assert!(
        sentence.contains("'spam'") && sentence.contains("spam links"),
        "{sentence}"
    );
    assert!(!sentence.contains('\n'));
    // The author too, and someone not listed is shown with no reasons.
    let d = decide_for(&s, &policy, &Item::author(c.spammer.public_key()));
    assert_eq!(d.verdict, Verdict::Hide);
    let d = decide_for(&s, &policy, &post(&c.other, NOW - MIN, None));
    assert_eq!(d.verdict, Verdict::Show);
    assert!(d.reasons.is_empty());
    // Without the subscription, nothing happens.
    let d = decide_for(
        &s,
        &Policy::new(c.viewer.public_key()),
        &post(&c.spammer, NOW - MIN, None),
    );
    assert_eq!(d.verdict, Verdict::Show);
}

#[test]
fn entries_on_posts_hide_the_post_only() {
    let c = cast();
    let l = list_ref(&c.curator, "bad-posts");
    let h = header(&c.curator, "bad-posts", ListPurpose::Block, 1);
    let p = post(&c.other, NOW - 2 * MIN, None);
    let Item::Post(pi) = &p else { panic!() };
    let a = add(&c.curator, &l, Subject::Object(pi.id), NOW - MIN);
    let s = state_of(&[&h, &a]);
    let policy = Policy::new(c.viewer.public_key()).subscribe(l, 1.0);
    assert_eq!(decide_for(&s, &policy, &p).verdict, Verdict::Hide);
    let other_post = post(&c.other, NOW - 3 * MIN, None);
    assert_eq!(decide_for(&s, &policy, &other_post).verdict, Verdict::Show);
}

#[test]
fn adds_by_someone_other_than_the_curator_do_not_count() {
    let c = cast();
    let l = list_ref(&c.curator, "spam");
    let h = header(&c.curator, "spam", ListPurpose::Block, 1);
    let forged = add(&c.other, &l, Subject::Key(c.friend.public_key()), NOW - MIN);
    let s = state_of(&[&h, &forged]);
    let policy = Policy::new(c.viewer.public_key()).subscribe(l.clone(), 1.0);
    assert_eq!(author_verdict(&s, &policy, &c.friend), Verdict::Show);
    assert!(s.live_entries(&l, NOW).is_empty());
}

#[test]
fn retraction_unhides_and_explain_says_so() {
    let c = cast();
    let (l, h, a) = spam_list(&c);
    let r = remove(&c.curator, &l, vec![a.id()], NOW - 40 * MIN);
    let s = state_of(&[&h, &a, &r]);
    let policy = Policy::new(c.viewer.public_key()).subscribe(l.clone(), 1.0);
    let item = Item::author(c.spammer.public_key());
    assert_eq!(decide_for(&s, &policy, &item).verdict, Verdict::Show);
    let e = explain_for(&s, &policy, &item);
    assert_eq!(e.verdict, Verdict::Show);
    assert!(e.has(ReasonCode::EntryRetracted), "{:?}", codes(&e));
    // Re-adding after a retraction (a new add) lists them again: observed-remove.
    let again = add(
        &c.curator,
        &l,
        Subject::Key(c.spammer.public_key()),
        NOW - 30 * MIN,
    );
    let s = state_of(&[&h, &a, &r, &again]);
    assert_eq!(decide_for(&s, &policy, &item).verdict, Verdict::Hide);
    // A retraction by someone other than the curator does nothing.
    let stranger = remove(&c.other, &l, vec![a.id()], NOW - 40 * MIN);
    let s = state_of(&[&h, &a, &stranger]);
    assert_eq!(decide_for(&s, &policy, &item).verdict, Verdict::Hide);
}

#[test]
fn hostile_entry_with_expiry_in_the_past_has_no_effect() {
    let c = cast();
    let l = list_ref(&c.curator, "spam");
    let h = header(&c.curator, "spam", ListPurpose::Block, 1);
    let at = NOW - 50 * MIN;
    let a = add_full(
        &c.curator,
        &l,
        Subject::Key(c.spammer.public_key()),
        at,
        None,
        None,
        Some(at + MIN),
    );
    let s = state_of(&[&h, &a]);
    let policy = Policy::new(c.viewer.public_key()).subscribe(l.clone(), 1.0);
    let item = Item::author(c.spammer.public_key());
    let d = decide_for(&s, &policy, &item);
    assert_eq!(d.verdict, Verdict::Show);
    assert!(d.reasons.is_empty());
    let e = explain_for(&s, &policy, &item);
    assert!(e.has(ReasonCode::EntryExpired), "{:?}", codes(&e));
    let list = s.list(&l).unwrap();
    let (id, entry) = list
        .adds_for(&Subject::Key(c.spammer.public_key()))
        .next()
        .unwrap();
    assert_eq!(id, a.id());
    assert_eq!(
        list.status(&id, entry, &|_: &PublicKey, _: u64| true, NOW),
        EntryStatus::Expired
    );
    // The same view, asked before the expiry, still hides.
    let trust = DirectTrust::new(c.viewer.public_key());
    let view = View::build(&s, &policy, &trust, &NoCredentials, NOW);
    assert_eq!(view.decide(&item, at + MIN / 2).verdict, Verdict::Hide);
}

#[test]
fn hostile_retraction_of_an_entry_that_does_not_exist() {
    let c = cast();
    let (l, h, a) = spam_list(&c);
    let ghost = ObjectId([0xab; 32]);
    let r = remove(&c.curator, &l, vec![ghost], NOW - 40 * MIN);
    let s = state_of(&[&h, &a, &r]);
    // No effect on real entries; the orphan is visible.
    assert_eq!(
        s.live_entries(&l, NOW).into_iter().collect::<Vec<_>>(),
        vec![a.id()]
    );
    assert_eq!(
        s.list(&l).unwrap().orphan_retractions(),
        vec![(r.id(), ghost)]
    );
    let policy = Policy::new(c.viewer.public_key()).subscribe(l.clone(), 1.0);
    assert_eq!(author_verdict(&s, &policy, &c.spammer), Verdict::Hide);
    // A retraction that arrives before its add: the add arrives retracted.
    let r2 = remove(&c.curator, &l, vec![a.id()], NOW - 30 * MIN);
    let s = state_of(&[&h, &r2, &a]);
    assert!(s.live_entries(&l, NOW).is_empty());
    assert!(s.list(&l).unwrap().orphan_retractions().is_empty());
}

fn three_lists(c: &Cast) -> (Vec<ListRef>, Vec<SignedObject>) {
    let curators = [key(31), key(32), key(33)];
    let mut objs = Vec::new();
    let mut refs = Vec::new();
    for (i, k) in curators.iter().enumerate() {
        let l = list_ref(k, "blocks");
        objs.push(header(k, "blocks", ListPurpose::Block, 1));
        // Every list lists the spammer; only list 0 lists `other`.
        objs.push(add(
            k,
            &l,
            Subject::Key(c.spammer.public_key()),
            NOW - 10 * MIN,
        ));
        if i == 0 {
            objs.push(add(
                k,
                &l,
                Subject::Key(c.other.public_key()),
                NOW - 10 * MIN,
            ));
        }
        refs.push(l);
    }
    (refs, objs)
}

#[test]
fn quorum_hides_only_when_k_of_n_lists_agree() {
    let c = cast();
    let (refs, objs) = three_lists(&c);
    let s = state_of(&objs.iter().collect::<Vec<_>>());
    let mut policy = Policy::new(c.viewer.public_key());
    for l in &refs {
        policy = policy.subscribe(l.clone(), 1.0);
    }
    policy.quorum = Quorum {
        min_lists: 2,
        min_weight: 0.0,
    };
    let d = decide_for(&s, &policy, &Item::author(c.spammer.public_key()));
    assert_eq!(d.verdict, Verdict::Hide);
    let blocks: Vec<&Reason> = d
        .reasons
        .iter()
        .filter(|r| r.code == ReasonCode::ListBlock)
        .collect();
    // `decide` names the two lists the quorum needs; each says that three agree.
    assert_eq!(blocks.len(), 2);
    assert!(blocks.iter().all(|r| r.count == 3));
    let e = explain_for(&s, &policy, &Item::author(c.spammer.public_key()));
    assert_eq!(
        e.reasons
            .iter()
            .filter(|r| r.code == ReasonCode::ListBlock)
            .count(),
        3
    );
    let d = decide_for(&s, &policy, &Item::author(c.other.public_key()));
    assert_eq!(
        d.verdict,
        Verdict::Warn,
        "one list of the two needed only warns"
    );
    let q = reason(&d, ReasonCode::ListBelowQuorum);
    assert_eq!(q.count, 1);
    policy.below_quorum = Verdict::Show;
    assert_eq!(author_verdict(&s, &policy, &c.other), Verdict::Show);
    // Weights: three lists of weight 0.3 do not reach 1.0; four would.
    let mut policy = Policy::new(c.viewer.public_key());
    for l in &refs {
        policy = policy.subscribe(l.clone(), 0.3);
    }
    assert_eq!(author_verdict(&s, &policy, &c.spammer), Verdict::Warn);
    policy.lists[0].weight = 0.5;
    assert_eq!(author_verdict(&s, &policy, &c.spammer), Verdict::Hide);
}

#[test]
fn the_viewers_own_block_list_hides_without_the_quorum() {
    let c = cast();
    // The viewer's own list and a curator's, each naming a different author.
    let own = list_ref(&c.viewer, "mine");
    let theirs = list_ref(&c.curator, "spam");
    let objs = [
        header(&c.viewer, "mine", ListPurpose::Block, 1),
        header(&c.curator, "spam", ListPurpose::Block, 1),
        add(
            &c.viewer,
            &own,
            Subject::Key(c.spammer.public_key()),
            NOW - MIN,
        ),
        add(
            &c.curator,
            &theirs,
            Subject::Key(c.other.public_key()),
            NOW - MIN,
        ),
    ];
    let s = state_of(&objs.iter().collect::<Vec<_>>());
    let mut policy = Policy::new(c.viewer.public_key())
        .subscribe(own.clone(), 1.0)
        .subscribe(theirs.clone(), 1.0);
    policy.quorum = Quorum {
        min_lists: 2,
        min_weight: 2.0,
    };
    // One list each: the viewer's own choice hides; someone else's alone only warns.
    let d = decide_for(&s, &policy, &Item::author(c.spammer.public_key()));
    assert_eq!(d.verdict, Verdict::Hide, "{:?}", codes(&d));
    assert_eq!(
        reason(&d, ReasonCode::ListBlock).list.as_deref(),
        Some(&own)
    );
    assert!(!d.has(ReasonCode::ListBelowQuorum));
    let d = decide_for(&s, &policy, &Item::author(c.other.public_key()));
    assert_eq!(d.verdict, Verdict::Warn, "{:?}", codes(&d));
    assert!(d.has(ReasonCode::ListBelowQuorum));
    // The same through a post (the precomputed template path) and `explain`.
    let p = post(&c.spammer, NOW - MIN, None);
    assert_eq!(decide_for(&s, &policy, &p).verdict, Verdict::Hide);
    assert_eq!(explain_for(&s, &policy, &p).verdict, Verdict::Hide);
    // An expired entry on the viewer's own list hides nothing.
    let gone = add_full(
        &c.viewer,
        &own,
        Subject::Key(c.friend.public_key()),
        NOW - 2 * MIN,
        None,
        None,
        Some(NOW - MIN),
    );
    let s = state_of(&[&objs[0], &objs[1], &objs[2], &objs[3], &gone]);
    assert_ne!(author_verdict(&s, &policy, &c.friend), Verdict::Hide);
}

#[test]
fn allow_list_outweighs_block_lists() {
    let c = cast();
    let (refs, mut objs) = three_lists(&c);
    let allow_owner = key(34);
    let al = list_ref(&allow_owner, "good");
    objs.push(header(&allow_owner, "good", ListPurpose::Allow, 1));
    objs.push(add(
        &allow_owner,
        &al,
        Subject::Key(c.other.public_key()),
        NOW - MIN,
    ));
    let s = state_of(&objs.iter().collect::<Vec<_>>());
    let policy = Policy::new(c.viewer.public_key())
        .subscribe(refs[0].clone(), 1.0)
        .subscribe(al, 1.0);
    let d = decide_for(&s, &policy, &Item::author(c.other.public_key()));
    assert_eq!(d.verdict, Verdict::Show);
    assert!(d.has(ReasonCode::ListAllow));
    assert!(d
        .reasons
        .iter()
        .filter(|r| r.code == ReasonCode::ListBlock)
        .all(|r| r.effect == Verdict::Show));
}

#[test]
fn viewer_overrides_single_entries_and_subjects() {
    let c = cast();
    let (refs, objs) = three_lists(&c);
    let s = state_of(&objs.iter().collect::<Vec<_>>());
    let mut policy = Policy::new(c.viewer.public_key()).subscribe(refs[0].clone(), 1.0);
    // Exempt one entry: `other` shows, the spammer is still hidden by the same list.
    policy.exemptions.push(Exemption {
        list: refs[0].clone(),
        subject: Subject::Key(c.other.public_key()),
    });
    let e = explain_for(&s, &policy, &Item::author(c.other.public_key()));
    assert_eq!(e.verdict, Verdict::Show);
    assert!(e.has(ReasonCode::EntryExempt));
    assert_eq!(author_verdict(&s, &policy, &c.spammer), Verdict::Hide);
    // Show override beats the list; hide override hides someone no list names.
    policy.overrides.push(Override {
        subject: Subject::Key(c.spammer.public_key()),
        verdict: Verdict::Show,
    });
    policy.overrides.push(Override {
        subject: Subject::Key(c.friend.public_key()),
        verdict: Verdict::Hide,
    });
    let d = decide_for(&s, &policy, &post(&c.spammer, NOW - MIN, None));
    assert_eq!(d.verdict, Verdict::Show);
    assert_eq!(codes(&d), vec!["viewer-override"]);
    let d = decide_for(&s, &policy, &post(&c.friend, NOW - MIN, None));
    assert_eq!(d.verdict, Verdict::Hide);
}

#[test]
fn people_the_viewer_trusts_directly_are_not_hidden_by_lists_unless_the_viewer_says_so() {
    let c = cast();
    let l = list_ref(&c.curator, "spam");
    let h = header(&c.curator, "spam", ListPurpose::Block, 1);
    let a = add(
        &c.curator,
        &l,
        Subject::Key(c.friend.public_key()),
        NOW - MIN,
    );
    let t = attest(&c.viewer, &c.friend, 80, NOW - 60 * MIN);
    let s = state_of(&[&h, &a, &t]);
    let mut policy = Policy::new(c.viewer.public_key()).subscribe(l, 1.0);
    let d = decide_for(&s, &policy, &post(&c.friend, NOW - MIN, None));
    assert_eq!(d.verdict, Verdict::Warn);
    let p = reason(&d, ReasonCode::TrustedProtected);
    assert_eq!(p.trust_path.len(), 1);
    assert_eq!(p.trust_path[0].attest, t.id());
    assert_eq!(p.trust_path[0].from, c.viewer.public_key());
    assert_eq!(p.objects, vec![t.id()]);
    // The quorum was reached: protection, not a missed quorum, is why it is only a warning.
    assert!(
        !d.reasons
            .iter()
            .any(|r| r.code == ReasonCode::ListBelowQuorum),
        "{:?}",
        d.reasons
    );
    assert!((d.score - 0.8).abs() < 1e-6);
    // The viewer says so: either switch protection off, or override.
    policy.protect_trusted = false;
    assert_eq!(
        decide_for(&s, &policy, &post(&c.friend, NOW - MIN, None)).verdict,
        Verdict::Hide
    );
    policy.protect_trusted = true;
    policy.overrides.push(Override {
        subject: Subject::Key(c.friend.public_key()),
        verdict: Verdict::Hide,
    });
    assert_eq!(
        decide_for(&s, &policy, &post(&c.friend, NOW - MIN, None)).verdict,
        Verdict::Hide
    );
}

#[test]
fn curators_are_followed_transitively_to_a_depth_with_decay() {
    let c = cast();
    let (c1, c2, c3) = (key(41), key(42), key(43));
    let l2 = list_ref(&c2, "c2-blocks");
    let l3 = list_ref(&c3, "c3-blocks");
    let objs = [
        attest(&c1, &c2, 100, NOW - 90 * MIN),
        attest(&c2, &c3, 100, NOW - 90 * MIN),
        header(&c2, "c2-blocks", ListPurpose::Block, 1),
        header(&c3, "c3-blocks", ListPurpose::Block, 1),
        add(&c2, &l2, Subject::Key(c.spammer.public_key()), NOW - MIN),
        add(&c3, &l3, Subject::Key(c.other.public_key()), NOW - MIN),
    ];
    let s = state_of(&objs.iter().collect::<Vec<_>>());
    let mut policy = Policy::new(c.viewer.public_key());
    policy.curators.push(CuratorSubscription {
        curator: c1.public_key(),
        weight: 1.0,
        depth: 2,
        decay: 0.5,
    });
    // c2 is one hop from c1: its list counts with weight 0.5 (below the 1.0 needed to hide).
    let d = decide_for(&s, &policy, &Item::author(c.spammer.public_key()));
    assert_eq!(d.verdict, Verdict::Warn);
    let r = reason(&d, ReasonCode::ListBlock);
    assert!((r.weight - 0.5).abs() < 1e-6);
    assert_eq!(r.actor, Some(c1.public_key()), "reached through c1");
    // c3 is two hops away: beyond depth 2.
    assert_eq!(author_verdict(&s, &policy, &c.other), Verdict::Show);
    policy.curators[0].depth = 3;
    policy.quorum.min_weight = 0.2;
    let d = decide_for(&s, &policy, &Item::author(c.other.public_key()));
    assert_eq!(d.verdict, Verdict::Hide);
    let r = reason(&d, ReasonCode::ListBlock);
    assert!((r.weight - 0.25).abs() < 1e-6);
    // Depth 1: only c1's own lists (it has none).
    policy.curators[0].depth = 1;
    assert_eq!(author_verdict(&s, &policy, &c.spammer), Verdict::Show);
}

#[test]
fn list_equivocation_is_detected_and_shown() {
    let c = cast();
    let l = list_ref(&c.curator, "spam");
    let h1 = header(&c.curator, "spam", ListPurpose::Block, 2);
    let h2 = sign(
        &c.curator,
        NOW - 99 * MIN,
        Body::List(ListBody {
            name: "spam".into(),
            purpose: ListPurpose::Block,
            description: Some("another version".into()),
            group: None,
            seq: 2,
        }),
    );
    let a = add(
        &c.curator,
        &l,
        Subject::Key(c.spammer.public_key()),
        NOW - MIN,
    );
    let s = state_of(&[&h1, &h2, &a]);
    let eq = s.list_equivocations(&l);
    assert_eq!(eq.len(), 1);
    assert_eq!(eq[0].seq, 2);
    let mut versions = vec![h1.id(), h2.id()];
    versions.sort();
    assert_eq!(eq[0].versions, versions);
    // The smallest id is used, whatever the order of arrival.
    assert_eq!(s.list_header(&l).unwrap().0, versions[0]);
    let s2 = state_of(&[&a, &h2, &h1]);
    assert_eq!(s2.list_header(&l).unwrap().0, versions[0]);
    let policy = Policy::new(c.viewer.public_key()).subscribe(l, 1.0);
    let d = decide_for(&s, &policy, &Item::author(c.spammer.public_key()));
    assert_eq!(d.verdict, Verdict::Hide);
    let r = reason(&d, ReasonCode::ListEquivocation);
    assert_eq!(r.objects, versions);
    assert!(r.sentence().contains("conflicting"));
}

#[test]
fn higher_seq_header_replaces_purpose() {
    let c = cast();
    let l = list_ref(&c.curator, "l");
    let a = add(
        &c.curator,
        &l,
        Subject::Key(c.spammer.public_key()),
        NOW - MIN,
    );
    let block = header(&c.curator, "l", ListPurpose::Block, 1);
    let allow = header(&c.curator, "l", ListPurpose::Allow, 2);
    let policy = Policy::new(c.viewer.public_key()).subscribe(l, 1.0);
    let s = state_of(&[&allow, &a, &block]);
    assert_eq!(author_verdict(&s, &policy, &c.spammer), Verdict::Show);
}

// ---- groups -------------------------------------------------------------------------------

struct GroupCast {
    owner: SecretKey,
    modr: SecretKey,
    rogue: SecretKey,
    member: SecretKey,
    g: GroupRef,
    ban_list: ListRef,
}

fn group_cast() -> GroupCast {
    let owner = key(50);
    GroupCast {
        g: GroupRef {
            owner: owner.public_key(),
            name: "rust-lang".into(),
        },
        ban_list: ListRef {
            owner: owner.public_key(),
            name: "rust-lang-bans".into(),
        },
        owner,
        modr: key(51),
        rogue: key(52),
        member: key(53),
    }
}

fn group_header(
    gc: &GroupCast,
    seq: u64,
    moderators: Vec<PublicKey>,
    policy: GroupPolicy,
) -> SignedObject {
    sign(
        &gc.owner,
        NOW - 200 * MIN + seq * MIN,
        Body::Group(GroupBody {
            name: gc.g.name.clone(),
            rules: Some("Be kind.".into()),
            policy,
            moderators,
            seq,
        }),
    )
}

fn ban_header(gc: &GroupCast) -> SignedObject {
    sign(
        &gc.owner,
        NOW - 199 * MIN,
        Body::List(ListBody {
            name: gc.ban_list.name.clone(),
            purpose: ListPurpose::Ban,
            description: None,
            group: Some(gc.g.clone()),
            seq: 1,
        }),
    )
}

/// The group's header (seq 1, `modr` its moderator, no rules) and its ban list's header.
fn moderated_group(gc: &GroupCast) -> (SignedObject, SignedObject) {
    (
        group_header(gc, 1, vec![gc.modr.public_key()], GroupPolicy::default()),
        ban_header(gc),
    )
}

fn ban(
    gc: &GroupCast,
    by: &SecretKey,
    who: &SecretKey,
    at: u64,
    expires: Option<u64>,
) -> SignedObject {
    add_full(
        by,
        &gc.ban_list,
        Subject::Key(who.public_key()),
        at,
        Some("harassment".into()),
        None,
        expires,
    )
}

#[test]
fn moderators_ban_and_unban_inside_the_group_only() {
    let gc = group_cast();
    let v = key(20);
    let (gh, bh) = moderated_group(&gc);
    let b = ban(&gc, &gc.modr, &gc.member, NOW - 10 * MIN, None);
    let s = state_of(&[&gh, &bh, &b]);
    let policy = Policy::new(v.public_key());
    let in_group = post(&gc.member, NOW - MIN, Some(gc.g.clone()));
    let d = decide_for(&s, &policy, &in_group);
    assert_eq!(d.verdict, Verdict::Hide);
    let r = &d.reasons[0];
    assert_eq!(r.code, ReasonCode::GroupBan);
    assert_eq!(r.actor, Some(gc.modr.public_key()));
    assert_eq!(r.group.as_deref(), Some(&gc.g));
    assert!(r.objects.contains(&b.id()));
    assert!(r.sentence().contains("harassment"));
    // Outside the group the ban does not apply.
    assert_eq!(
        decide_for(&s, &policy, &post(&gc.member, NOW - MIN, None)).verdict,
        Verdict::Show
    );
    // The author in the group, too.
    let a = Item::Author {
        author: gc.member.public_key(),
        group: Some(gc.g.clone()),
    };
    assert_eq!(decide_for(&s, &policy, &a).verdict, Verdict::Hide);
    // The owner unbans (retracts the moderator's ban).
    let unban = remove(&gc.owner, &gc.ban_list, vec![b.id()], NOW - 5 * MIN);
    let s2 = state_of(&[&gh, &bh, &b, &unban]);
    let e = explain_for(&s2, &policy, &in_group);
    assert_eq!(e.verdict, Verdict::Show);
    assert!(e.has(ReasonCode::GroupBanRetracted));
    // An unban by a non-moderator does nothing.
    let fake_unban = remove(&gc.rogue, &gc.ban_list, vec![b.id()], NOW - 5 * MIN);
    let s3 = state_of(&[&gh, &bh, &b, &fake_unban]);
    assert_eq!(decide_for(&s3, &policy, &in_group).verdict, Verdict::Hide);
    assert_eq!(s3.banned_subjects(&gc.g, NOW).len(), 1);
    // The owner bans without being listed as a moderator.
    let ob = ban(&gc, &gc.owner, &gc.rogue, NOW - 10 * MIN, None);
    let s4 = state_of(&[&gh, &bh, &ob]);
    assert_eq!(
        decide_for(
            &s4,
            &policy,
            &post(&gc.rogue, NOW - MIN, Some(gc.g.clone()))
        )
        .verdict,
        Verdict::Hide
    );
}

#[test]
fn a_ban_by_a_non_moderator_has_no_effect_and_explain_says_so() {
    let gc = group_cast();
    let v = key(20);
    let (gh, bh) = moderated_group(&gc);
    let b = ban(&gc, &gc.rogue, &gc.member, NOW - 10 * MIN, None);
    let s = state_of(&[&gh, &bh, &b]);
    let policy = Policy::new(v.public_key());
    let item = post(&gc.member, NOW - MIN, Some(gc.g.clone()));
    let d = decide_for(&s, &policy, &item);
    assert_eq!(d.verdict, Verdict::Show);
    assert!(d.reasons.is_empty());
    let e = explain_for(&s, &policy, &item);
    assert_eq!(e.verdict, Verdict::Show);
    let r = reason(&e, ReasonCode::GroupBanNotModerator);
    assert_eq!(r.effect, Verdict::Show);
    assert_eq!(r.actor, Some(gc.rogue.public_key()));
    assert!(r.objects.contains(&b.id()));
    assert!(r.sentence().contains("no effect"));
}

#[test]
fn bans_expire() {
    let gc = group_cast();
    let (gh, bh) = moderated_group(&gc);
    let at = NOW - 10 * MIN;
    let b = ban(&gc, &gc.modr, &gc.member, at, Some(at + 5 * MIN));
    let s = state_of(&[&gh, &bh, &b]);
    let policy = Policy::new(key(20).public_key());
    let item = post(&gc.member, NOW - MIN, Some(gc.g.clone()));
    assert_eq!(decide_for(&s, &policy, &item).verdict, Verdict::Show);
    assert!(explain_for(&s, &policy, &item).has(ReasonCode::EntryExpired));
    let trust = DirectTrust::new(key(20).public_key());
    let view = View::build(&s, &policy, &trust, &NoCredentials, NOW);
    assert_eq!(view.decide(&item, at + MIN).verdict, Verdict::Hide);
}

#[test]
fn hostile_removed_moderator_bans_stop_counting() {
    // Decision (specs/decisions.md): bans count only from the owner and the moderators of the
    // *current* header. Timestamps are the author's claim, so "moderator at the time of the
    // ban" would let a removed moderator keep banning with backdated objects.
    let gc = group_cast();
    let gh1 = group_header(&gc, 1, vec![gc.modr.public_key()], GroupPolicy::default());
    let gh2 = group_header(&gc, 2, vec![], GroupPolicy::default());
    let bh = ban_header(&gc);
    let b = ban(&gc, &gc.modr, &gc.member, NOW - 150 * MIN, None);
    let policy = Policy::new(key(20).public_key());
    let item = post(&gc.member, NOW - MIN, Some(gc.g.clone()));
    let before = state_of(&[&gh1, &bh, &b]);
    assert_eq!(decide_for(&before, &policy, &item).verdict, Verdict::Hide);
    let after = state_of(&[&gh1, &gh2, &bh, &b]);
    let e = explain_for(&after, &policy, &item);
    assert_eq!(e.verdict, Verdict::Show);
    assert!(e.has(ReasonCode::GroupBanNotModerator));
    // The owner keeps a ban by issuing it again.
    let rb = ban(&gc, &gc.owner, &gc.member, NOW - 2 * MIN, None);
    let kept = state_of(&[&gh1, &gh2, &bh, &b, &rb]);
    assert_eq!(decide_for(&kept, &policy, &item).verdict, Verdict::Hide);
}

fn appeal(
    by: &SecretKey,
    target: ObjectId,
    outcome: Option<AppealOutcome>,
    at: u64,
) -> SignedObject {
    sign(
        by,
        at,
        Body::Appeal(AppealBody {
            target,
            text: Some("please".into()),
            outcome,
        }),
    )
}

#[test]
fn appeals_link_to_the_ban_and_a_moderators_answer_closes_them() {
    let gc = group_cast();
    let (gh, bh) = moderated_group(&gc);
    let b = ban(&gc, &gc.modr, &gc.member, NOW - 10 * MIN, None);
    let ap = appeal(&gc.member, b.id(), None, NOW - 9 * MIN);
    let policy = Policy::new(key(20).public_key());
    let item = post(&gc.member, NOW - MIN, Some(gc.g.clone()));

    let s = state_of(&[&gh, &bh, &b, &ap]);
    let q = s.appeals_queue(&gc.g);
    assert_eq!(q.len(), 1);
    assert_eq!(q[0].state, AppealState::Open);
    assert_eq!(q[0].ban, b.id());
    assert_eq!(q[0].subject, Subject::Key(gc.member.public_key()));
    assert_eq!(decide_for(&s, &policy, &item).verdict, Verdict::Hide);

    // An answer by a non-moderator changes nothing.
    let rogue_ans = appeal(
        &gc.rogue,
        ap.id(),
        Some(AppealOutcome::Granted),
        NOW - 8 * MIN,
    );
    let s = state_of(&[&gh, &bh, &b, &ap, &rogue_ans]);
    assert_eq!(s.appeals_queue(&gc.g)[0].state, AppealState::Open);
    assert_eq!(decide_for(&s, &policy, &item).verdict, Verdict::Hide);

    // Upheld: closed, ban stands.
    let up = appeal(
        &gc.modr,
        ap.id(),
        Some(AppealOutcome::Upheld),
        NOW - 7 * MIN,
    );
    let s = state_of(&[&gh, &bh, &b, &ap, &up]);
    assert_eq!(s.appeals_queue(&gc.g)[0].state, AppealState::Upheld);
    assert_eq!(s.appeals_queue(&gc.g)[0].answer, Some(up.id()));
    assert_eq!(decide_for(&s, &policy, &item).verdict, Verdict::Hide);

    // Granted later by the owner: the ban no longer applies.
    let gr = appeal(
        &gc.owner,
        ap.id(),
        Some(AppealOutcome::Granted),
        NOW - 6 * MIN,
    );
    let s = state_of(&[&gr, &gh, &bh, &b, &ap, &up]);
    assert_eq!(s.appeals_queue(&gc.g)[0].state, AppealState::Granted);
    let e = explain_for(&s, &policy, &item);
    assert_eq!(e.verdict, Verdict::Show);
    assert!(e.has(ReasonCode::AppealGranted));
    assert!(s.banned_subjects(&gc.g, NOW).is_empty());
    // The same appeal, seen from the ban list (a curator's view); another list has none.
    let bans = s.list_appeals(&gc.ban_list);
    let by_group = s.appeals_queue(&gc.g);
    assert_eq!(bans, by_group, "{bans:?}");
    assert!(s
        .list_appeals(&ListRef {
            owner: gc.owner.public_key(),
            name: "other".into(),
        })
        .is_empty());
}

#[test]
fn group_rules_min_trust_and_credential_are_enforced() {
    let gc = group_cast();
    let v = key(20);
    let issuer = "did:key:z6MkissuerExample".to_string();
    let gh = group_header(
        &gc,
        1,
        vec![gc.modr.public_key()],
        GroupPolicy {
            min_trust: Some(30),
            vote_budget: None,
            credential_issuer: Some(issuer.clone()),
            personhood_votes: false,
            amend_quorum: None,
            amend_majority: None,
        },
    );
    let trusted = key(60);
    let t1 = attest(&v, &trusted, 50, NOW - 60 * MIN);
    let t2 = attest(&v, &gc.member, 10, NOW - 60 * MIN);
    let s = state_of(&[&gh, &t1, &t2]);
    let policy = Policy::new(v.public_key());
    let trust = DirectTrust::from_state(&s, &v.public_key(), NOW);
    let mut creds = CredentialSet::default();
    creds.0.insert((trusted.public_key(), issuer.clone()));
    let view = View::build(&s, &policy, &trust, &creds, NOW);

    let d = view.decide(&post(&trusted, NOW - MIN, Some(gc.g.clone())), NOW);
    assert_eq!(d.verdict, Verdict::Show, "{:?}", codes(&d));
    let d = view.decide(&post(&gc.member, NOW - MIN, Some(gc.g.clone())), NOW);
    assert_eq!(
        d.verdict,
        Verdict::Collapse,
        "newcomers are collapsed, not hidden"
    );
    assert!(d.has(ReasonCode::GroupMinTrust));
    assert!(d.has(ReasonCode::GroupCredentialMissing));
    let r = reason(&d, ReasonCode::GroupMinTrust);
    assert_eq!(r.count, 30);
    assert_eq!(r.objects, vec![gh.id()]);
    // Moderators are exempt; outside the group the rules do not apply.
    let d = view.decide(&post(&gc.modr, NOW - MIN, Some(gc.g.clone())), NOW);
    assert_eq!(d.verdict, Verdict::Show);
    let d = view.decide(&post(&gc.member, NOW - MIN, None), NOW);
    assert_eq!(d.verdict, Verdict::Show);
    // A viewer may switch group rules off.
    let mut p2 = policy.clone();
    p2.group_rules = false;
    let view2 = View::build(&s, &p2, &trust, &creds, NOW);
    assert_eq!(
        view2
            .decide(&post(&gc.member, NOW - MIN, Some(gc.g.clone())), NOW)
            .verdict,
        Verdict::Show
    );
}

#[test]
fn reports_reach_the_moderators_as_a_queue() {
    let gc = group_cast();
    let (r1, r2, r3) = (key(70), key(71), key(72));
    let report = |by: &SecretKey, who: &SecretKey, cat: &str, at: u64| {
        sign(
            by,
            at,
            Body::Report(ReportBody {
                subject: Subject::Key(who.public_key()),
                group: gc.g.clone(),
                category: cat.into(),
                text: Some(format!("{cat} report")),
            }),
        )
    };
    let a = report(&r1, &gc.member, "spam", NOW - 30 * MIN);
    let b = report(&r2, &gc.member, "harassment", NOW - 20 * MIN);
    let c = report(&r3, &gc.rogue, "spam", NOW - 40 * MIN);
    let s = state_of(&[&c, &b, &a]);
    let q = s.reports_queue(&gc.g, NOW);
    assert_eq!(q.len(), 2);
    assert_eq!(q[0].subject, Subject::Key(gc.member.public_key()));
    assert_eq!(q[0].reports, vec![a.id(), b.id()]);
    assert_eq!(q[0].categories.get("spam"), Some(&1));
    assert_eq!(q[0].categories.get("harassment"), Some(&1));
    assert_eq!(q[0].first_at, NOW - 30 * MIN);
    assert!(!q[0].banned);
    assert_eq!(q[1].subject, Subject::Key(gc.rogue.public_key()));
    // Another group's queue is empty.
    let other = GroupRef {
        owner: gc.owner.public_key(),
        name: "other".into(),
    };
    assert!(s.reports_queue(&other, NOW).is_empty());
}

#[test]
fn hostile_dismissals_count_only_from_the_groups_moderators() {
    let gc = group_cast();
    let (r1, r2) = (key(70), key(71));
    let report = |by: &SecretKey, who: &SecretKey, at: u64| {
        sign(
            by,
            at,
            Body::Report(ReportBody {
                subject: Subject::Key(who.public_key()),
                group: gc.g.clone(),
                category: "spam".into(),
                text: None,
            }),
        )
    };
    let dismiss = |by: &SecretKey, reports: Vec<ObjectId>, at: u64| {
        sign(
            by,
            at,
            Body::Dismiss(DismissBody {
                group: gc.g.clone(),
                reports,
                text: Some("not spam".into()),
            }),
        )
    };
    let gh1 = group_header(&gc, 1, vec![gc.modr.public_key()], GroupPolicy::default());
    let a = report(&r1, &gc.member, NOW - 30 * MIN);
    let b = report(&r2, &gc.rogue, NOW - 40 * MIN);
    // The reported member (or anyone outside the moderators) cannot close its own reports.
    let by_member = dismiss(&gc.member, vec![a.id()], NOW - 25 * MIN);
    let by_rogue = dismiss(&gc.rogue, vec![a.id(), b.id()], NOW - 25 * MIN);
    let s = state_of(&[&gh1, &a, &b, &by_member, &by_rogue]);
    let q = s.reports_queue(&gc.g, NOW);
    assert_eq!(q.len(), 2);
    assert!(q.iter().all(|i| i.is_open() && i.dismissed.is_empty()));

    // A moderator's dismissal closes the reports it names; the closed item sorts last.
    let by_mod = dismiss(&gc.modr, vec![a.id()], NOW - 20 * MIN);
    let s = state_of(&[&gh1, &a, &b, &by_member, &by_rogue, &by_mod]);
    let q = s.reports_queue(&gc.g, NOW);
    assert_eq!(q[0].subject, Subject::Key(gc.rogue.public_key()));
    assert!(q[0].is_open());
    assert_eq!(q[1].subject, Subject::Key(gc.member.public_key()));
    assert!(!q[1].is_open());
    assert_eq!(q[1].dismissed, vec![a.id()]);
    assert_eq!(
        q[1].dismissals,
        vec![(by_mod.id(), gc.modr.public_key(), Some("not spam".into()))]
    );

    // A new report about the same subject reopens the item; the old one stays dismissed.
    let c = report(&r2, &gc.member, NOW - 10 * MIN);
    let s = state_of(&[&gh1, &a, &b, &by_mod, &c]);
    let item = s
        .reports_queue(&gc.g, NOW)
        .into_iter()
        .find(|i| i.subject == Subject::Key(gc.member.public_key()))
        .unwrap();
    assert!(item.is_open());
    assert_eq!(item.dismissed, vec![a.id()]);

    // Once the owner drops the moderator, the moderator's dismissals stop counting.
    let gh2 = group_header(&gc, 2, vec![], GroupPolicy::default());
    let s = state_of(&[&gh1, &gh2, &a, &b, &by_mod]);
    assert!(s.reports_queue(&gc.g, NOW).iter().all(|i| i.is_open()));
    // The owner's dismissal counts, whoever the moderators are.
    let by_owner = dismiss(&gc.owner, vec![b.id()], NOW - 5 * MIN);
    let s = state_of(&[&gh1, &gh2, &a, &b, &by_owner]);
    let q = s.reports_queue(&gc.g, NOW);
    assert_eq!(q.iter().filter(|i| i.is_open()).count(), 1);
    assert!(!q[1].is_open() && q[1].subject == Subject::Key(gc.rogue.public_key()));
}

#[test]
fn group_equivocation_is_shown() {
    let gc = group_cast();
    let gh1 = group_header(&gc, 3, vec![gc.modr.public_key()], GroupPolicy::default());
    let gh2 = group_header(&gc, 3, vec![], GroupPolicy::default());
    let s = state_of(&[&gh1, &gh2]);
    assert_eq!(s.group_equivocations(&gc.g).len(), 1);
    let e = explain_for(
        &s,
        &Policy::new(key(20).public_key()),
        &post(&gc.member, NOW - MIN, Some(gc.g.clone())),
    );
    assert!(e.has(ReasonCode::GroupEquivocation));
}

// ---- revoked keys ---------------------------------------------------------------------------

#[test]
fn hostile_revoked_keys_later_objects_are_void() {
    let c = cast();
    let gc = group_cast();
    let since = NOW - 30 * MIN;
    let revoke = |k: &SecretKey| {
        sign(
            k,
            since + MIN,
            Body::Revoke(RevokeBody {
                since,
                reason: Some("stolen".into()),
            }),
        )
    };
    // The curator's key is revoked: its adds after `since` are void, earlier ones stand.
    let l = list_ref(&c.curator, "spam");
    let h = header(&c.curator, "spam", ListPurpose::Block, 1);
    let early = add(
        &c.curator,
        &l,
        Subject::Key(c.spammer.public_key()),
        since - MIN,
    );
    let late = add(
        &c.curator,
        &l,
        Subject::Key(c.friend.public_key()),
        since + 5 * MIN,
    );
    // The moderator's key is revoked: its later bans are void.
    let (gh, bh) = moderated_group(&gc);
    let late_ban = ban(&gc, &gc.modr, &gc.member, since + 5 * MIN, None);
    let objs = [
        &h,
        &early,
        &late,
        &gh,
        &bh,
        &late_ban,
        &revoke(&c.curator),
        &revoke(&gc.modr),
        &revoke(&c.other),
    ];
    let s = state_of(&objs);
    let policy = Policy::new(c.viewer.public_key()).subscribe(l.clone(), 1.0);
    assert_eq!(author_verdict(&s, &policy, &c.spammer), Verdict::Hide);
    assert_eq!(author_verdict(&s, &policy, &c.friend), Verdict::Show);
    assert_eq!(s.live_entries(&l, NOW).len(), 1);
    assert_eq!(
        decide_for(
            &s,
            &policy,
            &post(&gc.member, NOW - MIN, Some(gc.g.clone()))
        )
        .verdict,
        Verdict::Show
    );
    // Posts by a revoked author: before `since` shown, after hidden.
    assert_eq!(
        decide_for(&s, &policy, &post(&c.other, since - MIN, None)).verdict,
        Verdict::Show
    );
    let d = decide_for(&s, &policy, &post(&c.other, since + MIN, None));
    assert_eq!(d.verdict, Verdict::Hide);
    assert_eq!(codes(&d), vec!["author-revoked"]);
    // Even the viewer's own show override does not bring back a revoked key's later post.
    let mut p2 = policy.clone();
    p2.overrides.push(Override {
        subject: Subject::Key(c.other.public_key()),
        verdict: Verdict::Show,
    });
    assert_eq!(
        decide_for(&s, &p2, &post(&c.other, since + MIN, None)).verdict,
        Verdict::Hide
    );
}

// ---- labels ----------------------------------------------------------------------------------

fn label(by: &SecretKey, subject: Subject, value: &str, neg: bool, at: u64) -> SignedObject {
    sign(
        by,
        at,
        Body::Label(LabelBody {
            subject,
            value: value.into(),
            neg,
            reason: Some("checked by hand".into()),
            expires: None,
        }),
    )
}

#[test]
fn labels_from_subscribed_labelers_map_to_verdicts() {
    let c = cast();
    let labeler = key(80);
    let p = post(&c.other, NOW - MIN, None);
    let Item::Post(pi) = &p else { panic!() };
    let l1 = label(
        &labeler,
        Subject::Object(pi.id),
        "nsfw",
        false,
        NOW - 10 * MIN,
    );
    let l2 = label(
        &labeler,
        Subject::Key(c.spammer.public_key()),
        "spam",
        false,
        NOW - 10 * MIN,
    );
    let l3 = label(
        &labeler,
        Subject::Key(c.friend.public_key()),
        "satire",
        false,
        NOW - 10 * MIN,
    );
    let stranger = label(
        &key(81),
        Subject::Key(c.friend.public_key()),
        "spam",
        false,
        NOW - 10 * MIN,
    );
    let s = state_of(&[&l1, &l2, &l3, &stranger]);
    let mut policy = Policy::new(c.viewer.public_key());
    policy.labelers.push(labeler.public_key());
    policy.label_verdicts = BTreeMap::from([
        ("nsfw".to_string(), Verdict::Collapse),
        ("spam".to_string(), Verdict::Hide),
    ]);
    let d = decide_for(&s, &policy, &p);
    assert_eq!(d.verdict, Verdict::Collapse);
    let r = &d.reasons[0];
    assert_eq!(r.code, ReasonCode::Label);
    assert_eq!(r.value.as_deref(), Some("nsfw"));
    assert_eq!(r.actor, Some(labeler.public_key()));
    assert_eq!(r.objects, vec![l1.id()]);
    assert!(r.sentence().contains("'nsfw'"));
    assert_eq!(author_verdict(&s, &policy, &c.spammer), Verdict::Hide);
    // Unmapped: no effect by default, a warning if the viewer says so. The unsubscribed
    // labeler's "spam" never counts.
    assert_eq!(author_verdict(&s, &policy, &c.friend), Verdict::Show);
    policy.unmapped_label = Verdict::Warn;
    assert_eq!(author_verdict(&s, &policy, &c.friend), Verdict::Warn);
    // A later negation withdraws the label.
    let neg = label(
        &labeler,
        Subject::Key(c.spammer.public_key()),
        "spam",
        true,
        NOW - 5 * MIN,
    );
    let s2 = state_of(&[&l1, &l2, &l3, &neg]);
    assert_eq!(author_verdict(&s2, &policy, &c.spammer), Verdict::Show);
}

#[test]
fn label_lists_label_their_entries() {
    let c = cast();
    let l = list_ref(&c.curator, "labels");
    let h = header(&c.curator, "labels", ListPurpose::Label, 1);
    let a = add_full(
        &c.curator,
        &l,
        Subject::Key(c.spammer.public_key()),
        NOW - MIN,
        None,
        Some("bot".into()),
        None,
    );
    let s = state_of(&[&h, &a]);
    let mut policy = Policy::new(c.viewer.public_key()).subscribe(l, 1.0);
    policy
        .label_verdicts
        .insert("bot".into(), Verdict::Collapse);
    let d = decide_for(&s, &policy, &Item::author(c.spammer.public_key()));
    assert_eq!(d.verdict, Verdict::Collapse);
    assert_eq!(d.reasons[0].value.as_deref(), Some("bot"));
    assert_eq!(d.reasons[0].actor, Some(c.curator.public_key()));
}

// ---- diffs, batch, reason codes ----------------------------------------------------------

#[test]
fn diff_says_what_a_list_change_did_for_this_viewer() {
    let c = cast();
    let l = list_ref(&c.curator, "spam");
    let h = header(&c.curator, "spam", ListPurpose::Block, 1);
    let friends = [key(90), key(91), key(92)];
    let mut objs = vec![h];
    for f in &friends {
        objs.push(attest(&c.viewer, f, 60, NOW - 90 * MIN));
    }
    let old = add(
        &c.curator,
        &l,
        Subject::Key(c.spammer.public_key()),
        NOW - 80 * MIN,
    );
    objs.push(old.clone());
    let before = state_of(&objs.iter().collect::<Vec<_>>());
    for f in &friends {
        objs.push(add(
            &c.curator,
            &l,
            Subject::Key(f.public_key()),
            NOW - 10 * MIN,
        ));
    }
    objs.push(add(
        &c.curator,
        &l,
        Subject::Key(c.other.public_key()),
        NOW - 10 * MIN,
    ));
    objs.push(remove(&c.curator, &l, vec![old.id()], NOW - 10 * MIN));
    let after = state_of(&objs.iter().collect::<Vec<_>>());
    let mut policy = Policy::new(c.viewer.public_key()).subscribe(l.clone(), 1.0);
    policy.protect_trusted = false;
    let trust = DirectTrust::from_state(&after, &c.viewer.public_key(), NOW);
    let vb = View::build(&before, &policy, &trust, &NoCredentials, NOW);
    let va = View::build(&after, &policy, &trust, &NoCredentials, NOW);
    let d = diff(&vb, &va, NOW);
    assert_eq!(d.changes.len(), 5);
    assert_eq!(d.lists.len(), 1);
    let lc = &d.lists[0];
    assert_eq!(lc.list, l);
    assert_eq!(lc.now_hides.len(), 4);
    assert_eq!(lc.now_hides_trusted, 3);
    assert_eq!(lc.no_longer_hides, vec![c.spammer.public_key()]);
    let sentence = &d.sentences()[0];
    assert!(
        sentence.contains("now hides 3 author(s) you trust"),
        "{sentence}"
    );
    assert!(sentence.contains("no longer hides 1"), "{sentence}");
    // With the default protection the trusted ones are only warned about.
    let mut p2 = policy.clone();
    p2.protect_trusted = true;
    let vb = View::build(&before, &p2, &trust, &NoCredentials, NOW);
    let va = View::build(&after, &p2, &trust, &NoCredentials, NOW);
    let d = diff(&vb, &va, NOW);
    assert_eq!(d.lists[0].now_hides_trusted, 0);
    assert_eq!(
        d.changes
            .iter()
            .filter(|ch| ch.trusted && ch.after == Verdict::Warn)
            .count(),
        3
    );
    // Dropping the subscription: the list no longer hides anyone.
    let none = Policy::new(c.viewer.public_key());
    let vn = View::build(&after, &none, &trust, &NoCredentials, NOW);
    let va = View::build(&after, &policy, &trust, &NoCredentials, NOW);
    let d = diff(&va, &vn, NOW);
    assert_eq!(d.lists[0].no_longer_hides.len(), 4);
    assert!(diff(&va, &va, NOW).is_empty());
}

#[test]
fn batch_agrees_with_single_decisions() {
    let c = cast();
    let (refs, objs) = three_lists(&c);
    let s = state_of(&objs.iter().collect::<Vec<_>>());
    let policy = Policy::new(c.viewer.public_key()).subscribe(refs[0].clone(), 1.0);
    let trust = DirectTrust::new(c.viewer.public_key());
    let view = View::build(&s, &policy, &trust, &NoCredentials, NOW);
    let items: Vec<Item> = [&c.spammer, &c.other, &c.friend, &c.curator]
        .iter()
        .enumerate()
        .map(|(i, k)| post(k, NOW - i as u64 * MIN, None))
        .collect();
    let batch = decide_batch(&view, &items, NOW);
    assert_eq!(batch.len(), 4);
    for (item, d) in items.iter().zip(&batch) {
        assert_eq!(d, &decide(&view, item, NOW));
    }
    assert_eq!(
        batch.iter().map(|d| d.verdict).collect::<Vec<_>>(),
        vec![Verdict::Hide, Verdict::Hide, Verdict::Show, Verdict::Show]
    );
}

#[test]
fn every_reason_code_is_unique_and_specified() {
    let spec = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../specs/decisions.md"
    ))
    .unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for code in ReasonCode::ALL {
        assert!(seen.insert(code.as_str()), "duplicate {code}");
        assert!(
            spec.contains(&format!("`{}`", code.as_str())),
            "{code} missing from specs/decisions.md"
        );
        // Every code renders to one plain sentence.
        let s = Reason::new(code, Verdict::Warn).sentence();
        assert!(s.ends_with('.') && !s.contains('\n'), "{code}: {s}");
    }
    for v in Verdict::ALL {
        assert!(spec.contains(&format!("`{}`", v.as_str())));
    }
}

#[test]
fn refreshing_one_list_gives_the_same_decisions_as_a_rebuild() {
    let c = cast();
    let (refs, objs) = three_lists(&c);
    let mut s = state_of(&objs.iter().collect::<Vec<_>>());
    let mut policy = Policy::new(c.viewer.public_key());
    for l in &refs {
        policy = policy.subscribe(l.clone(), 0.5);
    }
    policy.exemptions.push(Exemption {
        list: refs[1].clone(),
        subject: Subject::Key(c.curator.public_key()),
    });
    let trust = DirectTrust::new(c.viewer.public_key());
    let mut view = View::build(&s, &policy, &trust, &NoCredentials, NOW);
    // List 1 gains entries, loses one, and its curator equivocates.
    let curator1 = key(32);
    let spam_add = s
        .list(&refs[1])
        .unwrap()
        .adds_for(&Subject::Key(c.spammer.public_key()))
        .next()
        .unwrap()
        .0;
    for o in [
        add(
            &curator1,
            &refs[1],
            Subject::Key(c.other.public_key()),
            NOW - MIN,
        ),
        add(
            &curator1,
            &refs[1],
            Subject::Key(c.friend.public_key()),
            NOW - MIN,
        ),
        add(
            &curator1,
            &refs[1],
            Subject::Key(c.curator.public_key()),
            NOW - MIN,
        ),
        remove(&curator1, &refs[1], vec![spam_add], NOW - MIN),
        header(&curator1, "blocks", ListPurpose::Block, 1),
        sign(
            &curator1,
            NOW - 3 * MIN,
            Body::List(ListBody {
                name: "blocks".into(),
                purpose: ListPurpose::Block,
                description: Some("fork".into()),
                group: None,
                seq: 1,
            }),
        ),
    ] {
        s.apply(&o);
    }
    assert!(view.refresh_list(&s, &refs[1]));
    let rebuilt = View::build(&s, &policy, &trust, &NoCredentials, NOW);
    let mut changed = 0;
    for k in [&c.spammer, &c.other, &c.friend, &c.curator, &c.viewer] {
        let item = Item::author(k.public_key());
        let before = explain(
            &View::build(
                &state_of(&objs.iter().collect::<Vec<_>>()),
                &policy,
                &trust,
                &NoCredentials,
                NOW,
            ),
            &item,
            NOW,
        );
        let got = explain(&view, &item, NOW);
        assert_eq!(got, explain(&rebuilt, &item, NOW));
        changed += usize::from(got != before);
    }
    assert!(changed >= 3, "the refresh changed decisions");
    // A list the view does not subscribe to cannot be refreshed.
    assert!(!view.refresh_list(&s, &list_ref(&key(99), "nope")));
}
