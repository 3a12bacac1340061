//! Explanations: the strongest trust paths from the viewer's roots to an author, with the
//! objects on each hop, and the evidence (positive and negative) behind the score.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::graph::{AuthorId, EdgeKind, TrustGraph};
use super::view::{EvidenceBudget, TrustScore, TrustView, ONE};
use super::{KeyBytes, ObjectDigest};

/// Paths returned by [`TrustView::explain`] at most.
const MAX_PATHS: usize = 3;
/// Evidence items of each sign returned at most.
const MAX_EVIDENCE: usize = 10;

/// One hop of a trust path: `from` attested `to` at `level` in object `object`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathHop {
    /// The attesting key (the key that signed `object`).
    pub from: KeyBytes,
    /// The subject of the attestation (after rotations).
    pub to: KeyBytes,
    /// The attestation's level.
    pub level: i8,
    /// The attestation's object id.
    pub object: ObjectDigest,
}

/// A chain of positive attestations from one of the viewer's roots to the subject.
#[derive(Debug, Clone, PartialEq)]
pub struct TrustPath {
    /// The hops, from the root to the subject.
    pub hops: Vec<PathHop>,
    /// Share of the root's budget that travels along exactly this path:
    /// the product over hops of `alpha / number of positive attestations of the hop's author`.
    pub strength: f64,
}

/// What kind of record a piece of evidence is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EvidenceKind {
    /// An attestation.
    Attestation,
    /// A vote.
    Vote,
    /// The subject's own distrust of the viewer (negative reciprocity): `rater` is the subject,
    /// `rater_trust` is 1 (the viewer's whole budget: the statement is about the viewer).
    DistrustOfViewer,
    /// A key the viewer distrusts first-hand vouches for the subject (guilt by endorsement):
    /// `rater` is that key, `level` the viewer's level for it, `rater_trust` 0, `object` the
    /// key's attestation of the subject.
    EndorsedByDistrusted,
}

/// One rating of the subject, weighed by the viewer's trust in the rater.
#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    /// The rating key (as it signed `object`).
    pub rater: KeyBytes,
    /// The level (votes count as +-10).
    pub level: i8,
    /// The viewer's trust in the rater (share of the budget).
    pub rater_trust: f64,
    /// Its weight in the score: `rater_trust / n * |level| / 100` where `n` is the rater's
    /// number of ratings (its evidence budget, split); for
    /// [`EvidenceKind::EndorsedByDistrusted`], `alpha * |level| / 100 / n` where `n` is the
    /// number of keys the distrusted key vouches for.
    pub weight: f64,
    /// Attestation or vote.
    pub kind: EvidenceKind,
    /// The record's object id.
    pub object: ObjectDigest,
}

/// Why a viewer trusts an author as much as it does.
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    /// The author explained (after rotations).
    pub subject: KeyBytes,
    /// Its score.
    pub score: TrustScore,
    /// The strongest paths, strongest first, each through a different last rater.
    pub paths: Vec<TrustPath>,
    /// The heaviest positive evidence, heaviest first.
    pub positive: Vec<Evidence>,
    /// The heaviest negative evidence, heaviest first: what lowered the score.
    pub negative: Vec<Evidence>,
}

impl TrustView {
    /// Explains the view's score of `subject`, or `None` if the graph has never seen it.
    /// Costs a shortest-path search over the graph: meant for one author at a time.
    pub fn explain(&self, graph: &TrustGraph, subject: &KeyBytes) -> Option<Explanation> {
        let s = graph.current_id(graph.author_id(subject)?).0;
        let n = graph.n_authors();
        let alpha = self.params().alpha;
        // Dijkstra on cost = -ln(alpha / n_flow(author)) per hop, ties broken by id.
        let mut dist = vec![f64::INFINITY; n];
        let mut prev = vec![u32::MAX; n];
        let mut heap = BinaryHeap::new();
        for r in self.roots() {
            dist[r.0 as usize] = 0.0;
            heap.push(Reverse((0u64, r.0)));
        }
        while let Some(Reverse((d_bits, u))) = heap.pop() {
            let d = f64::from_bits(d_bits);
            if d > dist[u as usize] || u == s {
                continue;
            }
            let (targets, _, n_flow) = graph.row(u);
            let step = -(alpha / f64::from(n_flow.max(1))).ln();
            for &t in &targets[..n_flow as usize] {
                let nd = d + step;
                if nd < dist[t as usize] {
                    dist[t as usize] = nd;
                    prev[t as usize] = u;
                    heap.push(Reverse((nd.to_bits(), t)));
                }
            }
        }
        // Every rater of the subject, by scanning rows (no reverse index is kept).
        let mut ends: Vec<(f64, u32)> = Vec::new();
        let mut positive = Vec::new();
        let mut negative = Vec::new();
        let viewer = self.roots().first().map(|r| r.0);
        let (viewer_targets, viewer_levels, viewer_flow) =
            viewer.map_or((&[][..], &[][..], 0), |v| graph.row(v));
        let viewer_flow = viewer_flow as usize;
        for w in 0..n as u32 {
            let (targets, levels, n_flow) = graph.row(w);
            let nf = n_flow as usize;
            let i = match targets[..nf].binary_search(&s) {
                Ok(i) => i,
                Err(_) => match targets[nf..].binary_search(&s) {
                    Ok(j) => j + nf,
                    Err(_) => continue,
                },
            };
            let level = levels[i];
            if i < nf && dist[w as usize].is_finite() {
                let cost = dist[w as usize] - (alpha / f64::from(n_flow.max(1))).ln();
                ends.push((cost, w));
            }
            // Guilt by endorsement: the viewer distrusts `w` first-hand and `w` vouches for s.
            let distrust = viewer_targets[viewer_flow..]
                .binary_search(&w)
                .ok()
                .map(|j| viewer_levels[viewer_flow + j])
                .filter(|&l| l < 0);
            if let (Some(vl), true, Some(v)) = (distrust, i < nf, viewer) {
                if s != v {
                    if let Some((_, e)) = graph.effective_edge(w, s) {
                        negative.push(Evidence {
                            rater: graph.key(AuthorId(w)).copied().unwrap_or([0; 32]),
                            level: vl,
                            rater_trust: 0.0,
                            weight: alpha * f64::from(vl.unsigned_abs())
                                / 100.0
                                / f64::from(n_flow.max(1))
                                / self.endorsement_split(viewer_levels, viewer_flow as u32) as f64,
                            kind: EvidenceKind::EndorsedByDistrusted,
                            object: e.object,
                        });
                    }
                }
            }
            let rt = self.retained(w);
            if rt <= 0 {
                continue;
            }
            let Some((raw, e)) = graph.effective_edge(w, s) else {
                continue;
            };
            let rater_trust = rt as f64 / ONE as f64;
            // The rater's evidence budget split over its ratings of the same sign (or all of
            // them), specs/trust.md section 3.
            let n_pos = nf + levels[nf..].iter().filter(|&&l| l > 0).count();
            let share = match self.params().budget {
                EvidenceBudget::Off => 1.0,
                EvidenceBudget::Shared => targets.len().max(1) as f64,
                EvidenceBudget::PerSign if level > 0 => n_pos.max(1) as f64,
                EvidenceBudget::PerSign => (targets.len() - n_pos).max(1) as f64,
            };
            let ev = Evidence {
                rater: graph.key(AuthorId(raw)).copied().unwrap_or([0; 32]),
                level,
                rater_trust,
                weight: rater_trust / share * f64::from(level.unsigned_abs()) / 100.0,
                kind: if e.kind == EdgeKind::Vote {
                    EvidenceKind::Vote
                } else {
                    EvidenceKind::Attestation
                },
                object: e.object,
            };
            if level > 0 {
                positive.push(ev);
            } else {
                negative.push(ev);
            }
        }
        // Negative reciprocity: the subject distrusts the viewer.
        if let Some(v) = viewer.filter(|&v| v != s) {
            if let Some((raw, e)) = graph.effective_edge(s, v).filter(|(_, e)| e.level < 0) {
                negative.push(Evidence {
                    rater: graph.key(AuthorId(raw)).copied().unwrap_or([0; 32]),
                    level: e.level,
                    rater_trust: 1.0,
                    weight: f64::from(e.level.unsigned_abs()) / 100.0,
                    kind: EvidenceKind::DistrustOfViewer,
                    object: e.object,
                });
            }
        }
        ends.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let paths = ends
            .iter()
            .take(MAX_PATHS)
            .map(|&(cost, last)| {
                let mut nodes = vec![s, last];
                let mut at = last;
                while prev[at as usize] != u32::MAX && nodes.len() <= n {
                    at = prev[at as usize];
                    nodes.push(at);
                }
                nodes.reverse();
                let hops = nodes
                    .windows(2)
                    .map(|pair| {
                        let (raw, level, object) = graph
                            .effective_edge(pair[0], pair[1])
                            .map(|(raw, e)| (raw, e.level, e.object))
                            .unwrap_or((pair[0], 0, [0; 32]));
                        PathHop {
                            from: graph.key(AuthorId(raw)).copied().unwrap_or([0; 32]),
                            to: graph.key(AuthorId(pair[1])).copied().unwrap_or([0; 32]),
                            level,
                            object,
                        }
                    })
                    .collect();
                TrustPath {
                    hops,
                    strength: (-cost).exp(),
                }
            })
            .collect();
        let by_weight =
            |a: &Evidence, b: &Evidence| b.weight.total_cmp(&a.weight).then(a.rater.cmp(&b.rater));
        positive.sort_by(by_weight);
        negative.sort_by(by_weight);
        positive.truncate(MAX_EVIDENCE);
        negative.truncate(MAX_EVIDENCE);
        Some(Explanation {
            subject: *graph.key(AuthorId(s))?,
            score: self.score_id(AuthorId(s)),
            paths,
            positive,
            negative,
        })
    }
}
