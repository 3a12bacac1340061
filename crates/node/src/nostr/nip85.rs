//! NIP-85 trusted assertions out: a service key per viewer (NIP-85 asks for one key per
//! personalized point of view), derived from the node's service secret; kind 30382 events
//! with the viewer's personalized `rank` and `followers` of a subject; and the rule for
//! when a changed rank is worth republishing. Pure.

use std::collections::BTreeMap;

use k256::schnorr::SigningKey;
use sha2::{Digest, Sha256};

use super::event::{sign_event, Event, EventError};
use super::keys::NostrKey;

/// NIP-85 user assertion.
pub(crate) const KIND_USER_ASSERTION: u32 = 30_382;

/// The service key the node signs `viewer`'s assertions with: a scalar derived from the
/// node's secret and the viewer's key (try-and-increment until it is a valid scalar).
pub(crate) fn service_key(secret: &[u8; 32], viewer: &NostrKey) -> SigningKey {
    let mut counter: u32 = 0;
    loop {
        let mut h = Sha256::new();
        h.update(b"vouch/v1/nip85-service-key\0");
        h.update(secret);
        h.update(viewer.0);
        h.update(counter.to_be_bytes());
        let b: [u8; 32] = h.finalize().into();
        if let Ok(k) = SigningKey::from_bytes(&b) {
            return k;
        }
        // Fails only for 0 or values >= the group order: probability about 2^-128.
        counter = counter.wrapping_add(1);
    }
}

/// The x-only public key of a signing key.
pub(crate) fn public(key: &SigningKey) -> NostrKey {
    NostrKey(key.verifying_key().to_bytes().into())
}

/// What the node asserts about one subject for one viewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Assertion {
    /// The subject.
    pub subject: NostrKey,
    /// 0..=100: the subject's place among every author the viewer's trust reaches (its
    /// score's percentile), 0 when the viewer's trust does not reach it.
    pub rank: u8,
    /// How many keys the viewer's trust reaches follow the subject.
    pub followers: u64,
}

/// Ranks from trust scores: 0 for a score of 0; otherwise 1 + 99 * (the share of reached
/// authors with a lower score), so the most trusted author gets 100.
pub(crate) fn ranks(scores: &[(NostrKey, f64)]) -> BTreeMap<NostrKey, u8> {
    let mut positive: Vec<f64> = scores
        .iter()
        .map(|(_, s)| *s)
        .filter(|s| *s > 0.0)
        .collect();
    positive.sort_by(f64::total_cmp);
    let n = positive.len();
    scores
        .iter()
        .map(|(k, s)| {
            let r = if *s > 0.0 && n > 0 {
                let below = positive.partition_point(|x| x < s);
                let share = if n == 1 {
                    1.0
                } else {
                    below as f64 / (n - 1) as f64
                };
                (1.0 + 99.0 * share).round().clamp(1.0, 100.0) as u8
            } else {
                0
            };
            (*k, r)
        })
        .collect()
}

/// The kind 30382 event for one assertion.
pub(crate) fn assertion_event(
    key: &SigningKey,
    a: &Assertion,
    created_at: u64,
    aux: &[u8; 32],
) -> Result<Event, EventError> {
    sign_event(
        key,
        created_at,
        KIND_USER_ASSERTION,
        vec![
            vec!["d".into(), a.subject.to_hex()],
            vec!["p".into(), a.subject.to_hex()],
            vec!["rank".into(), a.rank.to_string()],
            vec!["followers".into(), a.followers.to_string()],
        ],
        String::new(),
        aux,
    )
}

/// The assertions worth publishing: new subjects, and subjects whose rank moved by at
/// least `threshold` since it was last published (a rank that fell to 0 is published once,
/// so clients stop trusting the old one).
pub(crate) fn due(
    current: &[Assertion],
    published: &BTreeMap<NostrKey, u8>,
    threshold: u8,
) -> Vec<Assertion> {
    current
        .iter()
        .filter(|a| match published.get(&a.subject) {
            None => a.rank > 0,
            Some(&old) => old.abs_diff(a.rank) >= threshold.max(1),
        })
        .copied()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nostr::event::{verify_event, EventLimits};

    #[test]
    fn keys_differ_per_viewer_and_are_stable() {
        let s = [5u8; 32];
        let a = public(&service_key(&s, &NostrKey([1; 32])));
        let b = public(&service_key(&s, &NostrKey([2; 32])));
        assert_ne!(a, b);
        assert_eq!(a, public(&service_key(&s, &NostrKey([1; 32]))));
        assert_ne!(a, public(&service_key(&[6; 32], &NostrKey([1; 32]))));
    }

    #[test]
    fn ranks_are_percentiles_of_positive_scores() {
        let k = |n: u8| NostrKey([n; 32]);
        let r = ranks(&[(k(1), 0.5), (k(2), 0.1), (k(3), 0.0), (k(4), 0.3)]);
        assert_eq!(r[&k(1)], 100);
        assert_eq!(r[&k(2)], 1);
        assert_eq!(r[&k(3)], 0);
        assert_eq!(r[&k(4)], 51);
        assert_eq!(ranks(&[(k(1), 0.2)])[&k(1)], 100);
    }

    #[test]
    fn assertions_verify_and_carry_the_fields() {
        let key = service_key(&[5; 32], &NostrKey([1; 32]));
        let a = Assertion {
            subject: NostrKey([9; 32]),
            rank: 42,
            followers: 7,
        };
        let e = assertion_event(&key, &a, 1_767_225_600, &[1; 32]).unwrap();
        let bytes = serde_json::to_vec(&e.to_json()).unwrap();
        let back = verify_event(&bytes, &EventLimits::default(), 1_767_225_600).unwrap();
        assert_eq!(back.kind, KIND_USER_ASSERTION);
        assert_eq!(back.tag_value("d"), Some(hex::encode([9u8; 32]).as_str()));
        assert_eq!(back.tag_value("rank"), Some("42"));
        assert_eq!(back.tag_value("followers"), Some("7"));
        assert_eq!(NostrKey(back.pubkey), public(&key));
    }

    #[test]
    fn only_real_changes_are_republished() {
        let k = |n: u8| NostrKey([n; 32]);
        let a = |n: u8, rank: u8| Assertion {
            subject: k(n),
            rank,
            followers: 0,
        };
        let published = BTreeMap::from([(k(1), 50), (k(2), 50), (k(3), 20)]);
        let now = [a(1, 53), a(2, 56), a(3, 0), a(4, 10), a(5, 0)];
        let due: Vec<u8> = due(&now, &published, 5)
            .iter()
            .map(|x| x.subject.0[0])
            .collect();
        assert_eq!(due, vec![2, 3, 4]);
    }
}
