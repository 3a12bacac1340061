//! The engine's second input: facts mapped from verified Nostr events (`crate::nostr::map`),
//! applied to the same trust graph and moderation state as stored objects. Nostr facts are
//! not in the `objects` table: the Nostr source keeps its own events and replays them into
//! the engine on start (`specs/nostr.md` §5).

use tokio::sync::oneshot;
use vouch_reputation::{Applied, Body, ListPurpose, ListRef};

use super::{write, Cmd, Engine, EngineError, Worker};
use crate::node::metrics::Metrics;
use crate::nostr::map::Fact;

/// What one batch of Nostr facts did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct NostrApplied {
    /// Facts applied to the graph (in scope) or that changed the state.
    pub changed: u64,
    /// Facts the graph refused (a self-follow, say).
    pub refused: u64,
}

impl Engine {
    /// Applies facts mapped from Nostr events; answers once they are in the engine's state
    /// (views follow on the engine's usual schedule).
    pub(crate) async fn apply_nostr(&self, facts: Vec<Fact>) -> Result<NostrApplied, EngineError> {
        let (ack, rx) = oneshot::channel();
        self.shared
            .cmd
            .send(Cmd::Nostr { facts, ack })
            .await
            .map_err(|_| EngineError::Stopped)?;
        rx.await.map_err(|_| EngineError::Stopped)
    }
}

impl Worker {
    pub(super) fn apply_nostr(&mut self, facts: Vec<Fact>) -> NostrApplied {
        let mut out = NostrApplied::default();
        let trust_changed;
        {
            let mut core = write(&self.shared.core);
            let core = &mut *core;
            let mut atts = Vec::new();
            for f in facts {
                match f {
                    Fact::Attest(a) => {
                        // The mapping never makes these; the graph would refuse the batch's rest.
                        if a.author == a.subject || !(-100..=100).contains(&a.level) {
                            out.refused += 1;
                        } else {
                            atts.push(a);
                        }
                    }
                    Fact::Object(id, obj) => {
                        if let Body::List(l) = &obj.body {
                            if let (ListPurpose::Ban, Some(g)) = (l.purpose, &l.group) {
                                core.ban_lists
                                    .entry(g.clone())
                                    .or_default()
                                    .insert(ListRef {
                                        owner: obj.author,
                                        name: l.name.clone(),
                                    });
                            }
                        }
                        if core.state.apply_object(id, &obj) == Applied::Stored {
                            out.changed += 1;
                            self.pending.views = true;
                            if matches!(
                                obj.body,
                                Body::List(_) | Body::ListAdd(_) | Body::ListRemove(_)
                            ) {
                                self.pending.lists = true;
                            }
                        }
                    }
                }
            }
            // One batch: each touched author's row is built once.
            match core.graph.add_attestations(&atts) {
                Ok(n) => {
                    out.changed += n as u64;
                    trust_changed = n > 0;
                }
                Err(e) => {
                    tracing::warn!(code = e.code(), "trust graph refused a Nostr fact");
                    out.refused += 1;
                    trust_changed = true;
                }
            }
            if trust_changed {
                self.pending.views = true;
                for v in core.viewers.values_mut() {
                    v.trust.update(&core.graph);
                    Metrics::inc(&self.shared.metrics.engine_trust_updates_total);
                }
                for (_, t) in core.roots.iter_mut() {
                    t.update(&core.graph);
                }
                self.admission_pending = true;
            }
            self.shared.metrics.engine_authors.store(
                core.graph.n_authors() as u64,
                std::sync::atomic::Ordering::Relaxed,
            );
        }
        out
    }
}

/// The command's reply channel.
pub(super) type NostrAck = oneshot::Sender<NostrApplied>;
