//! How the signing commands read keys, subjects, groups, lists and times from the command
//! line.

use std::path::PathBuf;

use anyhow::{anyhow, bail, Context, Result};
use vouch_identity::PublicKey;
use vouch_reputation::{GroupRef, ListRef, ObjectId, Subject};

/// A public key: a `did:key:z6Mk…`, 64 hex digits, or the name of a key in the key folder.
pub(crate) fn key_ref(s: &str, key_dir: Option<&PathBuf>) -> Result<PublicKey> {
    if s.starts_with("did:") {
        return PublicKey::from_did_key(s).map_err(|e| anyhow!("[{}] {e}: {s}", e.code()));
    }
    if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        let bytes = hex::decode(s).context("hex key")?;
        return PublicKey::from_bytes(&bytes).map_err(|e| anyhow!("[{}] {e}: {s}", e.code()));
    }
    let sk = crate::cli::keys::load_key(key_dir.cloned(), s)
        .with_context(|| format!("{s:?} is not a did:key, a hex key or the name of a local key"))?;
    Ok(sk.public_key())
}

/// A subject: an object's CID (`bafyrei…`), else a key as in [`key_ref`].
pub(crate) fn subject(s: &str, key_dir: Option<&PathBuf>) -> Result<Subject> {
    if s.starts_with('b') && !s.starts_with("did:") {
        if let Ok(id) = s.parse::<ObjectId>() {
            return Ok(Subject::Object(id));
        }
    }
    key_ref(s, key_dir).map(Subject::Key)
}

/// An object id (CIDv1 dag-cbor sha2-256).
pub(crate) fn object_id(s: &str) -> Result<ObjectId> {
    s.parse::<ObjectId>()
        .map_err(|e| anyhow!("[{}] {e}: {s:?}", e.code()))
}

/// `OWNER/NAME` (OWNER as in [`key_ref`]), or a bare `NAME` owned by `default_owner`.
fn owner_and_name(
    s: &str,
    default_owner: &PublicKey,
    key_dir: Option<&PathBuf>,
) -> Result<(PublicKey, String)> {
    match s.split_once('/') {
        Some((owner, name)) if !owner.is_empty() => {
            if name.is_empty() {
                bail!("empty name in {s:?}");
            }
            Ok((key_ref(owner, key_dir)?, name.to_owned()))
        }
        _ if s.is_empty() => bail!("empty name"),
        _ => Ok((*default_owner, s.to_owned())),
    }
}

/// A group: `OWNER/NAME`, or `NAME` for a group of the signing key.
pub(crate) fn group_ref(
    s: &str,
    signer: &PublicKey,
    key_dir: Option<&PathBuf>,
) -> Result<GroupRef> {
    let (owner, name) = owner_and_name(s, signer, key_dir)?;
    Ok(GroupRef { owner, name })
}

/// A list: `OWNER/NAME`, or `NAME` for a list of the signing key.
pub(crate) fn list_ref(s: &str, signer: &PublicKey, key_dir: Option<&PathBuf>) -> Result<ListRef> {
    let (owner, name) = owner_and_name(s, signer, key_dir)?;
    Ok(ListRef { owner, name })
}

/// A point in time, as milliseconds since the Unix epoch. Accepted: `now`; a number of
/// milliseconds; `+30d` / `-2h` (`s`, `m`, `h`, `d`, `w` from now); a UTC date `2026-12-31`
/// or time `2026-12-31T23:59:59Z`.
pub(crate) fn time(s: &str, now: u64) -> Result<u64> {
    let s = s.trim();
    if s == "now" {
        return Ok(now);
    }
    if let Ok(ms) = s.parse::<u64>() {
        return Ok(ms);
    }
    if let Some(rest) = s.strip_prefix('+').or_else(|| s.strip_prefix('-')) {
        let unit_ms: u64 = match rest.chars().last() {
            Some('s') => 1_000,
            Some('m') => 60_000,
            Some('h') => 3_600_000,
            Some('d') => 86_400_000,
            Some('w') => 7 * 86_400_000,
            _ => bail!("a relative time ends with s, m, h, d or w: {s:?}"),
        };
        let n: u64 = rest[..rest.len() - 1]
            .parse()
            .with_context(|| format!("not a relative time: {s:?}"))?;
        let delta = n
            .checked_mul(unit_ms)
            .ok_or_else(|| anyhow!("time out of range: {s:?}"))?;
        return if s.starts_with('+') {
            now.checked_add(delta)
        } else {
            now.checked_sub(delta)
        }
        .ok_or_else(|| anyhow!("time out of range: {s:?}"));
    }
    utc_date_time(s).ok_or_else(|| {
        anyhow!("not a time: {s:?} (now, milliseconds, +30d, 2026-12-31 or 2026-12-31T23:59:59Z)")
    })
}

/// `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM:SSZ` (UTC) in ms since the epoch.
fn utc_date_time(s: &str) -> Option<u64> {
    let (date, clock) = match s.split_once('T') {
        Some((d, t)) => (d, Some(t.strip_suffix('Z')?)),
        None => (s, None),
    };
    let mut d = date.split('-');
    let year: i64 = d.next()?.parse().ok()?;
    let month: i64 = d.next()?.parse().ok()?;
    let day: i64 = d.next()?.parse().ok()?;
    if d.next().is_some() || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let (mut h, mut m, mut sec) = (0i64, 0i64, 0i64);
    if let Some(t) = clock {
        let mut p = t.split(':');
        h = p.next()?.parse().ok()?;
        m = p.next()?.parse().ok()?;
        sec = p.next()?.parse().ok()?;
        if p.next().is_some() || h > 23 || m > 59 || sec > 60 {
            return None;
        }
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + h * 3_600 + m * 60 + sec;
    u64::try_from(secs).ok()?.checked_mul(1_000)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn times() {
        let now = 1_700_000_000_000;
        assert_eq!(time("now", now).unwrap(), now);
        assert_eq!(time("123", now).unwrap(), 123);
        assert_eq!(time("+30d", now).unwrap(), now + 30 * 86_400_000);
        assert_eq!(time("-2h", now).unwrap(), now - 7_200_000);
        assert_eq!(time("1970-01-02", now).unwrap(), 86_400_000);
        // 2026-12-31T23:59:59Z, as `date -u -d 2026-12-31T23:59:59Z +%s` prints it.
        assert_eq!(
            time("2026-12-31T23:59:59Z", now).unwrap(),
            1_798_761_599_000
        );
        assert_eq!(time("2000-03-01", now).unwrap(), 951_868_800_000);
        for bad in [
            "",
            "+3y",
            "tomorrow",
            "2026-13-01",
            "2026-01-01T10:00",
            "-1",
        ] {
            assert!(time(bad, now).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn groups_and_subjects() {
        let k = vouch_identity::SecretKey::from_seed(&[7; 32]).public_key();
        let other = vouch_identity::SecretKey::from_seed(&[8; 32]).public_key();
        let g = group_ref("club", &k, None).unwrap();
        assert_eq!((g.owner, g.name.as_str()), (k, "club"));
        let g = group_ref(&format!("{}/a/b", other.to_did_key()), &k, None).unwrap();
        assert_eq!((g.owner, g.name.as_str()), (other, "a/b"));
        let l = list_ref(&format!("{}/spam", hex::encode(other.as_bytes())), &k, None).unwrap();
        assert_eq!((l.owner, l.name.as_str()), (other, "spam"));
        assert_eq!(
            subject(&other.to_did_key(), None).unwrap(),
            Subject::Key(other)
        );
        let id = ObjectId::of_bytes(b"x");
        assert_eq!(subject(&id.to_string(), None).unwrap(), Subject::Object(id));
        assert!(group_ref("", &k, None).is_err());
        assert!(group_ref("did:key:z6Mkbad/x", &k, None).is_err());
    }
}
