//! The node's clock: the only place that reads wall time.
//!
//! For tests only, `VOUCH_TEST_CLOCK_OFFSET_MS` (a signed number of milliseconds, read once
//! at the first call) shifts every reading: the attack suite runs honest nodes whose clocks
//! are minutes apart on one machine. Nothing else reads it, and a value that does not parse
//! is ignored (the clock stays true). Never set it on a node that serves anyone.

use std::sync::OnceLock;

/// The environment variable that shifts the node's clock (tests only).
pub const TEST_CLOCK_OFFSET_ENV: &str = "VOUCH_TEST_CLOCK_OFFSET_MS";

fn offset_ms() -> i64 {
    static OFFSET: OnceLock<i64> = OnceLock::new();
    *OFFSET.get_or_init(|| parse_offset(std::env::var(TEST_CLOCK_OFFSET_ENV).ok().as_deref()))
}

fn parse_offset(v: Option<&str>) -> i64 {
    v.and_then(|s| s.trim().parse::<i64>().ok()).unwrap_or(0)
}

/// Milliseconds since the Unix epoch (0 if the clock is before it), shifted by the test
/// offset when one is set.
pub fn now_ms() -> u64 {
    let real = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    shift(real, offset_ms())
}

fn shift(real: u64, offset: i64) -> u64 {
    if offset >= 0 {
        real.saturating_add(offset.unsigned_abs())
    } else {
        real.saturating_sub(offset.unsigned_abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_offset_parses_and_shifts_both_ways() {
        assert_eq!(parse_offset(None), 0);
        assert_eq!(parse_offset(Some("-120000")), -120_000);
        assert_eq!(parse_offset(Some(" 5000 ")), 5_000);
        assert_eq!(parse_offset(Some("two minutes")), 0);
        assert_eq!(shift(1_000_000, -120_000), 880_000);
        assert_eq!(shift(1_000_000, 5_000), 1_005_000);
        assert_eq!(shift(10, -20), 0);
    }
}
