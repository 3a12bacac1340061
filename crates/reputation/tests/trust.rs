//! Properties of the trust metric (specs/trust.md), each a test that fails if it breaks.
// Test helpers outside #[test] functions unwrap too.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use vouch_reputation::{
    Attestation, EvidenceKind, IngestError, Ingested, KeyBytes, Revocation, Rotation, TrustGraph,
    TrustParams, TrustView, Vote,
};

fn k(i: u32) -> KeyBytes {
    let mut key = [0u8; 32];
    key[..4].copy_from_slice(&i.to_be_bytes());
    key
}

fn obj(i: u64) -> [u8; 32] {
    let mut o = [0xEE; 32];
    o[..8].copy_from_slice(&i.to_be_bytes());
    o
}

fn att(a: u32, b: u32, level: i8, at: u64) -> Attestation {
    Attestation {
        author: k(a),
        subject: k(b),
        level,
        context: None,
        expires_at_ms: None,
        at_ms: at,
        object: obj(at * 1_000_003 + u64::from(a) * 1009 + u64::from(b)),
    }
}

fn graph(edges: &[(u32, u32, i8)]) -> TrustGraph {
    let mut g = TrustGraph::new(None);
    for (i, &(a, b, l)) in edges.iter().enumerate() {
        g.add_attestation(&att(a, b, l, i as u64 + 1)).unwrap();
    }
    g
}

fn view(g: &TrustGraph, viewer: u32) -> TrustView {
    TrustView::compute(g, &k(viewer), &[], TrustParams::default())
}

fn trust(g: &TrustGraph, v: &TrustView, i: u32) -> f64 {
    v.score(g, &k(i)).map_or(0.0, |s| s.trust)
}

fn standing(g: &TrustGraph, v: &TrustView, i: u32) -> f64 {
    v.score(g, &k(i)).map_or(0.0, |s| s.standing())
}

/// A random honest graph: `n` nodes, each attesting `d` others, 90% positive.
fn honest(n: u32, d: u32, rng: &mut ChaCha8Rng) -> Vec<(u32, u32, i8)> {
    let mut e = Vec::new();
    for a in 0..n {
        for _ in 0..d {
            let b = rng.gen_range(0..n);
            if a != b {
                let l = if rng.gen_bool(0.9) {
                    rng.gen_range(1..=100)
                } else {
                    -50
                };
                e.push((a, b, l));
            }
        }
    }
    e
}

#[test]
fn personalized_with_decay_per_hop() {
    // 0 -> 1 -> 2 -> 3, and 3 -> 0.
    let g = graph(&[(0, 1, 100), (1, 2, 100), (2, 3, 100), (3, 4, 100)]);
    let v0 = view(&g, 0);
    let t: Vec<f64> = (1..=4).map(|i| trust(&g, &v0, i)).collect();
    assert!(
        t[0] > t[1] && t[1] > t[2] && t[2] > t[3] && t[3] > 0.0,
        "{t:?}"
    );
    // Each hop keeps (1 - alpha) and passes alpha on: trust halves per hop.
    assert!((t[1] / t[0] - 0.5).abs() < 1e-6, "{t:?}");
    // Personalized: viewer 2 sees neither 0 nor 1, and trusts 3 most.
    let v2 = view(&g, 2);
    assert_eq!(trust(&g, &v2, 1), 0.0);
    assert!(trust(&g, &v2, 3) > trust(&g, &v2, 4));
    assert!(v0.score(&g, &k(1)).unwrap().score > v0.score(&g, &k(3)).unwrap().score);
}

#[test]
fn distrust_lowers_the_subject() {
    let base = [(0, 1, 100), (0, 2, 100), (1, 3, 50), (2, 3, 50)];
    let g = graph(&base);
    let mut with = base.to_vec();
    with.push((1, 2, -100));
    let g2 = graph(&with);
    let (v, v2) = (view(&g, 0), view(&g2, 0));
    assert!(standing(&g2, &v2, 2) < standing(&g, &v, 2));
    assert!(v2.score(&g2, &k(2)).unwrap().negative > 0.0);
}

#[test]
fn distrust_does_not_chain() {
    // 0 trusts 1, 2 and 3; 3 vouches for 4; 2 distrusts 3.
    let base = [
        (0, 1, 100),
        (0, 2, 100),
        (0, 3, 100),
        (2, 3, -100),
        (3, 4, 100),
    ];
    let g = graph(&base);
    let v = view(&g, 0);
    // Distrust of distrust is not trust: 1 distrusting 2 does not raise 3.
    let mut with = base.to_vec();
    with.push((1, 2, -100));
    let g2 = graph(&with);
    let v2 = view(&g2, 0);
    assert!(standing(&g2, &v2, 3) <= standing(&g, &v, 3));
    // Distrust does not propagate: 2 distrusting 3 lowers 3, and leaves 4, whom 3 vouches
    // for, exactly as it is without that distrust (same trust, no negative evidence).
    let without: Vec<_> = base.iter().copied().filter(|e| e.2 > 0).collect();
    let g0 = graph(&without);
    let v0 = view(&g0, 0);
    let (s0, s1) = (v0.score(&g0, &k(4)).unwrap(), v.score(&g, &k(4)).unwrap());
    assert!(standing(&g, &v, 3) < standing(&g0, &v0, 3));
    assert!(v.score(&g, &k(3)).unwrap().negative > 0.0);
    assert_eq!(s1.negative, 0.0, "distrust of 3 reached 4: {s1:?}");
    assert_eq!((s1.trust, s1.positive), (s0.trust, s0.positive));
    // A negative attestation carries no trust: 5 is reached only through a negative edge.
    let g3 = graph(&[(0, 1, 100), (0, 5, -100), (5, 6, 100)]);
    let v3 = view(&g3, 0);
    assert_eq!(trust(&g3, &v3, 5), 0.0);
    assert_eq!(trust(&g3, &v3, 6), 0.0);
    assert!(standing(&g3, &v3, 5) < 0.0);
}

#[test]
fn distrust_of_the_viewer_lowers_only_the_distruster() {
    // 0 trusts 1 and 2; both attest 3.
    let base = [(0, 1, 100), (0, 2, 100), (1, 3, 50), (2, 3, 50)];
    let g = graph(&base);
    let v = view(&g, 0);
    // (a) 3 distrusting the viewer lowers 3 in the viewer's view, by the viewer's whole
    // budget times |level| / 100, and nobody else.
    let mut with = base.to_vec();
    with.push((3, 0, -40));
    let g2 = graph(&with);
    let mut v2 = view(&g2, 0);
    assert!(standing(&g2, &v2, 3) < standing(&g, &v, 3));
    let neg = v2.score(&g2, &k(3)).unwrap().negative;
    assert!((neg - 0.4).abs() < 1e-12, "{neg}");
    assert!(v2.score(&g2, &k(3)).unwrap().score < v.score(&g, &k(3)).unwrap().score);
    // The evidence about everyone else is unchanged (the prior, a typical rating, moves a
    // little for everyone alike: 3 is now a rater).
    let evidence = |g: &TrustGraph, v: &TrustView, i: u32| {
        let s = v.score(g, &k(i)).unwrap();
        (s.trust, s.positive, s.negative)
    };
    for i in [1, 2] {
        assert_eq!(evidence(&g2, &v2, i), evidence(&g, &v, i));
    }
    // Another viewer is not affected: 3 does not distrust 1.
    assert_eq!(
        evidence(&g2, &view(&g2, 1), 3),
        evidence(&g, &view(&g, 1), 3)
    );
    // The incremental update adds and retracts it.
    let mut g3 = g.clone();
    let mut v3 = v.clone();
    g3.add_attestation(&att(3, 0, -40, 100)).unwrap();
    v3.update(&g3);
    assert_eq!(v3.score(&g3, &k(3)).unwrap().negative, neg);
    g3.add_attestation(&att(3, 0, 0, 101)).unwrap();
    v3.update(&g3);
    assert_eq!(v3.score(&g3, &k(3)).unwrap().negative, 0.0);
    v2.update(&g2);
    assert_eq!(v2.score(&g2, &k(3)).unwrap().negative, neg);
    // (b) A swarm of fresh keys attesting the viewer positively (and each other) gains
    // nothing, nor does an honest author that attests the viewer.
    let mut swarm = base.to_vec();
    for s in 100..150 {
        swarm.push((s, 0, 100));
        swarm.push((s, s + 1, 100));
    }
    swarm.push((3, 0, 100));
    let g4 = graph(&swarm);
    let v4 = view(&g4, 0);
    for s in 100..151 {
        assert_eq!(standing(&g4, &v4, s), 0.0);
        assert!(!v4.score(&g4, &k(s)).unwrap().has_signal());
    }
    let ((t4, p4, n4), (t0, p0, n0)) = (evidence(&g4, &v4, 3), evidence(&g, &v, 3));
    assert!(
        t4 <= t0 + 1e-12 && p4 <= p0 + 1e-12 && n4 >= n0,
        "{t4} {p4} {n4}"
    );
}

#[test]
fn the_viewers_distrust_passes_one_hop_to_what_the_distrusted_key_vouches_for() {
    // 0 trusts 1; 1 trusts 5 and 9; 5 vouches for 6 and 7; 6 vouches for 8.
    let base = [
        (0, 1, 100),
        (1, 5, 100),
        (1, 9, 100),
        (5, 6, 100),
        (5, 7, 50),
        (6, 8, 100),
    ];
    let g = graph(&base);
    let v = view(&g, 0);
    let neg = |g: &TrustGraph, v: &TrustView, i: u32| v.score(g, &k(i)).unwrap().negative;
    assert_eq!(neg(&g, &v, 6), 0.0);
    // The viewer distrusts 5 first-hand at -60: 5's two endorsements each carry
    // alpha * 0.6 / 2 = 0.15 of negative evidence, whatever their levels.
    let mut with = base.to_vec();
    with.push((0, 5, -60));
    let g2 = graph(&with);
    let v2 = view(&g2, 0);
    for i in [6, 7] {
        assert!(
            (neg(&g2, &v2, i) - 0.15).abs() < 1e-12,
            "{}",
            neg(&g2, &v2, i)
        );
        assert!(standing(&g2, &v2, i) < standing(&g, &v, i));
    }
    // One hop only: 8, vouched for by 6, and 9, vouched for by 1, are untouched.
    for i in [8, 9] {
        assert_eq!(neg(&g2, &v2, i), neg(&g, &v, i));
    }
    // Only the viewer's own distrust passes on: 1 distrusting 5 does not.
    let mut other = base.to_vec();
    other.push((1, 5, -60));
    let g3 = graph(&other);
    assert_eq!(neg(&g3, &view(&g3, 0), 6), 0.0);
    // Bounded like trust: a distrusted key that vouches for 50 more keys splits the same
    // total, alpha * 0.6, over all of them; it cannot harm more by vouching more.
    let mut spread = with.clone();
    for x in 100..150 {
        spread.push((5, x, 100));
    }
    let g4 = graph(&spread);
    let v4 = view(&g4, 0);
    let total: f64 = [6, 7]
        .into_iter()
        .chain(100..150)
        .map(|i| neg(&g4, &v4, i))
        .sum();
    assert!((total - 0.3).abs() < 1e-9, "{total}");
    // The incremental update follows the viewer's distrust and the distrusted key's rows.
    let mut gi = g.clone();
    let mut vi = v.clone();
    gi.add_attestation(&att(0, 5, -60, 100)).unwrap();
    vi.update(&gi);
    assert_eq!(neg(&gi, &vi, 6), neg(&g2, &v2, 6));
    gi.add_attestation(&att(5, 9, 100, 101)).unwrap();
    vi.update(&gi);
    assert!((neg(&gi, &vi, 6) - 0.1).abs() < 1e-12);
    assert!(neg(&gi, &vi, 9) > 0.0);
    gi.add_attestation(&att(0, 5, 0, 102)).unwrap();
    vi.update(&gi);
    assert_eq!(neg(&gi, &vi, 6), 0.0);
    // Explained as such.
    let e = v2.explain(&g2, &k(7)).unwrap();
    assert_eq!(e.negative.len(), 1);
    assert_eq!(e.negative[0].kind, EvidenceKind::EndorsedByDistrusted);
    assert_eq!(e.negative[0].rater, k(5));
    assert_eq!(e.negative[0].level, -60);
    assert!((e.negative[0].weight - 0.15).abs() < 1e-12);
}

#[test]
fn goodness_weighs_evidence_against_a_prior() {
    // 0 trusts 1 and 2; 1 and 2 rate 3 and 4.
    let g = graph(&[
        (0, 1, 100),
        (0, 2, 100),
        (1, 3, 100),
        (2, 3, 100),
        (1, 4, 100),
        (2, 4, -100),
        (7, 8, 100),
    ]);
    let v = view(&g, 0);
    let s = |i: u32| v.score(&g, &k(i)).unwrap();
    // No evidence at all: exactly the prior's 1/2, standing 0, score 0.
    assert_eq!(s(8).goodness, 0.5);
    assert_eq!(s(8).standing(), 0.0);
    assert_eq!(s(8).score, 0.0);
    // Evidence moves goodness away from 1/2, by (trust + positive + prior) /
    // (trust + positive + negative + 2 prior), the prior being one rating at level 1 by a
    // typical rater: a hundredth of the mean over raters w, weighted by trust, of
    // trust(w) / ratings(w). Here the raters are 1 and 2 (7 is not reached), two ratings each.
    let (t1, t2) = (s(1).trust, s(2).trust);
    let typical = (t1 * t1 / 2.0 + t2 * t2 / 2.0) / (t1 + t2);
    assert!((v.typical_rating() / typical - 1.0).abs() < 1e-12);
    assert!((v.prior() * 100.0 / typical - 1.0).abs() < 1e-12);
    let (prior, typical) = (v.prior(), v.typical_rating());
    for i in [3, 4] {
        let x = s(i);
        let want =
            (x.trust + x.positive + prior) / (x.trust + x.positive + x.negative + 2.0 * prior);
        assert!((x.goodness - want).abs() < 1e-12, "{x:?}");
    }
    assert!(s(3).goodness > s(4).goodness && s(4).goodness > 0.0);
    assert!(s(3).standing() > s(4).standing());
    // The score is reach discounted by the balance of evidence, with the benefit of the doubt
    // (one typical rating): `reach * (2 goodness - 1 + typical / total)`.
    for i in [3, 4] {
        let x = s(i);
        let total = x.trust + x.positive + x.negative + 2.0 * prior;
        let lean = (2.0 * x.goodness - 1.0 + typical / total).clamp(0.0, 1.0);
        assert!((x.score - x.reach * lean).abs() < 1e-12, "{x:?}");
    }
    assert!(s(3).score <= s(3).reach && s(3).score > 0.0);
    // The viewer's roots score 1.
    assert_eq!(s(0).score, 1.0);
}

/// Total trust of nodes `from..` in the view of 0.
fn region_trust(g: &TrustGraph, v: &TrustView, from: u32, to: u32) -> f64 {
    (from..to).map(|i| trust(g, v, i)).sum()
}

fn with_sybils(
    base: &[(u32, u32, i8)],
    n: u32,
    sybils: u32,
    attack: &[(u32, u32)],
    rng: &mut ChaCha8Rng,
) -> Vec<(u32, u32, i8)> {
    let mut e = base.to_vec();
    for s in 0..sybils {
        for _ in 0..10 {
            let o = rng.gen_range(0..sybils);
            if o != s {
                e.push((n + s, n + o, 100));
            }
        }
    }
    for &(h, s) in attack {
        e.push((h, n + s % sybils, 100));
    }
    e
}

#[test]
fn sybil_gain_is_bounded_by_attack_edges_not_size() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let n = 300;
    let base = honest(n, 6, &mut rng);
    let attack: Vec<(u32, u32)> = (0..5)
        .map(|_| (rng.gen_range(1..n), rng.gen_range(0..50)))
        .collect();
    let small = graph(&with_sybils(&base, n, 50, &attack, &mut rng));
    let large_edges = with_sybils(&base, n, 2000, &attack, &mut rng);
    let large = graph(&large_edges);
    let none = graph(&with_sybils(&base, n, 2000, &[], &mut rng));
    let (vs, vl, vn) = (view(&small, 0), view(&large, 0), view(&none, 0));
    let ts = region_trust(&small, &vs, n, n + 50);
    let tl = region_trust(&large, &vl, n, n + 2000);
    // Keys that only vouch for each other gain nothing.
    assert_eq!(region_trust(&none, &vn, n, n + 2000), 0.0);
    // 40x more sybils, same attack edges: the same gain (up to the push resolution).
    assert!(ts > 0.0);
    assert!((tl - ts).abs() < 1e-4, "small {ts} large {tl}");
    // The capacity bound: at most alpha x (what each attacked rater passes on) per edge.
    let alpha = TrustParams::default().alpha;
    let g = &large;
    let bound: f64 = attack
        .iter()
        .map(|&(h, _)| {
            let out = g_out_positive(&large_edges, h);
            trust(g, &vl, h) / (1.0 - alpha) * alpha / out as f64
        })
        .sum();
    assert!(
        tl <= bound * 1.001 + 1e-6,
        "sybil trust {tl} above capacity bound {bound}"
    );
}

fn g_out_positive(edges: &[(u32, u32, i8)], h: u32) -> usize {
    let mut t: Vec<u32> = edges
        .iter()
        .filter(|e| e.0 == h && e.2 > 0)
        .map(|e| e.1)
        .collect();
    t.sort_unstable();
    t.dedup();
    t.len()
}

#[test]
fn deterministic_whatever_the_arrival_order() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let edges = honest(200, 5, &mut rng);
    let records: Vec<Attestation> = edges
        .iter()
        .enumerate()
        .map(|(i, &(a, b, l))| att(a, b, l, i as u64 + 1))
        .collect();
    let reference = {
        let mut g = TrustGraph::new(None);
        for r in &records {
            g.add_attestation(r).unwrap();
        }
        view(&g, 0).scores(&g)
    };
    assert!(reference.len() > 100);
    for seed in 0..3 {
        let mut shuffled = records.clone();
        shuffled.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
        let mut g = TrustGraph::new(None);
        for r in &shuffled {
            g.add_attestation(r).unwrap();
        }
        // Bit-identical numbers, in key order.
        assert_eq!(view(&g, 0).scores(&g), reference);
    }
}

/// Total evidence (positive and negative, in budget units) on authors `10..n`.
fn total_evidence(g: &TrustGraph, v: &TrustView, n: u32) -> (f64, f64) {
    (10..n)
        .filter_map(|i| v.score(g, &k(i)))
        .fold((0.0, 0.0), |(p, q), s| (p + s.positive, q + s.negative))
}

/// A rater's evidence is budgeted: whatever number of keys it rates, the evidence it puts on
/// all of them together is at most its trust (specs/trust.md, section 5). Without the budget
/// (every rating at the rater's whole trust) the total grows with the number of ratings.
#[test]
fn a_raters_total_influence_is_bounded_by_its_trust() {
    // 0 trusts 1, 1 trusts 2; 2 then rates `m` other keys (negatively, positively, by votes).
    for rating in ["negative", "positive", "vote"] {
        let mut totals = Vec::new();
        for m in [1u32, 10, 100, 1000] {
            let mut g = graph(&[(0, 1, 100), (1, 2, 100)]);
            for t in 0..m {
                let subject = 10 + t;
                match rating {
                    "vote" => {
                        g.add_vote(&Vote {
                            voter: k(2),
                            target: k(subject),
                            value: -1,
                            at_ms: 50 + u64::from(t),
                            object: obj(50 + u64::from(t)),
                        })
                        .unwrap();
                    }
                    _ => {
                        let level = if rating == "negative" { -100 } else { 100 };
                        g.add_attestation(&att(2, subject, level, 50 + u64::from(t)))
                            .unwrap();
                    }
                };
            }
            let v = view(&g, 0);
            let rater = trust(&g, &v, 2);
            let (pos, neg) = total_evidence(&g, &v, 10 + m);
            // The rater's own positive attestations carry trust too (the flow, bounded like
            // any flow): count only evidence here; 2 itself is rated by 1 (positive).
            // Only 2 rates 10.. (its positive attestations also pass trust on: the flow,
            // bounded like any flow; counted here is evidence only).
            let on_others = if rating == "positive" { pos } else { neg };
            assert!(
                on_others <= rater * (1.0 + 1e-9),
                "{rating}, {m} ratings: evidence {on_others} above the rater's trust {rater}"
            );
            totals.push(on_others);
        }
        // Not growing with the number of ratings: 1000 ratings weigh what 1 does.
        assert!(
            (totals[3] - totals[0]).abs() <= totals[0] * 1e-3,
            "{rating}: {totals:?}"
        );
        // The unbudgeted rule (before issue 15) grows linearly: the bound is the budget's.
        let mut g = graph(&[(0, 1, 100), (1, 2, 100)]);
        for t in 0..100 {
            g.add_attestation(&att(2, 10 + t, -100, 50 + u64::from(t)))
                .unwrap();
        }
        let unbudgeted = TrustParams {
            budget: vouch_reputation::EvidenceBudget::Off,
            ..TrustParams::default()
        };
        let v = TrustView::compute(&g, &k(0), &[], unbudgeted);
        let (_, neg) = total_evidence(&g, &v, 110);
        assert!(neg > 50.0 * trust(&g, &v, 2), "{neg}");
    }
}

/// The benefit of the doubt bounds what a smear can take away: a key the viewer reaches keeps
/// a positive score unless the negative evidence against it exceeds the positive by more than
/// one typical rating (the prior), so a rater with trust `p` rating everyone negatively can
/// turn at most `p / prior` of the keys without negative evidence to a score of 0. Without
/// the budget and the doubt (before issue 15) the same smear zeroes most of the graph.
#[test]
fn a_smear_takes_away_at_most_its_trust_in_typical_ratings() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let n = 400;
    // Positive only, so that every key starts without negative evidence.
    let base: Vec<(u32, u32, i8)> = honest(n, 5, &mut rng)
        .into_iter()
        .filter(|e| e.2 > 0)
        .collect();
    let g = graph(&base);
    let v = view(&g, 0);
    let before: Vec<u32> = (1..n)
        .filter(|&i| v.score(&g, &k(i)).unwrap().score > 0.0)
        .collect();
    assert!(before.len() > 300, "{}", before.len());
    // The smearer: the key at the 90th percentile of the viewer's trust.
    let mut by_trust = before.clone();
    by_trust.sort_by(|&a, &b| trust(&g, &v, a).total_cmp(&trust(&g, &v, b)));
    let h = by_trust[by_trust.len() * 9 / 10];
    // h keeps its own attestations (so that no key loses the trust h passes on) and rates
    // every other key at -100.
    let mut smeared = base.clone();
    for t in 0..n {
        if t != h && !base.iter().any(|e| (e.0, e.1) == (h, t)) {
            smeared.push((h, t, -100));
        }
    }
    let flipped = |params: TrustParams| {
        let g2 = graph(&smeared);
        let v2 = TrustView::compute(&g2, &k(0), &[], params);
        let lost = before
            .iter()
            .filter(|&&i| i != h && v2.score(&g2, &k(i)).unwrap().score <= 0.0)
            .count();
        (lost, trust(&g2, &v2, h), v2.prior())
    };
    let (lost, p, prior) = flipped(TrustParams::default());
    assert!(
        lost as f64 <= p / prior,
        "{lost} keys lost, bound {}",
        p / prior
    );
    let old = TrustParams {
        budget: vouch_reputation::EvidenceBudget::Off,
        flow_evidence: true,
        prior: vouch_reputation::PriorRule::Reached,
        doubt: 0.0,
        ..TrustParams::default()
    };
    let (lost_before, _, _) = flipped(old);
    assert!(lost_before > before.len() / 4, "{lost_before}");
    // A concentrated smear (one rating) takes away the key if the rater's trust outweighs
    // that key's evidence and the doubt; the bound counts keys, not ratings.
    assert!(lost_before > lost);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    /// An incremental update gives the full computation's numbers, up to the push resolution.
    #[test]
    fn incremental_matches_full(seed in 0u64..1000, extra in prop::collection::vec((0u32..60, 0u32..60, -100i8..=100), 1..20)) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let base = honest(60, 3, &mut rng);
        let mut g = graph(&base);
        let mut v = view(&g, 0);
        for (i, &(a, b, l)) in extra.iter().enumerate() {
            if a == b { continue; }
            g.add_attestation(&att(a, b, l, 10_000 + i as u64)).unwrap();
            if i % 3 == 0 {
                g.add_vote(&Vote { voter: k(b), target: k(a), value: if l >= 0 { 1 } else { -1 }, at_ms: 10_000 + i as u64, object: obj(i as u64) }).unwrap();
            }
            v.update(&g);
        }
        let fresh = view(&g, 0);
        // Whether the view has a rater well above the push resolution (else the prior, and
        // with it goodness, rests on residues alone).
        let has_rater = (1..60).any(|i| fresh.score(&g, &k(i)).is_some_and(|s| s.trust >= 1e-4));
        for i in 0..60 {
            let (a, b) = (v.score(&g, &k(i)).unwrap_or_default(), fresh.score(&g, &k(i)).unwrap_or_default());
            prop_assert!((a.trust - b.trust).abs() < 1e-5, "author {}: {} vs {}", i, a.trust, b.trust);
            prop_assert!((a.negative - b.negative).abs() < 1e-5);
            prop_assert!((a.positive - b.positive).abs() < 1e-5);
            // Goodness matches to 1e-3 where the evidence is well above the push resolution's
            // residues (up to epsilon per flow edge, which the 1e-5 above allows): the prior is
            // a level-1 rating, so goodness can rest on evidence of a few 1e-5, and below 1e-4
            // the residues are not small against it. (The viewer, a root, has goodness 1.)
            if i != 0 && has_rater && b.trust + b.positive + b.negative >= 1e-4 {
                prop_assert!((a.goodness - b.goodness).abs() < 1e-3, "author {}: {:?} vs {:?}, priors {} {}", i, a, b, v.prior(), fresh.prior());
            }
        }
        // The prior (a typical rating's weight, kept as two exact sums) matches too, when the
        // view has a rater well above the resolution (else residues alone make it up).
        if has_rater {
            prop_assert!((v.prior() / fresh.prior() - 1.0).abs() < 1e-3, "prior {} vs {}", v.prior(), fresh.prior());
        }
    }
}

/// The heaviest incremental case: the viewer's own row changes (new attestations, a level
/// change, a retraction, a distrust), so everything downstream of the viewer moves. After each
/// update the view matches a full computation up to the push resolution, and two views fed the
/// same changes hold bit-identical numbers.
#[test]
fn the_viewers_own_attestations_update_like_a_full_computation() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut g = graph(&honest(3000, 5, &mut rng));
    let (mut v, mut w) = (view(&g, 0), view(&g, 0));
    let first: Vec<u32> = (1..3000).filter(|&i| trust(&g, &v, i) > 0.0).collect();
    assert!(first.len() > 1000, "the viewer reaches most of the graph");
    // (subject, level, what the subject's numbers do: trust up, same, down; negative up)
    let own: [(u32, i8, &str); 8] = [
        (2001, 100, "up"),
        (2002, 40, "up"),
        (2003, 100, "up"),
        (2001, 5, "same"),       // a level change moves evidence only
        (2002, 0, "down"),       // retraction
        (2004, -80, "negative"), // first-hand distrust: guilt by endorsement moves
        (2003, -100, "down negative"),
        (2005, 100, "up"),
    ];
    for (i, &(b, l, expect)) in own.iter().enumerate() {
        let before = v.score(&g, &k(b)).unwrap();
        g.add_attestation(&att(0, b, l, 100_000 + i as u64))
            .unwrap();
        v.update(&g);
        w.update(&g);
        let fresh = view(&g, 0);
        assert!((v.prior() / fresh.prior() - 1.0).abs() < 0.1, "step {i}");
        for a in 0..3000 {
            let (x, y) = (v.score(&g, &k(a)).unwrap(), fresh.score(&g, &k(a)).unwrap());
            assert!(
                (x.trust - y.trust).abs() < 1e-5,
                "step {i}, author {a}: {x:?} vs {y:?}"
            );
            assert!(
                (x.positive - y.positive).abs() < 1e-5,
                "step {i}, author {a}"
            );
            assert!(
                (x.negative - y.negative).abs() < 1e-5,
                "step {i}, author {a}"
            );
            assert_eq!(x, w.score(&g, &k(a)).unwrap(), "step {i}, author {a}");
        }
        // The change reached its subject.
        let after = v.score(&g, &k(b)).unwrap();
        let (t0, t1) = (before.trust, after.trust);
        if expect.contains("up") {
            assert!(t1 > t0 + 0.01, "step {i}: {t0} -> {t1}");
        } else if expect.contains("down") {
            assert!(t1 < t0 - 0.01, "step {i}: {t0} -> {t1}");
        } else {
            assert!((t1 - t0).abs() < 1e-5, "step {i}: {t0} -> {t1}");
        }
        if expect.contains("negative") {
            assert!(
                after.negative > before.negative + 0.1,
                "step {i}: {before:?} {after:?}"
            );
        }
    }
}

#[test]
fn latest_attestation_per_slot_wins() {
    let mut g = TrustGraph::new(None);
    assert_eq!(
        g.add_attestation(&att(0, 1, 100, 5)).unwrap(),
        Ingested::Applied
    );
    assert_eq!(
        g.add_attestation(&att(0, 1, 100, 5)).unwrap(),
        Ingested::Duplicate
    );
    assert_eq!(
        g.add_attestation(&att(0, 1, -100, 3)).unwrap(),
        Ingested::Stale
    );
    assert!(trust(&g, &view(&g, 0), 1) > 0.0);
    assert_eq!(
        g.add_attestation(&att(0, 1, -100, 9)).unwrap(),
        Ingested::Applied
    );
    let v = view(&g, 0);
    assert_eq!(trust(&g, &v, 1), 0.0);
    assert!(standing(&g, &v, 1) < 0.0);
    // Level 0 retracts.
    g.add_attestation(&att(0, 1, 0, 10)).unwrap();
    assert!(!view(&g, 0).score(&g, &k(1)).unwrap().has_signal());
}

#[test]
fn bad_records_are_errors_with_codes() {
    let mut g = TrustGraph::new(None);
    let e = g.add_attestation(&att(0, 1, 101, 1)).unwrap_err();
    assert_eq!(e, IngestError::LevelOutOfRange(101));
    assert_eq!(e.code(), "trust.level_out_of_range");
    assert_eq!(
        g.add_attestation(&att(2, 2, 10, 1)).unwrap_err(),
        IngestError::SelfReference
    );
    let vote = Vote {
        voter: k(0),
        target: k(1),
        value: 2,
        at_ms: 1,
        object: obj(1),
    };
    assert_eq!(g.add_vote(&vote).unwrap_err(), IngestError::VoteValue(2));
}

#[test]
fn expiry_and_context() {
    let group = [7u8; 32];
    let mut g = TrustGraph::new(Some(group));
    let mut a = att(0, 1, 100, 1);
    a.expires_at_ms = Some(1_000);
    g.add_attestation(&a).unwrap();
    let mut other = att(0, 2, 100, 1);
    other.context = Some([8u8; 32]);
    assert_eq!(g.add_attestation(&other).unwrap(), Ingested::OutOfScope);
    let mut scoped = att(0, 3, 100, 1);
    scoped.context = Some(group);
    assert_eq!(g.add_attestation(&scoped).unwrap(), Ingested::Applied);
    g.set_now(999);
    let v = view(&g, 0);
    assert!(trust(&g, &v, 1) > 0.0 && trust(&g, &v, 3) > 0.0);
    g.set_now(1_000);
    let mut v2 = v.clone();
    v2.update(&g);
    assert_eq!(trust(&g, &v2, 1), 0.0);
    assert!(trust(&g, &v2, 3) > 0.0);
}

#[test]
fn votes_are_weak_evidence_not_paths() {
    let mut g = graph(&[(0, 1, 100), (0, 2, 100)]);
    g.add_vote(&Vote {
        voter: k(1),
        target: k(3),
        value: 1,
        at_ms: 5,
        object: obj(5),
    })
    .unwrap();
    g.add_vote(&Vote {
        voter: k(1),
        target: k(2),
        value: -1,
        at_ms: 6,
        object: obj(6),
    })
    .unwrap();
    let v = view(&g, 0);
    assert_eq!(trust(&g, &v, 3), 0.0);
    let s3 = v.score(&g, &k(3)).unwrap();
    assert!(s3.positive > 0.0);
    // A vote weighs a tenth of a full attestation by the same rater (with as many ratings).
    let mut g2 = graph(&[(0, 1, 100), (0, 2, 100)]);
    g2.add_attestation(&att(1, 2, -100, 6)).unwrap();
    g2.add_vote(&Vote {
        voter: k(1),
        target: k(3),
        value: 1,
        at_ms: 5,
        object: obj(5),
    })
    .unwrap();
    let v2 = view(&g2, 0);
    let (weak, strong) = (
        v.score(&g, &k(2)).unwrap().negative,
        v2.score(&g2, &k(2)).unwrap().negative,
    );
    assert!((weak * 10.0 - strong).abs() < 1e-9, "{weak} {strong}");
}

#[test]
fn rotation_moves_trust_and_revocation_voids() {
    let g0 = graph(&[(0, 1, 100), (1, 2, 100)]);
    let before = trust(&g0, &view(&g0, 0), 1);
    let mut g = graph(&[(0, 1, 100), (1, 2, 100)]);
    g.add_rotation(&Rotation {
        old: k(1),
        new: k(9),
        at_ms: 50,
        object: obj(50),
    })
    .unwrap();
    let v = view(&g, 0);
    // Trust in the old key is now trust in the new key; the old key's earlier edges still count.
    assert!((trust(&g, &v, 9) - before).abs() < 1e-9);
    assert!(trust(&g, &v, 2) > 0.0);
    // The old key's edges dated after the rotation are void.
    g.add_attestation(&att(1, 3, 100, 60)).unwrap();
    assert_eq!(trust(&g, &view(&g, 0), 3), 0.0);
    // Revocation: 2's edges at or after T are void, earlier ones stand.
    let mut g = graph(&[(0, 2, 100), (2, 4, 100)]);
    g.add_attestation(&att(2, 5, 100, 100)).unwrap();
    g.add_revocation(&Revocation {
        key: k(2),
        since_ms: 100,
        object: obj(99),
    })
    .unwrap();
    let v = view(&g, 0);
    assert!(trust(&g, &v, 4) > 0.0);
    assert_eq!(trust(&g, &v, 5), 0.0);
}

/// A stream of key events costs one rebuild per batch, not one per event (issue 14: an
/// admitted author rotating keys in a chain must not buy a full rebuild per object), and the
/// deferred batch ends exactly where applying the events one by one ends.
#[test]
fn key_events_in_a_batch_rebuild_once_and_agree_with_one_by_one() {
    let mut rng = ChaCha8Rng::seed_from_u64(14);
    let edges = honest(300, 6, &mut rng);
    // A chain of rotations 1 -> 1001 -> 1002 -> ... -> 1050, revocations of 40 other keys,
    // attestations in between (some by keys rotated away in the same batch).
    enum Ev {
        Rot(Rotation),
        Rev(Revocation),
        Att(Attestation),
    }
    let apply = |g: &mut TrustGraph, e: &Ev| {
        match e {
            Ev::Rot(r) => g.add_rotation(r),
            Ev::Rev(r) => g.add_revocation(r),
            Ev::Att(a) => g.add_attestation(a),
        }
        .unwrap();
    };
    let mut events = Vec::new();
    for i in 0..50u32 {
        let old = if i == 0 { 1 } else { 1000 + i };
        let new = 1001 + i;
        events.push(Ev::Rot(Rotation {
            old: k(old),
            new: k(new),
            at_ms: 10_000 + u64::from(i),
            object: obj(900_000 + u64::from(i)),
        }));
        events.push(Ev::Att(att(new, 2 + i, 60, 20_000 + u64::from(i))));
    }
    for r in 0..40u32 {
        events.push(Ev::Rev(Revocation {
            key: k(100 + r),
            since_ms: 5,
            object: obj(800_000 + u64::from(r)),
        }));
    }
    let mut one_by_one = graph(&edges);
    let mut batched = graph(&edges);
    let (before_a, before_b) = (one_by_one.rebuilds(), batched.rebuilds());
    for e in &events {
        apply(&mut one_by_one, e);
    }
    batched.defer_rebuilds();
    for e in &events {
        apply(&mut batched, e);
    }
    assert!(batched.finish_deferred());
    assert_eq!(
        one_by_one.rebuilds() - before_a,
        90,
        "one rebuild per key event"
    );
    assert_eq!(
        batched.rebuilds() - before_b,
        1,
        "one rebuild for the batch"
    );
    // Nothing pending: finishing again does not rebuild.
    assert!(!batched.finish_deferred());
    assert_eq!(one_by_one.n_effective_edges(), batched.n_effective_edges());
    let (va, vb) = (view(&one_by_one, 0), view(&batched, 0));
    for i in (0..300).chain(1001..=1050) {
        let (a, b) = (trust(&one_by_one, &va, i), trust(&batched, &vb, i));
        assert!((a - b).abs() < 1e-12, "trust of {i}: {a} vs {b}");
    }
    // The chain moved key 1's trust to the chain's last key.
    assert!(trust(&batched, &vb, 1050) > 0.0);
}

#[test]
fn explanation_names_paths_objects_and_negative_evidence() {
    let edges = [
        (0, 1, 100),
        (1, 2, 80),
        (0, 3, 100),
        (3, 2, 60),
        (0, 4, 100),
        (4, 2, -100),
    ];
    let g = graph(&edges);
    let v = view(&g, 0);
    let e = v.explain(&g, &k(2)).unwrap();
    assert_eq!(e.subject, k(2));
    assert_eq!(e.paths.len(), 2);
    let p = &e.paths[0];
    assert_eq!(p.hops.len(), 2);
    assert_eq!(p.hops[0].from, k(0));
    assert_eq!(p.hops[1].to, k(2));
    // Each hop names the attestation it rests on.
    let first = edges
        .iter()
        .position(|&(a, b, _)| k(a) == p.hops[0].from && k(b) == p.hops[0].to)
        .unwrap();
    let (a, b, l) = edges[first];
    assert_eq!(p.hops[0].object, att(a, b, l, first as u64 + 1).object);
    assert!((p.strength - 0.5 / 3.0 * 0.5).abs() < 1e-9);
    assert_eq!(e.negative.len(), 1);
    assert_eq!(e.negative[0].rater, k(4));
    assert_eq!(e.negative[0].level, -100);
    assert_eq!(e.negative[0].kind, EvidenceKind::Attestation);
    assert_eq!(e.positive.len(), 2);
    assert!(e.score.negative > 0.0);
    // The subject's own distrust of the viewer is listed with the viewer's whole budget.
    let mut with = edges.to_vec();
    with.push((2, 0, -30));
    let g2 = graph(&with);
    let e2 = view(&g2, 0).explain(&g2, &k(2)).unwrap();
    let recip = e2
        .negative
        .iter()
        .find(|x| x.kind == EvidenceKind::DistrustOfViewer)
        .unwrap();
    assert_eq!(
        (recip.rater, recip.level, recip.rater_trust),
        (k(2), -30, 1.0)
    );
    assert!((recip.weight - 0.3).abs() < 1e-12);
    let listed: f64 = e2.negative.iter().map(|x| x.weight).sum();
    assert!((listed - e2.score.negative).abs() < 1e-12);
}

/// Validated objects feed the graph directly: an attestation chain gives the subject trust,
/// a revocation of the middle key voids its later attestation.
#[test]
fn signed_objects_feed_the_graph() {
    use vouch_identity::SecretKey;
    use vouch_reputation::{AttestBody, Body, Object, RevokeBody};
    let now = 1_767_225_600_000u64;
    let k = |n: u8| SecretKey::from_seed(&[n; 32]);
    let attest = |from: &SecretKey, to: &SecretKey, at: u64| {
        Object {
            author: from.public_key(),
            at,
            body: Body::Attest(AttestBody::new(to.public_key(), 90)),
        }
        .sign(from)
        .unwrap()
    };
    let (viewer, mid, far) = (k(1), k(2), k(3));
    let mut g = TrustGraph::new(None);
    g.set_now(now);
    g.apply_object(&attest(&viewer, &mid, now - 10)).unwrap();
    g.apply_object(&attest(&mid, &far, now - 5)).unwrap();
    let vb = *viewer.public_key().as_bytes();
    let fb = *far.public_key().as_bytes();
    let view = TrustView::compute(&g, &vb, &[], TrustParams::default());
    assert!(view.score(&g, &fb).is_some_and(|s| s.score > 0.0));
    // The middle key says it was compromised before it attested `far`.
    let revoke = Object {
        author: mid.public_key(),
        at: now - 1,
        body: Body::Revoke(RevokeBody {
            since: now - 6,
            reason: None,
        }),
    }
    .sign(&mid)
    .unwrap();
    g.apply_object(&revoke).unwrap();
    let view = TrustView::compute(&g, &vb, &[], TrustParams::default());
    assert!(!view.score(&g, &fb).is_some_and(|s| s.score > 0.0));
}
