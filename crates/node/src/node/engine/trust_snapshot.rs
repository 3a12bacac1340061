//! A viewer's trust, frozen for a compiled view: the engine's scores for every author with a
//! signal, and the viewer's own attestations (who is trusted *directly*, with the one-hop
//! path). It owns its data, so a cached `View<'static>` can share it through an `Arc` while
//! the engine keeps changing the graph. The same combination as the library's `EngineTrust`.

use std::collections::HashMap;

use vouch_identity::PublicKey;
use vouch_reputation::{
    AuthorId, DirectTrust, KeyBytes, TrustGraph, TrustLookup, TrustStep, TrustView, ViewerTrust,
};

/// Scores of one viewer's trust view at one moment.
#[derive(Debug, Clone)]
pub(crate) struct TrustSnapshot {
    scores: HashMap<KeyBytes, f32>,
    direct: DirectTrust,
}

impl TrustSnapshot {
    /// Reads every author with a signal out of `view` (following rotations) and combines the
    /// scores with the viewer's own attestations. Costs one pass over the graph's authors.
    pub(crate) fn new(graph: &TrustGraph, view: &TrustView, direct: DirectTrust) -> Self {
        let n = graph.n_authors() as u32;
        let mut scores = HashMap::new();
        for i in 0..n {
            let s = view.score_id(graph.current_id(AuthorId(i)));
            if s.has_signal() {
                if let Some(key) = graph.key(AuthorId(i)) {
                    scores.insert(*key, s.score as f32);
                }
            }
        }
        TrustSnapshot { scores, direct }
    }

    /// Authors with a signal.
    pub(crate) fn len(&self) -> usize {
        self.scores.len()
    }
}

impl TrustLookup for TrustSnapshot {
    fn trust(&self, author: &PublicKey) -> Option<ViewerTrust> {
        let direct = self.direct.trust(author);
        match self.scores.get(author.as_bytes()) {
            Some(&score) => Some(ViewerTrust {
                score,
                direct: direct.is_some_and(|t| t.score > 0.0),
            }),
            None => direct,
        }
    }

    /// The one-hop path for authors the viewer attested. Longer paths cost a search over the
    /// graph; the engine adds them when it explains (`Engine::trust_path`).
    fn path(&self, author: &PublicKey) -> Vec<TrustStep> {
        self.direct.path(author)
    }
}
