//! The baselines: personalized PageRank by plain power iteration over positive edges, and
//! the same minus one step of distrust (Guha et al., WWW 2004).

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
