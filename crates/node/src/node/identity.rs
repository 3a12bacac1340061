//! The node's identity half: what its decisions learn about identity.
//!
//! - Credentials (`identity/credentials.rs`): those the holder beside the node handed it
//!   (`POST /v1/credentials`, kept in the local `credentials` table, private) and those
//!   holders published as `credential` objects, each checked once offline; joined with the
//!   posting keys' `link` objects and the issuers' revocations (local statements and
//!   `credential-revoke` objects) into the [`IdentityFacts`] every view is built with.
//! - Ballots (`identity/ballots.rs`): the personhood proofs `ballot` objects carry, verified
//!   on background threads as they arrive, whose results the views' poll tallies read.
//!
//! The engine thread feeds it the objects it applies ([`Identity::note_object`],
//! [`Identity::queue_ballots`]) and refreshes the facts before it builds views
//! ([`Identity::refresh`]); the API adds and lists local credentials. When a background check
//! finishes or the local credentials change, [`Identity::changed`] wakes the engine, which
//! rebuilds the views. Nothing here holds trust or decision logic: the rules are in
//! `vouch-reputation` (`CredentialLookup`, `ModerationState::poll_result`).

mod ballots;
mod credentials;
mod sqlite;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;

use tokio::sync::{watch, Notify};
use vouch_reputation::{
    Body, IdentityFacts, ModerationState, ObjectId, PersonhoodCheck, PollError, PollResult,
    SignedObject,
};

use ballots::BallotChecker;
pub(crate) use ballots::PENDING as PERSONHOOD_PENDING;
use credentials::{digest, CredentialIndex, Standing};
use sqlite::{CredentialRow, IdentityDb, RevocationRow};

use crate::node::metrics::Metrics;
use crate::node::store::StoreError;

/// Most credentials checked (1-2 ms each, on the engine thread) before one view rebuild:
/// a flood of `credential` objects delays its own checks, never a build by more than this.
pub(crate) const MAX_CHECKS_PER_REFRESH: usize = 32;

/// Most future poll closing times the engine keeps to rebuild the views at.
pub(crate) const MAX_POLL_CLOSES: usize = 65_536;

/// Why a call was refused. Every variant has a stable [`code`](IdentityError::code).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum IdentityError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The credential does not verify (the identity layer's code).
    #[error("the credential does not verify: {0}")]
    Credential(&'static str),
    /// The revocation statement is malformed or its signature does not verify.
    #[error("the revocation does not verify: {0}")]
    Revocation(String),
    /// No such local credential.
    #[error("no local credential {0}")]
    NotFound(String),
    /// Marked public, but the node holds no `credential` object carrying it, signed by its
    /// subject.
    #[error("the credential is not published: submit its `credential` object (signed by the subject's identity key) first")]
    NotPublished,
}

impl IdentityError {
    /// The stable code.
    pub(crate) fn code(&self) -> &'static str {
        match self {
            IdentityError::Store(e) => e.code(),
            IdentityError::Credential(code) => code,
            IdentityError::Revocation(_) => "revocation-invalid",
            IdentityError::NotFound(_) => "credential-not-found",
            IdentityError::NotPublished => "credential-not-published",
        }
    }
}

/// A local credential as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CredentialStatus {
    /// Hex of the sha2-256 of its text (how the API names it).
    pub digest: String,
    /// The credential's `id`.
    pub id: Option<String>,
    /// The issuer's did:key.
    pub issuer: Option<String>,
    /// The identity DID it was issued to.
    pub subject: Option<String>,
    /// Its types.
    pub types: Vec<String>,
    /// `valid`, `revoked`, `expired`, `not-yet-valid`, or the code of why it does not verify.
    pub status: &'static str,
    /// The holder also published it (a `credential` object).
    pub public: bool,
    /// The posting keys linked to its subject (they hold it in decisions while it is valid).
    pub linked_keys: Vec<vouch_identity::PublicKey>,
    /// When it was handed in (ms).
    pub added_ms: u64,
}

struct Shared {
    index: Mutex<CredentialIndex>,
    facts: RwLock<Arc<IdentityFacts>>,
    /// When (ms) the next credential starts or stops counting.
    next_change: Mutex<Option<u64>>,
    /// When polls close (ms, still to come): a closed poll can change a village's rules, so
    /// the views are rebuilt then (bounded by [`MAX_POLL_CLOSES`]).
    poll_closes: Mutex<BTreeSet<u64>>,
    db: Option<Mutex<IdentityDb>>,
    ballots: Option<Arc<BallotChecker>>,
    changed: Arc<Notify>,
    /// Local changes (credentials, revocations) handed in, and the last of them the
    /// published views reflect.
    generation: Mutex<u64>,
    published: watch::Sender<u64>,
    metrics: Arc<Metrics>,
}

/// The handle. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Identity {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("ballots", &self.shared.ballots)
            .finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Identity {
    /// Opens the local tables in `data_dir` (none for an offline load: `data_dir` `None`),
    /// loads the local credentials and revocations, and, with `verifier_threads > 0`,
    /// starts the ballot verifier threads.
    pub(crate) fn open(
        data_dir: Option<&Path>,
        metrics: Arc<Metrics>,
        verifier_threads: usize,
    ) -> Result<Identity, IdentityError> {
        let changed = Arc::new(Notify::new());
        let mut index = CredentialIndex::default();
        let db = match data_dir {
            Some(dir) => {
                let db = IdentityDb::open(dir)?;
                for row in db.credentials()? {
                    index.add_local(&row.json);
                }
                for row in db.revocations()? {
                    if let Ok((issuer, id, at)) = parse_revocation(&row.json) {
                        index.add_revocation(&issuer, &id, at);
                    }
                }
                Some(Mutex::new(db))
            }
            None => None,
        };
        let ballots = if verifier_threads > 0 {
            Some(Arc::new(
                BallotChecker::start(verifier_threads, changed.clone(), metrics.clone())
                    .map_err(|e| IdentityError::Store(StoreError::Io(e)))?,
            ))
        } else {
            None
        };
        let (published, _) = watch::channel(0);
        index.dirty = true;
        let facts = IdentityFacts {
            personhood: ballots.clone().map(|b| b as Arc<dyn PersonhoodCheck>),
            ..IdentityFacts::default()
        };
        Ok(Identity {
            shared: Arc::new(Shared {
                index: Mutex::new(index),
                facts: RwLock::new(Arc::new(facts)),
                next_change: Mutex::new(None),
                poll_closes: Mutex::new(BTreeSet::new()),
                db,
                ballots,
                changed,
                generation: Mutex::new(0),
                published,
                metrics,
            }),
        })
    }

    /// Notified when the views should be rebuilt: verified ballots are ready, or the
    /// local credentials changed.
    pub(crate) fn changed(&self) -> Arc<Notify> {
        self.shared.changed.clone()
    }

    /// The identity keys and issuers admission adds to `reach`
    /// ([`CredentialIndex::identity_reach`]).
    pub(crate) fn identity_reach(
        &self,
        state: &ModerationState,
        reach: &std::collections::HashMap<vouch_identity::PublicKey, u32>,
    ) -> Vec<(vouch_identity::PublicKey, u32)> {
        lock(&self.shared.index).identity_reach(state, reach)
    }

    /// The facts the views are built with.
    pub(crate) fn facts(&self) -> Arc<IdentityFacts> {
        self.shared
            .facts
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The node's personhood checker (none without verifier threads).
    pub(crate) fn personhood(&self) -> Option<Arc<dyn PersonhoodCheck>> {
        self.shared
            .ballots
            .clone()
            .map(|b| b as Arc<dyn PersonhoodCheck>)
    }

    /// When (ms) a credential next starts or stops counting, or a poll closes: the views
    /// must be rebuilt then.
    pub(crate) fn next_change(&self) -> Option<u64> {
        let credentials = *lock(&self.shared.next_change);
        let poll = lock(&self.shared.poll_closes).first().copied();
        match (credentials, poll) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// A poll closing at `closes` was applied: if that is after `now`, the views are rebuilt
    /// then (its tally can change a village's rules). Past [`MAX_POLL_CLOSES`] future closes
    /// the latest are dropped (counted): those polls take effect at the next rebuild.
    pub(crate) fn note_poll_close(&self, closes: u64, now: u64) {
        if closes <= now {
            return;
        }
        let mut closes_at = lock(&self.shared.poll_closes);
        closes_at.insert(closes);
        if closes_at.len() > MAX_POLL_CLOSES {
            closes_at.pop_last();
            Metrics::inc(&self.shared.metrics.identity_bound_hits_total);
        }
    }

    /// Takes note of an applied object that identity depends on: a `link`, a `credential`
    /// or a `credential-revoke`. Others are ignored. Cheap: checks happen at the next
    /// [`Identity::refresh`].
    pub(crate) fn note_object(&self, obj: &SignedObject) {
        let mut ix = lock(&self.shared.index);
        match obj.body() {
            Body::Link(l) => ix.add_link(*obj.author(), &l.identity, obj.at()),
            Body::Credential(c) => ix.add_object(obj.id(), *obj.author(), obj.at(), &c.vc),
            Body::CredentialRevoke(r) => {
                ix.add_revocation(&obj.author().to_did_key(), &r.credential, obj.at())
            }
            _ => {}
        }
    }

    /// The polls whose tally `obj` may change: a ballot's poll, a new poll, every poll of a
    /// group whose header arrived.
    pub(crate) fn polls_touched(
        state: &ModerationState,
        obj: &SignedObject,
        out: &mut BTreeSet<ObjectId>,
    ) {
        match obj.body() {
            Body::Ballot(b) => {
                out.insert(b.poll);
            }
            Body::Poll(_) => {
                out.insert(obj.id());
            }
            Body::Group(g) => {
                let group = vouch_reputation::GroupRef {
                    owner: *obj.author(),
                    name: g.name.clone(),
                };
                out.extend(state.polls_in(&group).into_iter().map(|(id, _)| id));
            }
            _ => {}
        }
    }

    /// Queues the proofs of every ballot of `polls` that were not verified yet (tallying
    /// through the checker queues what it has not seen).
    pub(crate) fn queue_ballots(
        &self,
        state: &ModerationState,
        polls: &BTreeSet<ObjectId>,
        now: u64,
    ) {
        if let Some(check) = &self.shared.ballots {
            for poll in polls {
                let _ = state.poll_result(poll, check.as_ref(), now);
            }
        }
    }

    /// The tally of `poll` at `now` with the node's checker, and how many of its ballots
    /// still wait for verification (they are in `rejected` as `personhood-pending`).
    pub(crate) fn poll_result(
        &self,
        state: &ModerationState,
        poll: &ObjectId,
        now: u64,
    ) -> Result<(PollResult, u64), PollError> {
        let Some(check) = &self.shared.ballots else {
            return Err(PollError::Personhood("personhood-unsupported"));
        };
        let r = state.poll_result(poll, check.as_ref(), now)?;
        let pending = r
            .rejected
            .iter()
            .filter(|(_, e)| e.code() == PERSONHOOD_PENDING)
            .count() as u64;
        Ok((r, pending))
    }

    /// Checks new credentials and rebuilds the facts when something changed or a
    /// credential's period began or ended; true when the facts were rebuilt. Runs on the
    /// engine thread, which holds `state`.
    pub(crate) fn refresh(&self, state: &ModerationState, now: u64) -> bool {
        let due = self.next_change().is_some_and(|t| now >= t);
        {
            // Polls that closed are in the views about to be built.
            let mut closes = lock(&self.shared.poll_closes);
            let later = closes.split_off(&now.saturating_add(1));
            *closes = later;
        }
        let (unchecked, left) = {
            let ix = lock(&self.shared.index);
            if !ix.dirty && !due {
                return false;
            }
            ix.unchecked(MAX_CHECKS_PER_REFRESH)
        };
        // Each credential is checked once (about 1-2 ms: RDF canonicalization and ed25519).
        let mut results = Vec::with_capacity(unchecked.len());
        for (d, json) in unchecked {
            let r = credentials::check(&json, now);
            Metrics::inc(&self.shared.metrics.credentials_checked_total);
            if let Err(code) = r {
                Metrics::inc(&self.shared.metrics.credentials_rejected_total);
                tracing::info!(code, digest = %hex::encode(d), "a credential does not verify");
            }
            results.push((d, r));
        }
        let (mut facts, next) = {
            let mut ix = lock(&self.shared.index);
            for (d, r) in results {
                ix.set_checked(&d, r);
            }
            // More to check: the next rebuild takes the next batch.
            ix.dirty = left > 0;
            let hits = ix.take_bound_hits();
            if hits > 0 {
                Metrics::add(&self.shared.metrics.identity_bound_hits_total, hits);
                tracing::warn!(
                    hits,
                    "identity: links, credentials or revocations over their bounds were not kept"
                );
            }
            ix.facts(state, now)
        };
        facts.personhood = self.personhood();
        *self.shared.facts.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(facts);
        *lock(&self.shared.next_change) = next;
        Metrics::inc(&self.shared.metrics.identity_facts_builds_total);
        if left > 0 {
            self.shared.changed.notify_one();
        }
        true
    }

    /// The number of the last local change; the views reflect it once
    /// [`Identity::mark_published`] reached it.
    pub(crate) fn generation(&self) -> u64 {
        *lock(&self.shared.generation)
    }

    /// The engine published views built with the facts of local change `generation`.
    pub(crate) fn mark_published(&self, generation: u64) {
        self.shared.published.send_if_modified(|g| {
            let newer = generation > *g;
            if newer {
                *g = generation;
            }
            newer
        });
    }

    /// Waits (at most `timeout`) until the published views reflect local change
    /// `generation`; false on timeout.
    pub(crate) async fn wait_published(&self, generation: u64, timeout: Duration) -> bool {
        let mut rx = self.shared.published.subscribe();
        tokio::time::timeout(timeout, rx.wait_for(|g| *g >= generation))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    fn local_change(&self) -> u64 {
        let g = {
            let mut g = lock(&self.shared.generation);
            *g += 1;
            *g
        };
        self.shared.changed.notify_one();
        g
    }

    fn db(&self) -> Result<MutexGuard<'_, IdentityDb>, IdentityError> {
        match &self.shared.db {
            Some(db) => Ok(lock(db)),
            None => Err(IdentityError::Store(StoreError::Io(std::io::Error::other(
                "no database (offline load)",
            )))),
        }
    }

    /// A credential the holder hands the node: checked offline now (a credential that does
    /// not verify is refused), kept in the local table, used in decisions from the next
    /// view build. `public` records that the holder also published it as an object.
    /// Returns its status and the local change to wait for.
    pub(crate) fn add_credential(
        &self,
        state: &ModerationState,
        json: &str,
        public: bool,
        now: u64,
    ) -> Result<(CredentialStatus, u64), IdentityError> {
        let checked = credentials::check(json, now).map_err(IdentityError::Credential)?;
        let d = digest(json);
        if public {
            let ix = lock(&self.shared.index);
            let published = ix.entry(&d).is_some_and(|e| {
                e.sources
                    .objects
                    .keys()
                    .any(|a| a.to_did_key() == checked.subject)
            });
            if !published {
                return Err(IdentityError::NotPublished);
            }
        }
        self.db()?.put_credential(&CredentialRow {
            digest: d,
            json: json.to_owned(),
            public,
            added_ms: now,
        })?;
        {
            let mut ix = lock(&self.shared.index);
            ix.add_local(json);
            ix.set_checked(&d, Ok(checked));
        }
        let g = self.local_change();
        let status = self
            .credentials(state, now)?
            .into_iter()
            .find(|c| c.digest == hex::encode(d))
            .ok_or_else(|| IdentityError::NotFound(hex::encode(d)))?;
        Ok((status, g))
    }

    /// Forgets a local credential (named by its digest's hex).
    pub(crate) fn delete_credential(&self, digest_hex: &str) -> Result<u64, IdentityError> {
        let d: [u8; 32] = hex::decode(digest_hex)
            .ok()
            .and_then(|v| v.try_into().ok())
            .ok_or_else(|| IdentityError::NotFound(digest_hex.to_owned()))?;
        if !self.db()?.delete_credential(&d)? {
            return Err(IdentityError::NotFound(digest_hex.to_owned()));
        }
        lock(&self.shared.index).remove_local(&d);
        Ok(self.local_change())
    }

    /// An issuer's revocation statement (`specs/identity.md` §3), signature checked.
    pub(crate) fn add_revocation(&self, json: &str, now: u64) -> Result<u64, IdentityError> {
        let (issuer, id, at) = parse_revocation(json)?;
        self.db()?.put_revocation(&RevocationRow {
            digest: digest(json),
            json: json.to_owned(),
            added_ms: now,
        })?;
        lock(&self.shared.index).add_revocation(&issuer, &id, at);
        Ok(self.local_change())
    }

    /// The local credentials, with how each stands at `now`.
    pub(crate) fn credentials(
        &self,
        state: &ModerationState,
        now: u64,
    ) -> Result<Vec<CredentialStatus>, IdentityError> {
        let rows = self.db()?.credentials()?;
        let ix = lock(&self.shared.index);
        let mut out = Vec::new();
        for row in rows {
            let entry = ix.entry(&row.digest);
            let checked = entry.and_then(|e| e.checked.clone());
            let mut s = CredentialStatus {
                digest: hex::encode(row.digest),
                id: None,
                issuer: None,
                subject: None,
                types: Vec::new(),
                status: "unchecked",
                public: row.public,
                linked_keys: Vec::new(),
                added_ms: row.added_ms,
            };
            match checked {
                Some(Ok(c)) => {
                    s.status = match ix.standing(&c, now) {
                        Standing::Valid => "valid",
                        other => other.as_str(),
                    };
                    s.linked_keys = ix.linked_keys(state, &c.subject);
                    s.id = c.id;
                    s.issuer = Some(c.issuer);
                    s.subject = Some(c.subject);
                    s.types = c.types;
                }
                Some(Err(code)) => s.status = code,
                None => {}
            }
            out.push(s);
        }
        Ok(out)
    }
}

/// Reads and checks a revocation statement: `(issuer did:key, credential id, revoked at)`.
#[cfg(feature = "vc")]
fn parse_revocation(json: &str) -> Result<(String, String, u64), IdentityError> {
    let v: serde_json::Value =
        serde_json::from_str(json).map_err(|e| IdentityError::Revocation(e.to_string()))?;
    let r = vouch_identity::Revocation::from_json(&v)
        .map_err(|e| IdentityError::Revocation(e.to_string()))?;
    r.verify()
        .map_err(|_| IdentityError::Revocation("bad signature".into()))?;
    Ok((r.issuer.to_did_key(), r.credential_id, r.at_ms))
}

/// Without feature `vc` revocation statements cannot be read.
#[cfg(not(feature = "vc"))]
fn parse_revocation(_json: &str) -> Result<(String, String, u64), IdentityError> {
    Err(IdentityError::Revocation(
        "this node was built without feature vc".into(),
    ))
}
