//! `vouch demo`: a small local network of real nodes with a generated community, and what a
//! viewer sees with and without Vouch.

pub mod community;
