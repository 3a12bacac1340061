//! Key events: pre-rotation commitments (`incept`), rotations (version 1 handovers, version 2
//! reveals) and revocations, resolved into each key's successor and the time from which its
//! objects are void. The resolution is a function of the *set* of events: neither arrival
//! order nor the times authors claim decides which rotation counts (`specs/identity.md` §1).
//!
//! The state of a key depends only on the events that name it (as author, old or new key),
//! so an event re-resolves at most two keys. [`crate::TrustGraph`] and
//! [`crate::ModerationState`] both keep a [`KeyEvents`] and so agree on every key.

use crate::{Body, KeyBytes, Object, ObjectId, RotateBody};
use std::collections::{BTreeMap, BTreeSet};
use vouch_identity::{KeyDigest, PublicKey};

/// One key event, read from a validated object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyEvent {
    /// `key` commits to the digest of its successor (kind `incept`).
    Incept {
        /// The committing key (the object's author).
        key: KeyBytes,
        /// The successor's digest.
        next: KeyDigest,
    },
    /// A version 1 rotation, signed by `old` (and countersigned by `new`).
    Handover {
        /// The retired key (the author).
        old: KeyBytes,
        /// Its successor.
        new: KeyBytes,
        /// The rotation's claimed time: `old`'s objects from then on are void.
        at: u64,
    },
    /// A version 2 rotation, signed by `new`, the key `old` committed to.
    Reveal {
        /// The retired key.
        old: KeyBytes,
        /// Its successor (the author).
        new: KeyBytes,
        /// The successor's own commitment (`None`: it can never be rotated).
        next: Option<KeyDigest>,
        /// `old`'s objects from this time on are void.
        cut: u64,
    },
    /// `key` is compromised: its objects from `since` on are void, and so are its version 1
    /// rotations and its `incept` commitments, whatever their time.
    Revoke {
        /// The revoked key (the author).
        key: KeyBytes,
        /// From when.
        since: u64,
    },
}

impl KeyEvent {
    /// The key event an object carries, if it is one (`incept`, `rotate`, `revoke`).
    pub fn from_object(obj: &Object) -> Option<KeyEvent> {
        let author = *obj.author.as_bytes();
        Some(match &obj.body {
            Body::Incept(i) => KeyEvent::Incept {
                key: author,
                next: i.next,
            },
            Body::Rotate(RotateBody::Handover { new, .. }) => KeyEvent::Handover {
                old: author,
                new: *new.as_bytes(),
                at: obj.at,
            },
            Body::Rotate(RotateBody::Reveal { old, next, since }) => KeyEvent::Reveal {
                old: *old.as_bytes(),
                new: author,
                next: *next,
                cut: since.unwrap_or(obj.at),
            },
            Body::Revoke(r) => KeyEvent::Revoke {
                key: author,
                since: r.since,
            },
            _ => return None,
        })
    }

    /// The keys the event names (one or two).
    fn keys(&self) -> [Option<&KeyBytes>; 2] {
        match self {
            KeyEvent::Incept { key, .. } | KeyEvent::Revoke { key, .. } => [Some(key), None],
            KeyEvent::Handover { old, new, .. } | KeyEvent::Reveal { old, new, .. } => {
                [Some(old), Some(new)]
            }
        }
    }
}

/// Why a key's objects are void from some time on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum VoidCause {
    /// Two or more conflicting commitments or version 1 rotations: the key's holder
    /// equivocated, which only a thief (or a broken client) does. Void since 0.
    Forked,
    /// Revoked by its holder.
    Revoked,
    /// Rotated to a successor.
    Rotated,
}

impl VoidCause {
    /// A stable name.
    pub const fn as_str(self) -> &'static str {
        match self {
            VoidCause::Forked => "forked",
            VoidCause::Revoked => "revoked",
            VoidCause::Rotated => "rotated",
        }
    }
}

/// What a key has committed to about its successor.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Commitment {
    /// Nothing: only a version 1 handover (or a revocation) can end it.
    #[default]
    None,
    /// One successor digest: only a version 2 rotation signed by that key counts.
    Next(KeyDigest),
    /// The key was introduced by a version 2 rotation without `next`: it can never rotate.
    Final,
    /// Conflicting commitments (the events are listed): no rotation counts, and the key is
    /// void since 0.
    Forked(Vec<ObjectId>),
}

/// A key's resolved state. The default is an ordinary, uncommitted, live key.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeyState {
    /// Its commitment.
    pub commitment: Commitment,
    /// The key it was rotated to, and the rotation (smallest id among equal ones).
    pub successor: Option<(KeyBytes, ObjectId)>,
    /// From this time on its objects are void: (time, cause, the event behind it).
    pub void: Option<(u64, VoidCause, ObjectId)>,
}

impl KeyState {
    /// The time from which the key's objects are void, if any.
    pub fn void_since(&self) -> Option<u64> {
        self.void.map(|(t, _, _)| t)
    }
}

/// Every key event received, and the state of every key they name.
#[derive(Debug, Clone, Default)]
pub struct KeyEvents {
    events: BTreeMap<ObjectId, KeyEvent>,
    by_key: BTreeMap<KeyBytes, BTreeSet<ObjectId>>,
    states: BTreeMap<KeyBytes, KeyState>,
}

/// What inserting an event changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyChange {
    /// The event was not there before.
    pub fresh: bool,
    /// Keys whose state changed.
    pub changed: Vec<KeyBytes>,
}

/// Most rotations followed from one key to its current key (against cycles).
const MAX_CHAIN: usize = 64;

impl KeyEvents {
    /// No events.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an event under its object's id; re-resolves the keys it names.
    pub fn insert(&mut self, id: ObjectId, event: KeyEvent) -> KeyChange {
        if self.events.contains_key(&id) {
            return KeyChange::default();
        }
        let keys: Vec<KeyBytes> = event.keys().into_iter().flatten().copied().collect();
        self.events.insert(id, event);
        let mut changed = Vec::new();
        for k in keys {
            self.by_key.entry(k).or_default().insert(id);
            let state = self.resolve(&k);
            let old = self.states.get(&k).cloned().unwrap_or_default();
            if state != old {
                changed.push(k);
                if state == KeyState::default() {
                    self.states.remove(&k);
                } else {
                    self.states.insert(k, state);
                }
            }
        }
        KeyChange {
            fresh: true,
            changed,
        }
    }

    /// Adds the key event `obj` carries, if any: `None` for other kinds.
    pub fn apply(&mut self, id: ObjectId, obj: &Object) -> Option<KeyChange> {
        KeyEvent::from_object(obj).map(|e| self.insert(id, e))
    }

    /// The state of `key` (the default state for a key no event names).
    pub fn state(&self, key: &KeyBytes) -> KeyState {
        self.states.get(key).cloned().unwrap_or_default()
    }

    /// Keys whose state is not the default one, with their state, in key order.
    pub fn states(&self) -> impl Iterator<Item = (&KeyBytes, &KeyState)> {
        self.states.iter()
    }

    /// The time from which `key`'s objects are void, if any.
    pub fn void_since(&self, key: &KeyBytes) -> Option<u64> {
        self.states.get(key).and_then(KeyState::void_since)
    }

    /// The key `key` rotated to, if a rotation of it counts.
    pub fn successor(&self, key: &KeyBytes) -> Option<KeyBytes> {
        self.states.get(key)?.successor.map(|(k, _)| k)
    }

    /// The key that `key` now speaks as: rotations followed (at most 64).
    pub fn current(&self, key: &KeyBytes) -> KeyBytes {
        let mut k = *key;
        for _ in 0..MAX_CHAIN {
            match self.successor(&k) {
                Some(next) => k = next,
                None => break,
            }
        }
        k
    }

    /// Number of events held.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// True when no event is held.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Resolves `key` from the events that name it (`specs/identity.md` §1.2).
    fn resolve(&self, key: &KeyBytes) -> KeyState {
        let mut revoked: Option<(u64, ObjectId)> = None;
        let mut incepts: BTreeMap<KeyDigest, Vec<ObjectId>> = BTreeMap::new();
        let mut entries: BTreeMap<Option<KeyDigest>, Vec<ObjectId>> = BTreeMap::new();
        let mut handovers: BTreeMap<KeyBytes, (u64, ObjectId)> = BTreeMap::new();
        let mut handover_ids: Vec<ObjectId> = Vec::new();
        let mut reveals: Vec<(&KeyBytes, u64, ObjectId)> = Vec::new();
        for id in self.by_key.get(key).into_iter().flatten() {
            let Some(ev) = self.events.get(id) else {
                continue;
            };
            match ev {
                KeyEvent::Revoke { key: k, since }
                    if k == key && revoked.is_none_or(|r| (*since, *id) < r) =>
                {
                    revoked = Some((*since, *id));
                }
                KeyEvent::Incept { key: k, next } if k == key => {
                    incepts.entry(*next).or_default().push(*id);
                }
                KeyEvent::Reveal { new, next, .. } if new == key => {
                    entries.entry(*next).or_default().push(*id);
                }
                KeyEvent::Reveal { old, new, cut, .. } if old == key => {
                    reveals.push((new, *cut, *id));
                }
                KeyEvent::Handover { old, new, at } if old == key => {
                    handover_ids.push(*id);
                    let e = handovers.entry(*new).or_insert((*at, *id));
                    if (*at, *id) < *e {
                        *e = (*at, *id);
                    }
                }
                _ => {}
            }
        }

        // The commitment: from the rotations that introduced the key, else from its own
        // `incept` objects unless it is revoked.
        let commitment = if !entries.is_empty() {
            match entries.len() {
                1 => match entries.keys().next() {
                    Some(Some(d)) => Commitment::Next(*d),
                    _ => Commitment::Final,
                },
                _ => Commitment::Forked(entries.values().flatten().copied().collect()),
            }
        } else if revoked.is_none() {
            match incepts.len() {
                0 => Commitment::None,
                1 => match incepts.keys().next() {
                    Some(d) => Commitment::Next(*d),
                    None => Commitment::None,
                },
                _ => Commitment::Forked(incepts.values().flatten().copied().collect()),
            }
        } else {
            Commitment::None
        };
        let has_commitment_events = !entries.is_empty() || !incepts.is_empty();

        let mut forked_by: Option<ObjectId> = match &commitment {
            Commitment::Forked(ids) => ids.iter().min().copied(),
            _ => None,
        };
        let mut successor: Option<(KeyBytes, u64, ObjectId)> = None;
        match &commitment {
            Commitment::Next(d) => {
                for (new, cut, id) in reveals {
                    let Ok(pk) = PublicKey::from_bytes(new) else {
                        continue;
                    };
                    if pk.next_key_digest() != *d {
                        continue;
                    }
                    successor = Some(match successor {
                        Some((n, c, i)) => (n, c.min(cut), i.min(id)),
                        None => (*new, cut, id),
                    });
                }
            }
            Commitment::None if !has_commitment_events && revoked.is_none() => {
                match handovers.len() {
                    0 => {}
                    1 => {
                        if let Some((new, (at, id))) = handovers.iter().next() {
                            successor = Some((*new, *at, *id));
                        }
                    }
                    _ => forked_by = handover_ids.iter().min().copied(),
                }
            }
            _ => {}
        }

        let mut void: Option<(u64, VoidCause, ObjectId)> = None;
        let mut consider = |t: u64, cause: VoidCause, id: ObjectId| {
            if void.is_none_or(|v| (t, cause, id) < v) {
                void = Some((t, cause, id));
            }
        };
        if let Some(id) = forked_by {
            consider(0, VoidCause::Forked, id);
        }
        if let Some((since, id)) = revoked {
            consider(since, VoidCause::Revoked, id);
        }
        if let Some((_, cut, id)) = successor {
            consider(cut, VoidCause::Rotated, id);
        }
        let commitment = match (&commitment, forked_by) {
            (Commitment::None, Some(_)) => Commitment::Forked(handover_ids),
            _ => commitment,
        };
        KeyState {
            commitment,
            successor: successor.map(|(k, _, id)| (k, id)),
            void,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use vouch_identity::SecretKey;

    fn key(n: u8) -> SecretKey {
        SecretKey::from_seed(&[n; 32])
    }
    fn b(n: u8) -> KeyBytes {
        *key(n).public_key().as_bytes()
    }
    fn d(n: u8) -> KeyDigest {
        key(n).public_key().next_key_digest()
    }
    fn id(n: u8) -> ObjectId {
        ObjectId([n; 32])
    }

    #[test]
    fn only_the_committed_key_rotates() {
        let mut ev = KeyEvents::new();
        ev.insert(
            id(1),
            KeyEvent::Incept {
                key: b(1),
                next: d(2),
            },
        );
        // A reveal by a key that was not committed to: nothing.
        let ch = ev.insert(
            id(2),
            KeyEvent::Reveal {
                old: b(1),
                new: b(9),
                next: None,
                cut: 10,
            },
        );
        assert!(ch.fresh && !ch.changed.contains(&b(1)));
        assert_eq!(ev.current(&b(1)), b(1));
        // A handover by the committed key itself: ignored.
        ev.insert(
            id(3),
            KeyEvent::Handover {
                old: b(1),
                new: b(8),
                at: 5,
            },
        );
        assert_eq!(ev.current(&b(1)), b(1));
        // The committed key reveals itself: it counts, and names its own successor.
        ev.insert(
            id(4),
            KeyEvent::Reveal {
                old: b(1),
                new: b(2),
                next: Some(d(3)),
                cut: 100,
            },
        );
        assert_eq!(ev.current(&b(1)), b(2));
        assert_eq!(ev.void_since(&b(1)), Some(100));
        assert_eq!(ev.state(&b(2)).commitment, Commitment::Next(d(3)));
        // An incept by the new key cannot replace the commitment it was introduced with.
        ev.insert(
            id(5),
            KeyEvent::Incept {
                key: b(2),
                next: d(7),
            },
        );
        assert_eq!(ev.state(&b(2)).commitment, Commitment::Next(d(3)));
        // Duplicate inserts change nothing.
        assert_eq!(
            ev.insert(
                id(5),
                KeyEvent::Incept {
                    key: b(2),
                    next: d(7)
                }
            ),
            KeyChange::default()
        );
    }

    #[test]
    fn conflicting_commitments_fork_and_void_the_key() {
        let mut ev = KeyEvents::new();
        ev.insert(
            id(1),
            KeyEvent::Incept {
                key: b(1),
                next: d(2),
            },
        );
        ev.insert(
            id(2),
            KeyEvent::Incept {
                key: b(1),
                next: d(3),
            },
        );
        for (n, i) in [(2, 3), (3, 4)] {
            ev.insert(
                id(i),
                KeyEvent::Reveal {
                    old: b(1),
                    new: b(n),
                    next: None,
                    cut: 50,
                },
            );
        }
        let s = ev.state(&b(1));
        assert_eq!(s.commitment, Commitment::Forked(vec![id(1), id(2)]));
        assert_eq!(s.successor, None);
        assert_eq!(s.void, Some((0, VoidCause::Forked, id(1))));
        // Two different handovers of an uncommitted key fork it too.
        ev.insert(
            id(10),
            KeyEvent::Handover {
                old: b(5),
                new: b(6),
                at: 1,
            },
        );
        assert_eq!(ev.current(&b(5)), b(6));
        ev.insert(
            id(11),
            KeyEvent::Handover {
                old: b(5),
                new: b(7),
                at: 2,
            },
        );
        assert_eq!(ev.current(&b(5)), b(5));
        assert_eq!(ev.state(&b(5)).void, Some((0, VoidCause::Forked, id(10))));
    }

    #[test]
    fn revocation_voids_handovers_and_incepts_but_not_a_committed_chain() {
        let mut ev = KeyEvents::new();
        // Uncommitted key 1: a handover, then a revocation that voids it.
        ev.insert(
            id(1),
            KeyEvent::Handover {
                old: b(1),
                new: b(2),
                at: 500,
            },
        );
        assert_eq!(ev.current(&b(1)), b(2));
        ev.insert(
            id(2),
            KeyEvent::Revoke {
                key: b(1),
                since: 900,
            },
        );
        assert_eq!(ev.current(&b(1)), b(1));
        assert_eq!(ev.state(&b(1)).void, Some((900, VoidCause::Revoked, id(2))));
        // Key 3 introduced by a committed rotation: revoking it keeps its commitment, so
        // the key it committed to can still take over.
        ev.insert(
            id(3),
            KeyEvent::Incept {
                key: b(4),
                next: d(3),
            },
        );
        ev.insert(
            id(4),
            KeyEvent::Reveal {
                old: b(4),
                new: b(3),
                next: Some(d(5)),
                cut: 10,
            },
        );
        ev.insert(
            id(5),
            KeyEvent::Revoke {
                key: b(3),
                since: 20,
            },
        );
        ev.insert(
            id(6),
            KeyEvent::Reveal {
                old: b(3),
                new: b(5),
                next: None,
                cut: 30,
            },
        );
        assert_eq!(ev.current(&b(4)), b(5));
        assert_eq!(ev.state(&b(3)).void, Some((20, VoidCause::Revoked, id(5))));
        assert_eq!(ev.state(&b(5)).commitment, Commitment::Final);
    }
}
