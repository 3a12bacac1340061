//! A viewer's trust view: the flow of the viewer's trust budget along positive attestations
//! (synchronous rounds of forward push in fixed-point integers), one step of evidence with each
//! rater's evidence budgeted by its trust, the viewer's first-hand distrust passed one hop along
//! the distrusted keys' endorsements, scores, and incremental catch-up with the graph's changes.

use super::graph::{AuthorId, TrustGraph};
use super::KeyBytes;

/// One unit of trust budget in fixed point: the viewer's whole budget is `2^50`.
pub(crate) const ONE: i64 = 1 << 50;
const ALPHA_DEN: i64 = 1024;
const MAX_ROUNDS: u32 = 100_000;

/// Parameters of the metric. The defaults are the ones `specs/trust.md` argues for; the other
/// values reproduce the candidates the design was selected against (`vouch eval` options).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrustParams {
    /// Share of the mass arriving at an author that moves on along its positive attestations
    /// (the rest stays as the author's trust). Rounded to a multiple of 1/1024.
    pub alpha: f64,
    /// Resolution, as a share of the viewer's budget: an author pushes its pending mass on only
    /// while it is at least `epsilon` times its number of positive attestations.
    pub epsilon: f64,
    /// How a rater's retained trust is spent on its ratings (its evidence budget).
    pub budget: EvidenceBudget,
    /// How the prior's weight is set.
    pub prior: PriorRule,
    /// Benefit of the doubt, in typical ratings ([`TrustView::typical_rating`]; with
    /// [`PriorRule::Reached`], in priors): a reached author's score stays positive unless its
    /// negative evidence exceeds its positive evidence by at least `doubt` of them (1: the
    /// metric; 0: the metric before issue 15).
    pub doubt: f64,
    /// Whether the author's own trust (the flow) counts as positive evidence in its goodness
    /// (`true`: the metric, as before issue 15; `false`: only ratings are evidence and the
    /// flow gives reach, a candidate of the selection harness).
    pub flow_evidence: bool,
}

impl Default for TrustParams {
    fn default() -> Self {
        TrustParams {
            alpha: 0.5,
            epsilon: 1e-7,
            budget: EvidenceBudget::PerSign,
            prior: PriorRule::TypicalRating,
            doubt: 1.0,
            flow_evidence: true,
        }
    }
}

/// How a rater's retained trust `p` weighs its ratings (specs/trust.md, section 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EvidenceBudget {
    /// Split equally over its positive ratings, and again over its negative ratings: all its
    /// positive ratings together weigh `p`, all its negative ones `p`, however many keys it
    /// rates.
    PerSign,
    /// Split equally over all its ratings: together they weigh `p`.
    Shared,
    /// Every rating weighs `p` (no budget: the metric before issue 15).
    Off,
}

/// The weight of each positive and each negative rating of one rater.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Shares {
    pos: i64,
    neg: i64,
}

impl std::ops::Neg for Shares {
    type Output = Shares;
    fn neg(self) -> Shares {
        Shares {
            pos: -self.pos,
            neg: -self.neg,
        }
    }
}

/// The weight of the prior's pseudo-ratings (specs/trust.md, section 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PriorRule {
    /// One rating at level 1 by a typical rater of the view: a hundredth of the mean of
    /// `p[w] / n(w)` (a full rating's budgeted weight) over raters `w` drawn in proportion to
    /// the viewer's trust in them. Independent of the push resolution (the tail of tiny trust
    /// adds next to nothing) and of sybils' numbers (weighted by the trust they hold).
    TypicalRating,
    /// `1 / R`, `R` the number of authors holding at least what a push leaves behind (the
    /// metric before issue 15; depends on `epsilon`).
    Reached,
}

/// The view of one author from one viewer.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TrustScore {
    /// The trust score in [0, 1]: `reach * max(0, 2 * goodness - 1)` (1 for the viewer's roots;
    /// 0 for authors the viewer does not reach or whose evidence is at best balanced).
    pub score: f64,
    /// The viewer's estimate that the author is trustworthy, in (0, 1): positive evidence
    /// (trust and positive ratings) against negative evidence, with a prior of one rating each
    /// way by an average author of the view (specs/trust.md, section 4). 1/2 without any
    /// evidence; 1 for the viewer's roots.
    pub goodness: f64,
    /// Reach in [0, 1]: the author's share of the viewer's budget, relative to what a sole
    /// direct attestation from the viewer would give it, capped at 1.
    pub reach: f64,
    /// The author's share of the viewer's trust budget (sums to at most 1 over all authors).
    pub trust: f64,
    /// Positive evidence: sum over raters of (rater's trust x level / 100).
    pub positive: f64,
    /// Negative evidence: sum over raters of (rater's trust x |level| / 100), plus the author's
    /// distrust of the viewer and the viewer's distrust of keys that vouch for the author.
    pub negative: f64,
}

impl TrustScore {
    /// Whether the viewer has any signal about the author (trust or evidence).
    pub fn has_signal(&self) -> bool {
        self.trust > 0.0 || self.positive > 0.0 || self.negative > 0.0
    }

    /// The total order used to rank authors: `goodness - 1/2` for an author with a signal, 0
    /// without (above 0: the evidence leans positive; below 0: it leans negative).
    pub fn standing(&self) -> f64 {
        if self.has_signal() {
            self.goodness - 0.5
        } else {
            0.0
        }
    }
}

/// What an author holds of the viewer's budget.
#[derive(Debug, Clone, Copy, Default)]
struct Held {
    /// Retained trust.
    p: i64,
    /// Total mass pushed through the author (for incremental corrections).
    m: i64,
}

/// What arrives at an author, with what deciding whether it pushes needs, in one 32-byte
/// cell: a push touches one cache line per target.
#[derive(Debug, Clone, Copy, Default)]
#[repr(align(32))]
struct Cell {
    /// Pending (not yet pushed) mass.
    r: i64,
    /// Positive evidence, in units of ONE x level.
    pos: i64,
    /// Negative evidence, in units of ONE x level.
    neg: i64,
    /// The author's number of flow edges in the graph (a copy, kept with the graph's changes).
    n_flow: u32,
    /// Whether the author is listed in `next`.
    queued: bool,
}

/// One viewer's trust in every author reachable from its roots.
#[derive(Debug, Clone)]
pub struct TrustView {
    params: TrustParams,
    alpha_q: i64,
    theta: i64,
    viewer: KeyBytes,
    extra_roots: Vec<KeyBytes>,
    /// Canonical root ids, the viewer first.
    roots: Vec<u32>,
    epoch: u64,
    generation: u64,
    /// Retained trust and total pushed mass per author (side by side: a push reads both).
    held: Vec<Held>,
    /// Pending mass, evidence and push state per author.
    cells: Vec<Cell>,
    /// Negative evidence passed on from the viewer's first-hand distrust (guilt by
    /// endorsement), sorted by author: `(author, ONE x level)`.
    endorsed: Vec<(u32, i64)>,
    /// The keys the viewer distrusts first-hand (sources of `endorsed`), sorted.
    distrusted: Vec<u32>,
    /// Number of authors whose retained trust is at least `reach_min` (roots included).
    n_reached: usize,
    /// The least retained trust a full computation gives an author it pushes:
    /// `theta - theta * alpha_q / 1024`. Smaller amounts are incremental residue.
    reach_min: i64,
    /// Over non-root authors with at least one rating and `p > 0`: the sum of `p x share`
    /// (`share` the weight of each of its ratings, [`TrustView::rating_share`]) and the sum of
    /// `p`, exact integers, so the prior does not depend on the order of authors
    /// ([`PriorRule::TypicalRating`]).
    typical: (i128, i64),
    /// Authors queued for the next round of push: their pending mass reached the push
    /// threshold when it last changed (checked again when the round starts).
    next: Vec<u32>,
}

impl TrustView {
    /// Computes the view of `viewer`, whose roots are itself and `roots`, over `graph` at the
    /// graph's current time. The result depends only on the graph's effective edges, the roots
    /// and the parameters, never on the order in which records arrived.
    pub fn compute(
        graph: &TrustGraph,
        viewer: &KeyBytes,
        roots: &[KeyBytes],
        params: TrustParams,
    ) -> TrustView {
        let mut v = TrustView {
            params,
            alpha_q: ((params.alpha.clamp(0.0, 1.0) * ALPHA_DEN as f64).round() as i64)
                .clamp(0, ALPHA_DEN - 1),
            theta: ((params.epsilon.max(1e-15) * ONE as f64).ceil() as i64).max(1),
            viewer: *viewer,
            extra_roots: roots.to_vec(),
            roots: Vec::new(),
            epoch: 0,
            generation: 0,
            held: Vec::new(),
            cells: Vec::new(),
            endorsed: Vec::new(),
            distrusted: Vec::new(),
            n_reached: 0,
            reach_min: 0,
            typical: (0, 0),
            next: Vec::new(),
        };
        v.reach_min = (v.theta - v.theta * v.alpha_q / ALPHA_DEN).max(1);
        v.recompute(graph);
        v
    }

    /// The parameters the view was computed with.
    pub fn params(&self) -> TrustParams {
        self.params
    }

    /// Recomputes the whole view from the graph.
    pub fn recompute(&mut self, graph: &TrustGraph) {
        let n = graph.n_authors();
        self.epoch = graph.epoch();
        self.generation = graph.generation();
        self.held.clear();
        self.held.resize(n, Held::default());
        self.cells.clear();
        self.cells.extend((0..n as u32).map(|i| Cell {
            n_flow: graph.n_flow(i),
            ..Cell::default()
        }));
        self.next.clear();
        self.endorsed.clear();
        self.distrusted.clear();
        self.n_reached = 0;
        self.typical = (0, 0);
        // Roots: the viewer first, then the others in key order, canonical and distinct.
        let mut extra: Vec<KeyBytes> = self.extra_roots.clone();
        extra.sort_unstable();
        self.roots.clear();
        let viewer = graph
            .author_id(&self.viewer)
            .map(|id| graph.current_id(id).0);
        for id in viewer.into_iter().chain(
            extra
                .iter()
                .filter_map(|k| graph.author_id(k))
                .map(|id| graph.current_id(id).0),
        ) {
            if !self.roots.contains(&id) {
                self.roots.push(id);
            }
        }
        if viewer.is_none() {
            self.roots.clear();
            return;
        }
        self.give_to_roots(graph, ONE);
        self.run(graph, false);
        self.typical = (0, 0);
        for w in 0..n as u32 {
            let pw = self.held[w as usize].p;
            let (targets, levels, n_flow) = graph.row(w);
            if pw != 0 {
                let shares = self.shares(pw, levels, n_flow);
                self.add_evidence(targets, levels, shares);
                self.add_typical(w, pw, targets.len(), 1);
            }
            self.reciprocal_distrust(
                &targets[n_flow as usize..],
                &levels[n_flow as usize..],
                w,
                1,
            );
        }
        self.rebuild_endorsed(graph);
    }

    /// Guilt by endorsement: the viewer's first-hand distrust of a key `r` (its own negative
    /// attestations and votes, weight `ONE x |level|`, as for negative reciprocity) passes one
    /// hop along `r`'s positive attestations, the way trust would: a share `alpha`, split
    /// equally. It never goes further, and distrust by anyone but the viewer is not passed on.
    fn rebuild_endorsed(&mut self, graph: &TrustGraph) {
        self.endorsed.clear();
        self.distrusted.clear();
        let Some(&viewer) = self.roots.first() else {
            return;
        };
        let (targets, levels, n_flow) = graph.row(viewer);
        let nf = n_flow as usize;
        let n_neg = self.endorsement_split(levels, n_flow);
        for (&r, &l) in targets[nf..].iter().zip(&levels[nf..]) {
            if l >= 0 {
                continue;
            }
            self.distrusted.push(r);
            let (rt, _, rf) = graph.row(r);
            if rf == 0 {
                continue;
            }
            // ONE is a multiple of ALPHA_DEN: exact, and far from overflow (< 2^57).
            let per = ONE / ALPHA_DEN * self.alpha_q * i64::from(l.unsigned_abs())
                / i64::from(rf)
                / n_neg;
            for &v in &rt[..rf as usize] {
                if v != viewer {
                    self.endorsed.push((v, per));
                }
            }
        }
        self.distrusted.sort_unstable();
        self.endorsed.sort_unstable_by_key(|x| x.0);
        // Merge the shares of one author (sums, so the order above does not matter).
        let mut merged: Vec<(u32, i64)> = Vec::with_capacity(self.endorsed.len());
        for &(v, x) in &self.endorsed {
            match merged.last_mut() {
                Some(last) if last.0 == v => last.1 += x,
                _ => merged.push((v, x)),
            }
        }
        self.endorsed = merged;
    }

    /// What the viewer's first-hand distrust of one key is divided by before it passes on:
    /// with an evidence budget, the viewer's number of negative ratings (its distrust is
    /// budgeted like any rater's: the whole budget split over its negative ratings), else 1.
    pub(crate) fn endorsement_split(&self, levels: &[i8], n_flow: u32) -> i64 {
        match self.params.budget {
            EvidenceBudget::Off => 1,
            _ => levels[n_flow as usize..]
                .iter()
                .filter(|&&l| l < 0)
                .count()
                .max(1) as i64,
        }
    }

    /// Negative evidence about `id` passed on by the viewer's first-hand distrust.
    pub(crate) fn endorsed_by_distrusted(&self, id: u32) -> i64 {
        self.endorsed
            .binary_search_by_key(&id, |x| x.0)
            .map_or(0, |i| self.endorsed[i].1)
    }

    /// The weight of each positive and each negative rating of an author with retained trust
    /// `p` and the row `levels` (its first `n_flow` are flow edges, all positive).
    #[inline]
    fn shares(&self, p: i64, levels: &[i8], n_flow: u32) -> Shares {
        match self.params.budget {
            EvidenceBudget::Off => Shares { pos: p, neg: p },
            EvidenceBudget::Shared => {
                let x = p / levels.len().max(1) as i64;
                Shares { pos: x, neg: x }
            }
            EvidenceBudget::PerSign => {
                let nf = n_flow as usize;
                let n_pos = nf + levels[nf..].iter().filter(|&&l| l > 0).count();
                let n_neg = levels.len() - n_pos;
                Shares {
                    pos: p / n_pos.max(1) as i64,
                    neg: p / n_neg.max(1) as i64,
                }
            }
        }
    }

    /// The weight of one rating for the prior: the rater's trust split over all its `n`
    /// ratings (`p` without a budget).
    #[inline]
    fn typical_share(&self, p: i64, n: usize) -> i64 {
        if self.params.budget == EvidenceBudget::Off {
            p
        } else {
            p / n.max(1) as i64
        }
    }

    /// Adds (`sign = 1`) or removes (`sign = -1`) author `w`'s part of the typical rating
    /// weight, for retained trust `p` and `n` ratings (roots, authors without ratings and
    /// authors without positive trust have none).
    #[inline]
    fn add_typical(&mut self, w: u32, p: i64, n: usize, sign: i64) {
        if n == 0 || p <= 0 || self.roots.contains(&w) {
            return;
        }
        let share = self.typical_share(p, n);
        self.typical.0 += i128::from(sign) * i128::from(p) * i128::from(share);
        self.typical.1 += sign * p;
    }

    /// Adds `x` to the retained trust of `w` (which has `n` ratings), keeping the count of
    /// reached authors and the typical rating weight.
    #[inline]
    fn add_retained_rated(&mut self, w: usize, x: i64, n: usize) {
        let p = self.held[w].p;
        self.add_typical(w as u32, p, n, -1);
        self.add_retained(w, x);
        self.add_typical(w as u32, p + x, n, 1);
    }

    /// Adds `x` to the retained trust of `w`, keeping the count of reached authors.
    #[inline]
    fn add_retained(&mut self, w: usize, x: i64) {
        let before = self.held[w].p >= self.reach_min;
        self.held[w].p += x;
        let after = self.held[w].p >= self.reach_min;
        if before != after {
            if after {
                self.n_reached += 1;
            } else {
                self.n_reached -= 1;
            }
        }
    }

    /// Negative reciprocity: if author `w`'s evidence edges (`targets`, `levels`, without its
    /// flow edges, sorted by target) distrust the viewer, adds (`sign = 1`) or removes
    /// (`sign = -1`) `ONE * |level|` of negative evidence about `w`: the viewer's whole budget,
    /// as if the viewer had distrusted `w` at that level. Positive attestations of the viewer
    /// are never counted (any key could make them).
    fn reciprocal_distrust(&mut self, targets: &[u32], levels: &[i8], w: u32, sign: i64) {
        let Some(&viewer) = self.roots.first() else {
            return;
        };
        if let Ok(i) = targets.binary_search(&viewer) {
            if let Some(&l) = levels.get(i) {
                if l < 0 {
                    self.cells[w as usize].neg += sign * ONE * i64::from(l.unsigned_abs());
                }
            }
        }
    }

    /// Brings the view up to date with the graph: applies the graph's row changes since the
    /// view was computed by local corrections, or recomputes in full if the graph was rebuilt
    /// (rotation, revocation, expiry) or the view fell too far behind.
    pub fn update(&mut self, graph: &TrustGraph) {
        if self.epoch != graph.epoch() || self.roots.is_empty() {
            return self.recompute(graph);
        }
        let n = graph.n_authors();
        self.held.resize(n, Held::default());
        self.cells.resize(n, Cell::default());
        let Some(changes) = graph.changes_since(self.generation) else {
            return self.recompute(graph);
        };
        let changes: Vec<_> = changes.cloned().collect();
        self.generation = graph.generation();
        // The degrees first: the corrections below test thresholds against the current graph.
        for ch in &changes {
            self.cells[ch.author as usize].n_flow = ch.after.n_flow;
        }
        let viewer = self.roots.first().copied();
        let endorsements_changed = changes.iter().any(|ch| {
            Some(ch.author) == viewer || self.distrusted.binary_search(&ch.author).is_ok()
        });
        for ch in &changes {
            let u = ch.author as usize;
            let (b, a) = (ch.before.n_flow as usize, ch.after.n_flow as usize);
            self.reciprocal_distrust(
                &ch.before.targets[b..],
                &ch.before.levels[b..],
                ch.author,
                -1,
            );
            self.reciprocal_distrust(&ch.after.targets[a..], &ch.after.levels[a..], ch.author, 1);
            let pu = self.held[u].p;
            let (n_before, n_after) = (ch.before.targets.len(), ch.after.targets.len());
            if pu != 0 {
                let old = self.shares(pu, &ch.before.levels, ch.before.n_flow);
                let new = self.shares(pu, &ch.after.levels, ch.after.n_flow);
                self.add_evidence(&ch.before.targets, &ch.before.levels, -old);
                self.add_evidence(&ch.after.targets, &ch.after.levels, new);
                self.add_typical(ch.author, pu, n_before, -1);
                self.add_typical(ch.author, pu, n_after, 1);
            }
            let fwd = self.held[u].m * self.alpha_q / ALPHA_DEN;
            if fwd != 0 {
                let rem_before = self.spread(graph, -fwd, &ch.before.targets, ch.before.n_flow);
                let rem_after = self.spread(graph, fwd, &ch.after.targets, ch.after.n_flow);
                let dp = rem_before + rem_after;
                if dp != 0 {
                    self.add_retained_rated(u, dp, n_after);
                    let shares = self.shares(dp, &ch.after.levels, ch.after.n_flow);
                    self.add_evidence(&ch.after.targets, &ch.after.levels, shares);
                }
            }
        }
        self.run(graph, true);
        if endorsements_changed {
            self.rebuild_endorsed(graph);
        }
    }

    /// The score of author `id` (use [`TrustGraph::current_id`] for rotated keys).
    pub fn score_id(&self, id: AuthorId) -> TrustScore {
        let i = id.0 as usize;
        if i >= self.held.len() {
            return TrustScore::default();
        }
        let one = ONE as f64;
        let a = self.params.alpha;
        let trust = self.held[i].p.max(0) as f64 / one;
        let positive = self.cells[i].pos.max(0) as f64 / one / 100.0;
        let negative =
            (self.cells[i].neg + self.endorsed_by_distrusted(id.0)).max(0) as f64 / one / 100.0;
        let scale = (a * (1.0 - a)).max(1e-12);
        let is_root = self.roots.contains(&id.0);
        let (reach, goodness, score) = if is_root {
            (1.0, 1.0, 1.0)
        } else {
            let (prior, margin) = (self.prior(), self.params.doubt * self.prior_unit());
            let good = if self.params.flow_evidence {
                trust + positive
            } else {
                positive
            };
            let total = good + negative + 2.0 * prior;
            let goodness = (good + prior) / total;
            let reach = (trust / scale).min(1.0);
            // `2 goodness - 1`, plus the benefit of the doubt: positive unless the negative
            // evidence outweighs the positive by more than `doubt` pseudo-ratings.
            let lean = (good - negative + margin) / total;
            (reach, goodness, reach * lean.clamp(0.0, 1.0))
        };
        TrustScore {
            score,
            goodness,
            reach,
            trust,
            positive,
            negative,
        }
    }

    /// The weight of the prior on each side of an author's goodness (see [`PriorRule`]): with
    /// [`PriorRule::TypicalRating`], one rating at level 1 (the weakest statement a rating can
    /// make) by a typical rater, a hundredth of [`TrustView::typical_rating`].
    pub fn prior(&self) -> f64 {
        match self.params.prior {
            PriorRule::TypicalRating => self.typical_rating() / 100.0,
            PriorRule::Reached => self.reached_prior(),
        }
    }

    /// The unit of the benefit of the doubt: one full-level rating by a typical rater (with
    /// [`PriorRule::TypicalRating`]), else the prior.
    fn prior_unit(&self) -> f64 {
        match self.params.prior {
            PriorRule::TypicalRating => self.typical_rating(),
            PriorRule::Reached => self.reached_prior(),
        }
    }

    /// The weight of one full-level rating by a typical rater of the view: the mean, over
    /// raters drawn in proportion to the viewer's trust in them (roots excluded), of their
    /// trust split over their ratings. Without such a rater, `1 / R` (see
    /// [`PriorRule::Reached`]).
    pub fn typical_rating(&self) -> f64 {
        if self.typical.1 > 0 {
            // sum(p x share) / sum(p), in units of the budget.
            return self.typical.0 as f64 / self.typical.1 as f64 / ONE as f64;
        }
        self.reached_prior()
    }

    /// `1 / R` where `R` is the number of authors other than the roots that hold at least the
    /// trust a push leaves behind, `theta - theta * alpha_q / 1024` (at least 1).
    fn reached_prior(&self) -> f64 {
        let roots_reached = self
            .roots
            .iter()
            .filter(|&&r| {
                self.held
                    .get(r as usize)
                    .is_some_and(|x| x.p >= self.reach_min)
            })
            .count();
        1.0 / self.n_reached.saturating_sub(roots_reached).max(1) as f64
    }

    /// The score of `key` (following rotations), or `None` if the graph has never seen it.
    pub fn score(&self, graph: &TrustGraph, key: &KeyBytes) -> Option<TrustScore> {
        let id = graph.author_id(key)?;
        Some(self.score_id(graph.current_id(id)))
    }

    /// Every author with a signal, in key order, with its score.
    pub fn scores(&self, graph: &TrustGraph) -> Vec<(KeyBytes, TrustScore)> {
        let mut out: Vec<(KeyBytes, TrustScore)> = (0..self.held.len() as u32)
            .filter_map(|i| {
                let s = self.score_id(AuthorId(i));
                let key = graph.key(AuthorId(i))?;
                s.has_signal().then_some((*key, s))
            })
            .collect();
        out.sort_unstable_by_key(|a| a.0);
        out
    }

    /// The canonical ids of the view's roots, the viewer first.
    pub fn roots(&self) -> Vec<AuthorId> {
        self.roots.iter().map(|&r| AuthorId(r)).collect()
    }

    pub(crate) fn retained(&self, id: u32) -> i64 {
        self.held.get(id as usize).map_or(0, |x| x.p)
    }

    /// Heap bytes held by the view.
    pub fn heap_bytes(&self) -> usize {
        self.held.capacity() * 16
            + self.cells.capacity() * 32
            + self.next.capacity() * 4
            + self.endorsed.capacity() * 16
            + self.distrusted.capacity() * 4
    }

    fn add_evidence(&mut self, targets: &[u32], levels: &[i8], shares: Shares) {
        for (&t, &l) in targets.iter().zip(levels) {
            let c = &mut self.cells[t as usize];
            if l > 0 {
                c.pos += shares.pos * i64::from(l);
            } else {
                c.neg += shares.neg * i64::from(l.unsigned_abs());
            }
        }
    }

    /// Adds `x` to the pending mass of `t`, and queues `t` for the next round if that mass
    /// reaches its push threshold `theta * max(1, d(t))`.
    #[inline]
    fn add_pending(&mut self, graph: &TrustGraph, t: u32, x: i64) {
        self.cells[t as usize].r += x;
        self.queue_if_due(graph, t);
    }

    /// Queues `t` for the next round if its pending mass reaches its push threshold.
    #[inline]
    fn queue_if_due(&mut self, graph: &TrustGraph, t: u32) {
        let i = t as usize;
        let c = &mut self.cells[i];
        debug_assert_eq!(c.n_flow, graph.n_flow(t));
        if !c.queued && c.r.abs() >= self.theta * i64::from(c.n_flow.max(1)) {
            c.queued = true;
            self.next.push(t);
        }
    }

    /// One push along flow edges (positive attestations, `levels > 0`): adds `per` to each
    /// target's pending mass (queueing it when that reaches its threshold, unless `per` is 0)
    /// and `ev x level` to its positive evidence, touching each target's cell once.
    #[inline]
    fn push_flow(&mut self, graph: &TrustGraph, targets: &[u32], levels: &[i8], per: i64, ev: i64) {
        for (&t, &l) in targets.iter().zip(levels) {
            debug_assert!(l > 0);
            let c = &mut self.cells[t as usize];
            c.r += per;
            c.pos += ev * i64::from(l);
            if per != 0 {
                self.queue_if_due(graph, t);
            }
        }
    }

    /// Splits `x` among the roots (the viewer takes the rounding remainder).
    fn give_to_roots(&mut self, graph: &TrustGraph, x: i64) {
        let k = self.roots.len() as i64;
        if k == 0 {
            return;
        }
        let per = x / k;
        for i in 0..self.roots.len() {
            let root = self.roots[i];
            self.add_pending(graph, root, if i == 0 { x - per * (k - 1) } else { per });
        }
    }

    /// Adds `x` spread over the first `n_flow` targets (or to the roots if there are none);
    /// returns the rounding remainder, which the pushing author retains.
    fn spread(&mut self, graph: &TrustGraph, x: i64, targets: &[u32], n_flow: u32) -> i64 {
        if n_flow == 0 {
            self.give_to_roots(graph, x);
            return 0;
        }
        let per = x / i64::from(n_flow);
        if per != 0 {
            for &t in &targets[..n_flow as usize] {
                self.add_pending(graph, t, per);
            }
        }
        x - per * i64::from(n_flow)
    }

    /// Synchronous rounds of push: every author of the round (queued in the previous step,
    /// and still at or above its threshold) takes its pending mass at the start of the round,
    /// keeps `mass - fwd` and spreads `fwd = mass * alpha` over its positive attestations (or
    /// back to the roots if it has none).
    ///
    /// In an `incremental` run the evidence rows of each pushing author take the change of its
    /// retained trust at once; a full computation adds all evidence afterwards.
    fn run(&mut self, graph: &TrustGraph, incremental: bool) {
        let mut frontier: Vec<u32> = Vec::new();
        let mut masses: Vec<i64> = Vec::new();
        let mut rows: Vec<(&[u32], &[i8], u32)> = Vec::new();
        // Per author of the round: (mass passed on, share per flow edge, change of retained
        // trust to add to its evidence rows now, or 0).
        let mut pushes: Vec<(i64, i64, Shares)> = Vec::new();
        let mut rounds = 0;
        while !self.next.is_empty() && rounds < MAX_ROUNDS {
            rounds += 1;
            frontier.clear();
            std::mem::swap(&mut frontier, &mut self.next);
            masses.clear();
            let theta = self.theta;
            frontier.retain(|&w| {
                let c = &mut self.cells[w as usize];
                c.queued = false;
                let keep = c.r.abs() >= theta * i64::from(c.n_flow.max(1));
                if keep {
                    masses.push(std::mem::take(&mut c.r));
                }
                keep
            });
            // The round in passes over the frontier, each with a short body, so that the
            // processor overlaps the cache misses of many authors (a push is a chain of
            // dependent loads: row bounds, then targets, then their cells).
            rows.clear();
            rows.extend(frontier.iter().map(|&w| graph.row(w)));
            // Loads without branches on their values, so that many misses are in flight at
            // once; the passes below then find rows and cells in the cache.
            let mut touch = 0u64;
            for (&w, &(targets, levels, _)) in frontier.iter().zip(&rows) {
                touch = touch.wrapping_add(targets.first().map_or(0, |&t| u64::from(t)));
                touch = touch.wrapping_add(levels.first().map_or(0, |&l| l as u64));
                touch = touch.wrapping_add(self.held[w as usize].p as u64);
            }
            std::hint::black_box(touch);
            pushes.clear();
            for ((&w, &mass), &(targets, levels, n_flow)) in frontier.iter().zip(&masses).zip(&rows)
            {
                let fwd = mass * self.alpha_q / ALPHA_DEN;
                // What the split leaves over (the rounding remainder) stays with `w`.
                let (per, rem) = match i64::from(n_flow) {
                    0 => (0, 0),
                    d => (fwd / d, fwd - fwd / d * d),
                };
                let kept = mass - fwd + rem;
                let i = w as usize;
                self.held[i].m += mass;
                let ev = if incremental {
                    self.add_retained_rated(i, kept, targets.len());
                    self.shares(kept, levels, n_flow)
                } else {
                    self.add_retained(i, kept);
                    Shares { pos: 0, neg: 0 }
                };
                pushes.push((fwd, per, ev));
            }
            for (&(fwd, per, ev), &(targets, levels, n_flow)) in pushes.iter().zip(&rows) {
                let nf = n_flow as usize;
                if nf == 0 {
                    self.give_to_roots(graph, fwd);
                } else {
                    self.push_flow(graph, &targets[..nf], &levels[..nf], per, ev.pos);
                }
                if ev != (Shares { pos: 0, neg: 0 }) {
                    self.add_evidence(&targets[nf..], &levels[nf..], ev);
                }
            }
        }
        // Only if the bound on rounds was hit.
        for &w in &self.next {
            self.cells[w as usize].queued = false;
        }
        self.next.clear();
    }
}
