//! Credentials, links and revocations as the node knows them, and the [`IdentityFacts`] built
//! from them for one `now`: which posting key holds a credential from which issuer, and why
//! a credential a key presented no longer counts.
//!
//! A posting key `P` holds a credential from issuer `I` when some valid `link` object by `P`
//! (not void by `P`'s key events) names an identity DID `X`, and the node holds a credential
//! issued by `I` to `X` that verifies (offline: did:key, the `eddsa-rdfc-2022` proof), is
//! inside its validity period at `now`, and that no revocation by `I` names. The credential is
//! either local (handed in by the holder beside the node) or a `credential` object authored
//! by `X` itself (published by the holder). A credential that verifies but is revoked or
//! outside its period is a *problem* of `(P, I)`, which decisions explain.
//!
//! Each credential's signature is checked once (`check`); its time and revocation status are
//! read at every build, and the index tells the engine when the next credential starts or
//! stops counting (`next_change`), so that views are rebuilt then.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use vouch_identity::PublicKey;
use vouch_reputation::{CredentialProblem, IdentityFacts, ModerationState, ObjectId};

/// Most credentials kept (local and from objects).
pub(crate) const MAX_CREDENTIALS: usize = 100_000;
/// Most credential objects kept per author.
pub(crate) const MAX_CREDENTIALS_PER_AUTHOR: usize = 16;
/// Most identity DIDs one posting key may link to.
pub(crate) const MAX_LINKS_PER_KEY: usize = 16;
/// Most posting keys with links.
pub(crate) const MAX_LINKED_KEYS: usize = 1_000_000;
/// Most revocations kept.
pub(crate) const MAX_REVOCATIONS: usize = 1_000_000;

/// What a verified credential says, as far as decisions need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Checked {
    /// The credential's `id`, if it has one (only credentials with an id can be revoked).
    pub id: Option<String>,
    /// The issuer's `did:key`.
    pub issuer: String,
    /// The subject: the identity DID it was issued to.
    pub subject: String,
    /// Its types.
    pub types: Vec<String>,
    /// `validFrom` (ms), if given.
    pub valid_from: Option<u64>,
    /// `validUntil` (ms), if given.
    pub valid_until: Option<u64>,
}

/// Where the node got a credential from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Sources {
    /// Handed in by the holder beside this node.
    pub local: bool,
    /// Published by the holder: `credential` objects, author -> (earliest time, object id).
    pub objects: BTreeMap<PublicKey, (u64, ObjectId)>,
}

/// One credential.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// The JSON text.
    pub json: Arc<str>,
    /// Where it came from.
    pub sources: Sources,
    /// The result of the one signature check, once done.
    pub checked: Option<Result<Checked, &'static str>>,
}

/// How a credential stands at one time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Standing {
    /// It counts.
    Valid,
    /// Revoked by its issuer (at this time, ms).
    Revoked(u64),
    /// Not valid yet.
    NotYetValid,
    /// Expired.
    Expired,
}

impl Standing {
    /// A stable name.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Standing::Valid => "valid",
            Standing::Revoked(_) => "revoked",
            Standing::NotYetValid => "not-yet-valid",
            Standing::Expired => "expired",
        }
    }
}

/// The credentials, links and revocations the node holds.
#[derive(Debug, Default)]
pub(crate) struct CredentialIndex {
    /// Credentials by the sha2-256 of their text.
    entries: BTreeMap<[u8; 32], Entry>,
    /// Credential objects per author (bounded).
    per_author: BTreeMap<PublicKey, usize>,
    /// Posting key -> identity DID -> earliest link time.
    links: BTreeMap<PublicKey, BTreeMap<String, u64>>,
    /// (issuer did:key, credential id) -> earliest revocation time.
    revoked: BTreeMap<(String, String), u64>,
    /// Something changed since the last build.
    pub(crate) dirty: bool,
    /// Bounds hit since the last call to `take_bound_hits`.
    bound_hits: u64,
}

/// A credential waiting for its check: its digest and text.
pub(crate) type Unchecked = ([u8; 32], Arc<str>);

/// sha2-256 of a credential's (or statement's) text.
pub(crate) fn digest(text: &str) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes()).into()
}

impl CredentialIndex {
    /// Adds (or finds) a credential; `local` marks it handed in. False when a bound refused it.
    pub(crate) fn add_local(&mut self, json: &str) -> [u8; 32] {
        let d = digest(json);
        if !self.entries.contains_key(&d) && self.entries.len() >= MAX_CREDENTIALS {
            // Local credentials are few and chosen by the holder: make room by forgetting
            // a credential that only came from the network.
            let victim = self
                .entries
                .iter()
                .find(|(_, e)| !e.sources.local)
                .map(|(k, _)| *k);
            if let Some(v) = victim {
                self.entries.remove(&v);
            }
        }
        let e = self.entries.entry(d).or_insert_with(|| Entry {
            json: Arc::from(json),
            sources: Sources::default(),
            checked: None,
        });
        e.sources.local = true;
        self.dirty = true;
        d
    }

    /// Forgets that a credential was handed in (it stays if an object carries it).
    pub(crate) fn remove_local(&mut self, d: &[u8; 32]) {
        if let Some(e) = self.entries.get_mut(d) {
            e.sources.local = false;
            if e.sources.objects.is_empty() {
                self.entries.remove(d);
            }
            self.dirty = true;
        }
    }

    /// A `credential` object by `author` at `at`.
    pub(crate) fn add_object(&mut self, id: ObjectId, author: PublicKey, at: u64, json: &str) {
        let d = digest(json);
        let known = self
            .entries
            .get(&d)
            .map(|e| e.sources.objects.contains_key(&author));
        if known != Some(true) {
            let n = self.per_author.get(&author).copied().unwrap_or(0);
            if n >= MAX_CREDENTIALS_PER_AUTHOR
                || (known.is_none() && self.entries.len() >= MAX_CREDENTIALS)
            {
                self.bound_hits += 1;
                return;
            }
            self.per_author.insert(author, n + 1);
        }
        let e = self.entries.entry(d).or_insert_with(|| Entry {
            json: Arc::from(json),
            sources: Sources::default(),
            checked: None,
        });
        let slot = e.sources.objects.entry(author).or_insert((at, id));
        if at < slot.0 {
            *slot = (at, id);
        }
        self.dirty = true;
    }

    /// A valid `link` object: `posting` links to `identity` at `at`.
    pub(crate) fn add_link(&mut self, posting: PublicKey, identity: &str, at: u64) {
        if !self.links.contains_key(&posting) && self.links.len() >= MAX_LINKED_KEYS {
            self.bound_hits += 1;
            return;
        }
        let dids = self.links.entry(posting).or_default();
        if !dids.contains_key(identity) && dids.len() >= MAX_LINKS_PER_KEY {
            self.bound_hits += 1;
            return;
        }
        let t = dids.entry(identity.to_owned()).or_insert(at);
        *t = (*t).min(at);
        self.dirty = true;
    }

    /// `issuer` revoked credential `id` at `at` (a statement or an object, checked).
    pub(crate) fn add_revocation(&mut self, issuer: &str, id: &str, at: u64) {
        let key = (issuer.to_owned(), id.to_owned());
        if !self.revoked.contains_key(&key) && self.revoked.len() >= MAX_REVOCATIONS {
            self.bound_hits += 1;
            return;
        }
        let t = self.revoked.entry(key).or_insert(at);
        *t = (*t).min(at);
        self.dirty = true;
    }

    /// Bounds hit since the last call.
    pub(crate) fn take_bound_hits(&mut self) -> u64 {
        std::mem::take(&mut self.bound_hits)
    }

    /// At most `limit` credentials not yet checked, with their text, the holder's own
    /// (handed in) first; and how many others wait.
    pub(crate) fn unchecked(&self, limit: usize) -> (Vec<Unchecked>, usize) {
        let mut waiting: Vec<(&[u8; 32], &Entry)> = self
            .entries
            .iter()
            .filter(|(_, e)| e.checked.is_none())
            .collect();
        waiting.sort_by_key(|(_, e)| !e.sources.local);
        let left = waiting.len().saturating_sub(limit);
        let batch = waiting
            .into_iter()
            .take(limit)
            .map(|(d, e)| (*d, e.json.clone()))
            .collect();
        (batch, left)
    }

    /// Records the result of a credential's check.
    pub(crate) fn set_checked(&mut self, d: &[u8; 32], r: Result<Checked, &'static str>) {
        if let Some(e) = self.entries.get_mut(d) {
            e.checked = Some(r);
            self.dirty = true;
        }
    }

    /// One credential.
    pub(crate) fn entry(&self, d: &[u8; 32]) -> Option<&Entry> {
        self.entries.get(d)
    }

    /// How a checked credential stands at `now`.
    pub(crate) fn standing(&self, c: &Checked, now: u64) -> Standing {
        if let Some(at) =
            c.id.as_ref()
                .and_then(|id| self.revoked.get(&(c.issuer.clone(), id.clone())))
        {
            return Standing::Revoked(*at);
        }
        if c.valid_from.is_some_and(|f| now < f) {
            return Standing::NotYetValid;
        }
        if c.valid_until.is_some_and(|u| now >= u) {
            return Standing::Expired;
        }
        Standing::Valid
    }

    /// The identity keys and issuers that admission lets in beside `reach` (posting keys
    /// with their standing): every identity `did:key` linked by a posting key within reach
    /// (a `credential` object is signed by the identity key, a stranger to the trust graph)
    /// with that posting key's standing, and the issuer of every credential the node holds
    /// (its `credential-revoke` objects must arrive) with the least standing within reach.
    pub(crate) fn identity_reach(
        &self,
        state: &ModerationState,
        reach: &HashMap<PublicKey, u32>,
    ) -> Vec<(PublicKey, u32)> {
        let mut out = Vec::new();
        for (posting, dids) in &self.links {
            let Some(&standing) = reach.get(posting) else {
                continue;
            };
            for (did, at) in dids {
                if state.is_void(posting, *at) {
                    continue;
                }
                if let Ok(identity) = PublicKey::from_did_key(did) {
                    out.push((identity, standing));
                }
            }
        }
        for e in self.entries.values() {
            if let Some(Ok(c)) = &e.checked {
                if let Ok(issuer) = PublicKey::from_did_key(&c.issuer) {
                    out.push((issuer, crate::node::admission::standing_of(0.0)));
                }
            }
        }
        out
    }

    /// The posting keys linked to the identity `did` (links by void keys left out).
    pub(crate) fn linked_keys(&self, state: &ModerationState, did: &str) -> Vec<PublicKey> {
        self.links
            .iter()
            .filter(|(k, dids)| dids.get(did).is_some_and(|at| !state.is_void(k, *at)))
            .map(|(k, _)| *k)
            .collect()
    }

    /// The facts at `now` (without a personhood checker), and the next time (ms, after
    /// `now`) at which a credential starts or stops counting.
    pub(crate) fn facts(&self, state: &ModerationState, now: u64) -> (IdentityFacts, Option<u64>) {
        // identity DID -> (issuer -> best standing): valid beats every problem.
        let mut by_subject: BTreeMap<&str, BTreeMap<&str, Standing>> = BTreeMap::new();
        let mut next: Option<u64> = None;
        for e in self.entries.values() {
            let Some(Ok(c)) = &e.checked else {
                continue;
            };
            if !self.counts_source(e, c, state) {
                continue;
            }
            let s = self.standing(c, now);
            for t in [c.valid_from, c.valid_until].into_iter().flatten() {
                if t > now && !matches!(s, Standing::Revoked(_)) {
                    next = Some(next.map_or(t, |n| n.min(t)));
                }
            }
            let slot = by_subject
                .entry(c.subject.as_str())
                .or_default()
                .entry(c.issuer.as_str())
                .or_insert(s);
            if s == Standing::Valid {
                *slot = s;
            }
        }
        let mut facts = IdentityFacts::default();
        for (posting, dids) in &self.links {
            for (did, at) in dids {
                if state.is_void(posting, *at) {
                    continue;
                }
                let Some(issuers) = by_subject.get(did.as_str()) else {
                    continue;
                };
                for (issuer, standing) in issuers {
                    let key = (*posting, (*issuer).to_owned());
                    match standing {
                        Standing::Valid => {
                            facts.problems.remove(&key);
                            facts.credentials.insert(key);
                        }
                        Standing::Revoked(_) if !facts.credentials.contains(&key) => {
                            facts.problems.insert(key, CredentialProblem::Revoked);
                        }
                        Standing::Expired | Standing::NotYetValid
                            if !facts.credentials.contains(&key) =>
                        {
                            facts
                                .problems
                                .entry(key)
                                .or_insert(CredentialProblem::Expired);
                        }
                        _ => {}
                    }
                }
            }
        }
        (facts, next)
    }

    /// A credential counts for its subject when the holder handed it in, or when an object
    /// carrying it was authored by the subject's own key, not void at the object's time.
    fn counts_source(&self, e: &Entry, c: &Checked, state: &ModerationState) -> bool {
        if e.sources.local {
            return true;
        }
        e.sources.objects.iter().any(|(author, (at, _))| {
            author.to_did_key() == c.subject && !state.is_void(author, *at)
        })
    }
}

/// Checks a credential's shape, issuer and proof once, offline, at a time inside its own
/// validity period (its time and revocations are read at every build). The subject must
/// be an ed25519 `did:key` (an identity DID).
#[cfg(feature = "vc")]
pub(crate) fn check(json: &str, now: u64) -> Result<Checked, &'static str> {
    use serde_json::Value;
    let value: Value = serde_json::from_str(json).map_err(|_| "vc-malformed")?;
    let time = |v: Option<&Value>| -> Result<Option<u64>, &'static str> {
        match v {
            None => Ok(None),
            Some(Value::String(s)) => chrono::DateTime::parse_from_rfc3339(s)
                .ok()
                .and_then(|t| u64::try_from(t.timestamp_millis()).ok())
                .map(Some)
                .ok_or("vc-malformed"),
            Some(_) => Err("vc-malformed"),
        }
    };
    let valid_from = time(value.get("validFrom"))?;
    let valid_until = time(value.get("validUntil"))?;
    let created = time(value.get("proof").and_then(|p| p.get("created")))?;
    // Inside the credential's own period, and not before the proof was made.
    let mut at = valid_from.unwrap_or(now).max(created.unwrap_or(0));
    if let Some(u) = valid_until {
        at = at.min(u.saturating_sub(1));
    }
    let v = vouch_identity::verify_credential(json, at, &[]).map_err(|e| e.code())?;
    let subject = v.subject.ok_or("vc-no-subject")?;
    PublicKey::from_did_key(&subject).map_err(|_| "vc-unsupported-did")?;
    Ok(Checked {
        id: v.id,
        issuer: v.issuer.to_did_key(),
        subject,
        types: v.types,
        valid_from,
        valid_until,
    })
}

/// Without feature `vc` the node cannot verify credentials.
#[cfg(not(feature = "vc"))]
pub(crate) fn check(_json: &str, _now: u64) -> Result<Checked, &'static str> {
    Err("vc-unsupported")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use vouch_identity::SecretKey;

    fn key(n: u8) -> SecretKey {
        SecretKey::from_seed(&[n; 32])
    }

    fn checked(issuer: u8, subject: &SecretKey, id: &str, from: u64, until: u64) -> Checked {
        Checked {
            id: Some(id.into()),
            issuer: key(issuer).public_key().to_did_key(),
            subject: subject.public_key().to_did_key(),
            types: vec![],
            valid_from: Some(from),
            valid_until: Some(until),
        }
    }

    /// Admission's additions: identities linked by posting keys within reach (with their
    /// standing), not by others; the issuers of checked credentials.
    #[test]
    fn identity_reach_follows_links_from_keys_within_reach_and_issuers_held() {
        let (posting, outsider, identity, other_identity) = (key(1), key(2), key(3), key(4));
        let state = ModerationState::new();
        let mut ix = CredentialIndex::default();
        ix.add_link(
            posting.public_key(),
            &identity.public_key().to_did_key(),
            10,
        );
        ix.add_link(
            outsider.public_key(),
            &other_identity.public_key().to_did_key(),
            10,
        );
        let reach: HashMap<PublicKey, u32> = [(posting.public_key(), 7)].into();
        assert_eq!(
            ix.identity_reach(&state, &reach),
            vec![(identity.public_key(), 7)]
        );
        // An unchecked credential names no issuer yet; a checked one does.
        let d = ix.add_local("{\"c\":1}");
        assert_eq!(ix.identity_reach(&state, &reach).len(), 1);
        ix.set_checked(&d, Ok(checked(9, &identity, "urn:9", 0, u64::MAX)));
        let got = ix.identity_reach(&state, &reach);
        assert!(got.contains(&(key(9).public_key(), 1)), "{got:?}");
        assert!(!got.iter().any(|(k, _)| *k == other_identity.public_key()));
    }

    /// The facts follow links, time and revocations; an object counts only when its author
    /// is the credential's subject.
    #[test]
    fn facts_follow_links_time_and_revocations() {
        let (posting, other_posting, identity, stranger) = (key(1), key(2), key(3), key(4));
        let issuer = key(9).public_key().to_did_key();
        let state = ModerationState::new();
        let mut ix = CredentialIndex::default();
        let d = ix.add_local("{\"a\":1}");
        ix.set_checked(&d, Ok(checked(9, &identity, "urn:1", 100, 1_000)));
        // No link yet: nothing.
        let (f, next) = ix.facts(&state, 500);
        assert!(f.credentials.is_empty() && f.problems.is_empty());
        assert_eq!(next, Some(1_000));
        ix.add_link(
            posting.public_key(),
            &identity.public_key().to_did_key(),
            10,
        );
        let (f, _) = ix.facts(&state, 500);
        assert!(f
            .credentials
            .contains(&(posting.public_key(), issuer.clone())));
        assert!(!f
            .credentials
            .contains(&(other_posting.public_key(), issuer.clone())));
        // Before and after its period: a problem, not a credential.
        let (f, next) = ix.facts(&state, 50);
        assert!(f.credentials.is_empty());
        assert_eq!(next, Some(100));
        let (f, next) = ix.facts(&state, 1_000);
        assert_eq!(
            f.problems.get(&(posting.public_key(), issuer.clone())),
            Some(&CredentialProblem::Expired)
        );
        assert_eq!(next, None);
        // Revoked: revoked, whatever the time.
        ix.add_revocation(&issuer, "urn:1", 400);
        let (f, _) = ix.facts(&state, 500);
        assert!(f.credentials.is_empty());
        assert_eq!(
            f.problems.get(&(posting.public_key(), issuer.clone())),
            Some(&CredentialProblem::Revoked)
        );
        // A second, valid credential from the same issuer: the key holds one again.
        let d2 = ix.add_local("{\"a\":2}");
        ix.set_checked(&d2, Ok(checked(9, &identity, "urn:2", 100, 2_000)));
        let (f, _) = ix.facts(&state, 500);
        assert!(f
            .credentials
            .contains(&(posting.public_key(), issuer.clone())));
        assert!(f.problems.is_empty());

        // From an object: counts only when authored by the subject.
        let mut ix = CredentialIndex::default();
        ix.add_link(
            posting.public_key(),
            &identity.public_key().to_did_key(),
            10,
        );
        ix.add_object(ObjectId([1; 32]), stranger.public_key(), 20, "{\"b\":1}");
        let d = digest("{\"b\":1}");
        ix.set_checked(&d, Ok(checked(9, &identity, "urn:3", 100, 1_000)));
        assert!(ix.facts(&state, 500).0.credentials.is_empty());
        ix.add_object(ObjectId([2; 32]), identity.public_key(), 20, "{\"b\":1}");
        assert!(ix
            .facts(&state, 500)
            .0
            .credentials
            .contains(&(posting.public_key(), issuer)));
    }

    /// Checks are rationed (a flood of `credential` objects cannot stall a view build), the
    /// holder's own credentials first.
    #[test]
    fn unchecked_credentials_come_in_batches_local_first() {
        let mut ix = CredentialIndex::default();
        for n in 0..5u8 {
            ix.add_object(
                ObjectId([n; 32]),
                key(n + 1).public_key(),
                1,
                &format!("{{\"n\":{n}}}"),
            );
        }
        let local = ix.add_local("{\"mine\":1}");
        let (batch, left) = ix.unchecked(2);
        assert_eq!(batch.len(), 2);
        assert_eq!(left, 4);
        assert_eq!(batch[0].0, local, "the holder's own credential first");
        for (d, _) in &batch {
            ix.set_checked(d, Err("vc-malformed"));
        }
        let (batch, left) = ix.unchecked(10);
        assert_eq!((batch.len(), left), (4, 0));
    }

    #[test]
    fn bounds_are_counted() {
        let mut ix = CredentialIndex::default();
        let author = key(1).public_key();
        for n in 0..(MAX_CREDENTIALS_PER_AUTHOR + 3) {
            ix.add_object(
                ObjectId([n as u8; 32]),
                author,
                1,
                &format!("{{\"n\":{n}}}"),
            );
        }
        assert_eq!(ix.entries.len(), MAX_CREDENTIALS_PER_AUTHOR);
        assert_eq!(ix.take_bound_hits(), 3);
        for n in 0..(MAX_LINKS_PER_KEY + 1) {
            ix.add_link(author, &format!("did:key:z{n}"), 1);
        }
        assert_eq!(ix.take_bound_hits(), 1);
    }
}
