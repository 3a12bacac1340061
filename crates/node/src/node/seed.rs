//! The process's secret seed for the hash maps of compiled views.
//!
//! `vouch_reputation::View` keys its maps with a seed the host chooses, so that nobody can
//! grind keys or object ids that all land in one bucket of a node's maps (a cheap
//! denial of service against every decision). The node draws it once per process from the
//! operating system; decisions never depend on it.

use std::sync::OnceLock;

use rand_core::{OsRng, RngCore};

/// The seed every view this process builds uses: random, drawn on first use.
pub(crate) fn view_seed() -> u64 {
    static SEED: OnceLock<u64> = OnceLock::new();
    *SEED.get_or_init(|| OsRng.next_u64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_seed_per_process() {
        assert_eq!(view_seed(), view_seed());
    }
}
