//! The baselines: personalized PageRank over positive edges (by plain power iteration, or by
//! forward push for the per-viewer evaluations), and the same minus one step of distrust
//! (Guha et al., WWW 2004).

/// Personalized PageRank over the positive edges (uniform split, dangling mass back to the
/// viewer), by power iteration until the L1 change is below `tol`.
#[derive(Debug, Clone)]
pub(crate) struct PowerIteration {
    n: usize,
    off: Vec<u32>,
    targets: Vec<u32>,
    /// Negative ratings as (rater, rated) rows, for the distrust step.
    neg_off: Vec<u32>,
    neg_targets: Vec<u32>,
    /// All ratings per rater (for normalizing the distrust step).
    out_all: Vec<u32>,
}

impl PowerIteration {
    /// Builds the adjacency of `n` nodes.
    pub(crate) fn new(n: usize, edges: impl Iterator<Item = (u32, u32, i8)> + Clone) -> Self {
        let csr = |pred: fn(i8) -> bool| {
            let mut deg = vec![0u32; n + 1];
            for (a, _, l) in edges.clone() {
                if pred(l) {
                    deg[a as usize + 1] += 1;
                }
            }
            for i in 0..n {
                deg[i + 1] += deg[i];
            }
            let mut fill = deg.clone();
            let mut t = vec![0u32; deg[n] as usize];
            for (a, b, l) in edges.clone() {
                if pred(l) {
                    t[fill[a as usize] as usize] = b;
                    fill[a as usize] += 1;
                }
            }
            (deg, t)
        };
        let (off, targets) = csr(|l| l > 0);
        let (neg_off, neg_targets) = csr(|l| l < 0);
        let mut out_all = vec![0u32; n];
        for (a, _, _) in edges {
            out_all[a as usize] += 1;
        }
        PowerIteration {
            n,
            off,
            targets,
            neg_off,
            neg_targets,
            out_all,
        }
    }

    /// Personalized PageRank from `viewer` with damping `alpha`; returns the scores and the
    /// number of iterations.
    pub(crate) fn ppr(&self, viewer: u32, alpha: f64, tol: f64, max_iter: u32) -> (Vec<f64>, u32) {
        let n = self.n;
        let mut x = vec![0.0; n];
        x[viewer as usize] = 1.0;
        let mut y = vec![0.0; n];
        let mut iters = 0;
        while iters < max_iter {
            iters += 1;
            y.iter_mut().for_each(|v| *v = 0.0);
            let mut back = 1.0 - alpha;
            for (u, &xu) in x.iter().enumerate() {
                if xu == 0.0 {
                    continue;
                }
                let (a, b) = (self.off[u] as usize, self.off[u + 1] as usize);
                if a == b {
                    back += alpha * xu;
                    continue;
                }
                let share = alpha * xu / (b - a) as f64;
                for &t in &self.targets[a..b] {
                    y[t as usize] += share;
                }
            }
            y[viewer as usize] += back;
            let diff: f64 = x.iter().zip(&y).map(|(a, b)| (a - b).abs()).sum();
            std::mem::swap(&mut x, &mut y);
            if diff < tol {
                break;
            }
        }
        (x, iters)
    }

    /// Personalized PageRank from `viewer` with damping `alpha` by forward push (Andersen,
    /// Chung and Lang, 2006): a node pushes while its residual is at least `eps` times its
    /// out-degree, so the work follows the region the viewer reaches, not the whole graph;
    /// each node's value is within `eps x degree` of the power iteration's fixed point.
    /// Dangling mass goes back to the viewer, as in [`PowerIteration::ppr`].
    pub(crate) fn ppr_push(&self, viewer: u32, alpha: f64, eps: f64) -> Vec<f64> {
        let n = self.n;
        let mut p = vec![0.0; n];
        let mut r = vec![0.0; n];
        let mut queued = vec![false; n];
        let mut queue = std::collections::VecDeque::new();
        let due = |r: f64, deg: usize| r >= eps * deg.max(1) as f64;
        r[viewer as usize] = 1.0;
        queue.push_back(viewer);
        queued[viewer as usize] = true;
        let mut pushes = 0u64;
        while let Some(u) = queue.pop_front() {
            let ui = u as usize;
            queued[ui] = false;
            let (a, b) = (self.off[ui] as usize, self.off[ui + 1] as usize);
            let ru = std::mem::take(&mut r[ui]);
            p[ui] += (1.0 - alpha) * ru;
            pushes += 1;
            // A bound against a pathological loop: far more pushes than any real graph needs.
            if pushes > 1 << 34 {
                break;
            }
            let targets: &[u32] = if a == b {
                std::slice::from_ref(&viewer)
            } else {
                &self.targets[a..b]
            };
            let share = alpha * ru / targets.len() as f64;
            for &t in targets {
                let ti = t as usize;
                r[ti] += share;
                let deg = (self.off[ti + 1] - self.off[ti]) as usize;
                if !queued[ti] && due(r[ti], deg) {
                    queued[ti] = true;
                    queue.push_back(t);
                }
            }
        }
        p
    }

    /// One step of distrust after trust propagation: `d(v) = sum over raters r of
    /// ppr(r) / ratings(r)` over r's negative ratings of v.
    pub(crate) fn distrust(&self, ppr: &[f64]) -> Vec<f64> {
        let mut d = vec![0.0; self.n];
        for (r, &pr) in ppr.iter().enumerate().take(self.n) {
            let (a, b) = (self.neg_off[r] as usize, self.neg_off[r + 1] as usize);
            if a == b || pr == 0.0 {
                continue;
            }
            let w = pr / f64::from(self.out_all[r].max(1));
            for &t in &self.neg_targets[a..b] {
                d[t as usize] += w;
            }
        }
        d
    }
}
