//! The engine's second input: facts mapped from verified Nostr events (`crate::nostr::map`),
//! applied to the same trust graph and moderation state as stored objects. Nostr facts are
//! not in the `objects` table: the Nostr source keeps its own events and replays them into
//! the engine on start (`specs/nostr.md` §5).

use tokio::sync::oneshot;
use vouch_reputation::{Applied, Body, Ingested, ListPurpose, ListRef};

use super::{write, Cmd, Engine, EngineError, Worker};
use crate::node::metrics::Metrics;
use crate::nostr::map::Fact;

/// What one batch of Nostr facts did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct NostrApplied {
    /// Facts that changed the graph or the state.
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
        let mut trust_changed = false;
        {
            let mut core = write(&self.shared.core);
            let core = &mut *core;
            for f in &facts {
                match f {
                    Fact::Attest(a) => match core.graph.add_attestation(a) {
                        Ok(Ingested::Applied) => {
                            trust_changed = true;
                            out.changed += 1;
                        }
                        Ok(_) => {}
                        Err(_) => out.refused += 1,
                    },
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
                        if core.state.apply_object(*id, obj) == Applied::Stored {
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
