//! The web console's login: one-time login codes (a minute, single use, bound to a
//! principal) and the sessions they open (`vouch_session` cookie, kept as SHA-256 hashes,
//! bounded in number and age). Time is passed in, so the rules are tested without a clock.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};

use crate::api::auth::Principal;

/// How long a login code stays usable.
pub(crate) const CODE_TTL: Duration = Duration::from_secs(60);
/// How long a session lasts from login, whatever its use.
pub(crate) const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// Most login codes waiting to be used; the oldest is dropped for a new one.
pub(crate) const MAX_CODES: usize = 64;
/// Most open sessions; the oldest is closed for a new one.
pub(crate) const MAX_SESSIONS: usize = 1024;
/// The session cookie's name.
pub(crate) const COOKIE: &str = "vouch_session";

#[derive(Debug)]
struct Entry {
    who: Principal,
    created: Instant,
    expires: Instant,
}

/// Login codes and sessions, by the SHA-256 of their secrets.
#[derive(Debug, Default)]
pub(crate) struct Sessions {
    codes: Mutex<HashMap<[u8; 32], Entry>>,
    sessions: Mutex<HashMap<[u8; 32], Entry>>,
}

fn sha256(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

fn secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// 8 random bytes in hex: names a console session's principal in rate buckets.
pub(crate) fn random_id() -> String {
    let mut bytes = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Keeps `map` within `max` entries after dropping expired ones (oldest first).
fn make_room(map: &mut HashMap<[u8; 32], Entry>, max: usize, now: Instant) {
    map.retain(|_, e| e.expires > now);
    while map.len() >= max {
        let Some(oldest) = map.iter().min_by_key(|(_, e)| e.created).map(|(k, _)| *k) else {
            break;
        };
        map.remove(&oldest);
    }
}

fn lock(
    m: &Mutex<HashMap<[u8; 32], Entry>>,
) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Entry>> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Sessions {
    /// A new login code for `who`, usable once within [`CODE_TTL`].
    pub(crate) fn new_code(&self, who: Principal, now: Instant) -> String {
        let code = secret();
        let mut codes = lock(&self.codes);
        make_room(&mut codes, MAX_CODES, now);
        codes.insert(
            sha256(&code),
            Entry {
                who,
                created: now,
                expires: now + CODE_TTL,
            },
        );
        code
    }

    /// Spends `code` (whatever the outcome it cannot be used again) and opens a session for
    /// its principal: returns the session's secret, for the cookie.
    pub(crate) fn login(&self, code: &str, now: Instant) -> Option<(String, Principal)> {
        let entry = lock(&self.codes).remove(&sha256(code))?;
        if entry.expires <= now {
            return None;
        }
        let session = secret();
        let mut sessions = lock(&self.sessions);
        make_room(&mut sessions, MAX_SESSIONS, now);
        sessions.insert(
            sha256(&session),
            Entry {
                who: entry.who.clone(),
                created: now,
                expires: now + SESSION_TTL,
            },
        );
        Some((session, entry.who))
    }

    /// Who the session `secret` belongs to, if it is open.
    pub(crate) fn principal(&self, secret: &str, now: Instant) -> Option<Principal> {
        let mut sessions = lock(&self.sessions);
        let key = sha256(secret);
        match sessions.get(&key) {
            Some(e) if e.expires > now => Some(e.who.clone()),
            Some(_) => {
                sessions.remove(&key);
                None
            }
            None => None,
        }
    }

    /// Closes the session `secret`; true if it was open.
    pub(crate) fn logout(&self, secret: &str) -> bool {
        lock(&self.sessions).remove(&sha256(secret)).is_some()
    }

    /// Closes every session and code of the viewer `viewer` (the viewer was deleted).
    pub(crate) fn forget_viewer(&self, viewer: &vouch_identity::PublicKey) {
        let of_viewer = |e: &Entry| matches!(&e.who, Principal::Viewer(t) if t.viewer == *viewer);
        lock(&self.codes).retain(|_, e| !of_viewer(e));
        lock(&self.sessions).retain(|_, e| !of_viewer(e));
    }
}

/// The value of the `vouch_session` cookie in a `Cookie` header, if any.
pub(crate) fn cookie_value(header: &str) -> Option<&str> {
    header.split(';').find_map(|pair| {
        let (name, value) = pair.trim().split_once('=')?;
        (name == COOKIE && !value.is_empty()).then_some(value)
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::Arc;

    use super::*;
    use crate::api::auth::{Scope, ViewerToken};

    fn viewer(n: u8) -> Principal {
        Principal::Viewer(Arc::new(ViewerToken {
            id: format!("console-{n}"),
            viewer: vouch_identity::SecretKey::from_seed(&[n; 32]).public_key(),
            scope: Scope::Policy,
            label: String::new(),
            created_ms: 0,
        }))
    }

    #[test]
    fn a_code_opens_one_session_once_within_its_minute() {
        let s = Sessions::default();
        let t0 = Instant::now();
        let code = s.new_code(Principal::Admin, t0);
        assert!(s.login("not-the-code", t0).is_none());
        let (session, who) = s.login(&code, t0 + Duration::from_secs(59)).unwrap();
        assert!(matches!(who, Principal::Admin));
        assert!(s.login(&code, t0).is_none(), "a code is single use");
        assert!(matches!(
            s.principal(&session, t0 + Duration::from_secs(3600)),
            Some(Principal::Admin)
        ));
        assert!(s.principal(&code, t0).is_none(), "a code is not a session");
        // An expired code is spent too, and opens nothing.
        let late = s.new_code(Principal::Admin, t0);
        assert!(s.login(&late, t0 + CODE_TTL).is_none());
        assert!(s.login(&late, t0).is_none());
        // Sessions end after SESSION_TTL and at logout.
        assert!(s.principal(&session, t0 + SESSION_TTL + CODE_TTL).is_none());
        let code = s.new_code(Principal::Admin, t0);
        let (session, _) = s.login(&code, t0).unwrap();
        assert!(s.logout(&session));
        assert!(!s.logout(&session));
        assert!(s.principal(&session, t0).is_none());
    }

    #[test]
    fn codes_and_sessions_are_bounded_and_a_deleted_viewer_loses_its_sessions() {
        let s = Sessions::default();
        let t0 = Instant::now();
        let first = s.new_code(Principal::Admin, t0);
        for i in 0..MAX_CODES {
            s.new_code(Principal::Admin, t0 + Duration::from_millis(1 + i as u64));
        }
        assert_eq!(lock(&s.codes).len(), MAX_CODES);
        assert!(s.login(&first, t0).is_none(), "the oldest code made room");

        let code = s.new_code(viewer(1), t0);
        let (mine, who) = s.login(&code, t0).unwrap();
        assert!(matches!(who, Principal::Viewer(_)));
        let code = s.new_code(viewer(2), t0);
        let (other, _) = s.login(&code, t0).unwrap();
        let gone = vouch_identity::SecretKey::from_seed(&[1; 32]).public_key();
        s.forget_viewer(&gone);
        assert!(s.principal(&mine, t0).is_none());
        assert!(s.principal(&other, t0).is_some());
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        assert_eq!(cookie_value("vouch_session=abc"), Some("abc"));
        assert_eq!(cookie_value("a=1; vouch_session=abc; b=2"), Some("abc"));
        assert_eq!(cookie_value("vouch_sessionx=abc"), None);
        assert_eq!(cookie_value("vouch_session="), None);
        assert_eq!(cookie_value(""), None);
    }
}
