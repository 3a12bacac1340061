//! Vouch reputation core.
#![deny(missing_docs)]
