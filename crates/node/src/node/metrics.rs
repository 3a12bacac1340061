//! Node metrics: plain atomic counters and gauges, rendered in the Prometheus text format.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

macro_rules! metrics {
    ($($(#[doc = $doc:literal])* $name:ident: $kind:literal,)*) => {
        /// Every counter and gauge of a running node.
        #[derive(Debug, Default)]
        pub struct Metrics {
            $($(#[doc = $doc])* pub $name: AtomicU64,)*
        }

        impl Metrics {
            /// The metrics in the Prometheus text exposition format.
            pub fn render(&self) -> String {
                let mut out = String::new();
                $(
                    let help = [$($doc),*].join(" ");
                    let _ = writeln!(out, "# HELP vouch_{} {}", stringify!($name), help.trim());
                    let _ = writeln!(out, "# TYPE vouch_{} {}", stringify!($name), $kind);
                    let _ = writeln!(out, "vouch_{} {}", stringify!($name), self.$name.load(Ordering::Relaxed));
                )*
                out
            }

            /// The metrics as `(name, value)` pairs, for JSON status output.
            pub fn snapshot(&self) -> Vec<(&'static str, u64)> {
                vec![$((stringify!($name), self.$name.load(Ordering::Relaxed)),)*]
            }
        }
    };
}

metrics! {
    /// Objects newly stored.
    objects_stored_total: "counter",
    /// Objects received again and ignored (ingest is idempotent).
    objects_duplicate_total: "counter",
    /// Transactions the store writer committed (objects per commit = stored / commits).
    store_commits_total: "counter",
    /// Objects rejected by validation (any source).
    objects_invalid_total: "counter",
    /// Valid objects not stored or relayed because the replication policy hides them.
    objects_refused_by_policy_total: "counter",
    /// Of those, posts whose author is refused everywhere (`refused-blocked-author`).
    objects_refused_blocked_author_total: "counter",
    /// Of those, posts whose author is refused in the post's group (`refused-banned-in-group`).
    objects_refused_banned_in_group_total: "counter",
    /// Authors refused everywhere by the config's static rules.
    replication_authors_config: "gauge",
    /// Authors refused everywhere because the viewers' policies hide them by a block list.
    replication_authors_policies: "gauge",
    /// Authors refused everywhere (config and policies).
    replication_authors_refused: "gauge",
    /// `(group, author)` rules from the config.
    replication_group_bans_config: "gauge",
    /// `(group, author)` rules from the viewers' policies (a group's ban hides the author).
    replication_group_bans_policies: "gauge",
    /// `(group, author)` rules in force (config and policies).
    replication_group_bans_refused: "gauge",
    /// Times the engine derived the replication filter from the viewers' policies.
    replication_filter_builds_total: "counter",
    /// Times the derived filter differed from the one in force and replaced it.
    replication_filter_changes_total: "counter",
    /// Decisions asked of the viewers' views while deriving the filter.
    replication_filter_decisions_total: "counter",
    /// Microseconds spent deriving the filter.
    replication_filter_build_micros_total: "counter",
    /// List entries left out of a derivation because of `replication.max_candidates`.
    replication_candidates_skipped_total: "counter",
    /// Gossip messages accepted and relayed.
    gossip_accepted_total: "counter",
    /// Gossip messages rejected (invalid: the sender's score drops).
    gossip_rejected_total: "counter",
    /// Gossip messages ignored (valid but unwanted, or already known).
    gossip_ignored_total: "counter",
    /// Objects published by this node.
    gossip_published_total: "counter",
    /// Peers banned and disconnected for sending invalid objects.
    peers_banned_total: "counter",
    /// Currently connected peers.
    peers_connected: "gauge",
    /// Catch-up sessions completed (one per peer and topic).
    sync_sessions_total: "counter",
    /// Negentropy round trips made as the initiator.
    sync_round_trips_total: "counter",
    /// Bytes of negentropy messages sent as the initiator.
    sync_bytes_sent_total: "counter",
    /// Bytes of negentropy messages received as the initiator.
    sync_bytes_received_total: "counter",
    /// Objects fetched by id after reconciliation.
    sync_objects_fetched_total: "counter",
    /// Reconciliation requests answered for peers.
    sync_requests_served_total: "counter",
    /// Times a bounded queue was full and work was dropped or refused.
    queue_full_total: "counter",
    /// Requests or messages refused for exceeding a limit.
    limit_exceeded_total: "counter",
    /// Objects the engine applied to its trust graph and moderation state.
    engine_objects_applied_total: "counter",
    /// Stored objects the engine could not decode (left out of the derived state).
    engine_objects_undecodable_total: "counter",
    /// The last store seq the engine applied.
    engine_seq: "gauge",
    /// Authors in the trust graph.
    engine_authors: "gauge",
    /// Local viewers.
    engine_viewers: "gauge",
    /// Local viewers whose stored policy cannot be read (kept, not served; `/v1/status`
    /// names them; writing a new policy repairs one).
    engine_viewers_unreadable: "gauge",
    /// Posts in the in-memory post index.
    engine_posts_indexed: "gauge",
    /// Posts not indexed because the index was full (decisions read them from the store).
    engine_post_index_full_total: "counter",
    /// Incremental trust view updates.
    engine_trust_updates_total: "counter",
    /// Compiled views built.
    engine_view_builds_total: "counter",
    /// Microseconds spent building views.
    engine_view_build_micros_total: "counter",
    /// View diffs computed for event streams.
    engine_diffs_total: "counter",
    /// Events sent to event streams.
    events_sent_total: "counter",
    /// Events a slow stream missed.
    events_lagged_total: "counter",
    /// Open event streams.
    event_streams: "gauge",
    /// Batch decide calls answered.
    api_decide_calls_total: "counter",
    /// Items decided through the API.
    api_decide_items_total: "counter",
    /// Calls refused for a missing or wrong bearer token.
    api_unauthorized_total: "counter",
    /// Inbound connections refused because their IP address had too many already.
    net_ip_limit_refused_total: "counter",
    /// Inbound connections refused because their network prefix (IPv4 /24, IPv6 /64) had
    /// too many already.
    net_prefix_limit_refused_total: "counter",
    /// Dials refused because the address is outside the scopes the config allows.
    net_dials_refused_total: "counter",
    /// Gossip messages ignored because their sender was over its rate.
    gossip_rate_limited_total: "counter",
    /// Gossip messages ignored because they are valid only on another clock or version
    /// (future timestamp, unknown kind or version, bounds): no penalty.
    gossip_ignored_clock_or_version_total: "counter",
    /// Faults counted against peers (bad encodings, bad signatures, protocol violations).
    peer_faults_total: "counter",
    /// Bans that ended.
    peers_unbanned_total: "counter",
    /// Peers banned now.
    peers_banned: "gauge",
    /// Catch-up sessions cut at the cap on ids per session.
    sync_ids_capped_total: "counter",
    /// Fetched objects that were not requested or not on the session's topic.
    sync_unrequested_total: "counter",
    /// Ids left out of fetches because this node refused them before (bloom filter).
    sync_skipped_refused_total: "counter",
    /// Catch-up requests refused because the peer was over its serving quota.
    sync_serving_quota_total: "counter",
    /// Times the responder rebuilt a topic's reconciliation index.
    sync_index_builds_total: "counter",
    /// Objects put in quarantine (authors outside the viewers' reach).
    quarantine_stored_total: "counter",
    /// Objects refused because their author's quarantine quota was full.
    quarantine_author_full_total: "counter",
    /// Quarantined objects evicted to make room (never admitted ones).
    quarantine_evicted_total: "counter",
    /// Quarantined objects promoted to the store when their author came within reach.
    quarantine_promoted_total: "counter",
    /// Objects in quarantine now.
    quarantine_objects: "gauge",
    /// Authors admitted (within reach of the viewers, or named by them).
    admission_authors: "gauge",
    /// Times the admitted set was derived.
    admission_builds_total: "counter",
    /// Network objects sent to quarantine because the store is over its disk quota.
    admission_over_quota_total: "counter",
    /// Bytes of the store's database file (pages in use).
    store_bytes: "gauge",
    /// Admitted objects evicted from the store (always 0: the store never evicts an
    /// admitted object; kept so that a change of that rule is counted).
    store_evicted_total: "counter",
    /// View rebuilds postponed because the last ones were costly.
    engine_rebuilds_deferred_total: "counter",
    /// Calls refused because their token may not make them (another viewer, admin only).
    api_forbidden_total: "counter",
    /// Requests refused for a `Host` the node does not answer to (DNS rebinding).
    api_host_refused_total: "counter",
    /// Requests refused for their web `Origin` or a browser's cross-site request.
    api_origin_refused_total: "counter",
    /// Requests refused for their body's content type.
    api_media_type_refused_total: "counter",
    /// Requests refused by a token's rate limit.
    api_rate_limited_total: "counter",
    /// Costly calls refused because every costly slot stayed taken past their deadline.
    api_costly_busy_total: "counter",
    /// Costly calls answered `503` at their deadline.
    api_costly_timeouts_total: "counter",
    /// Event streams refused by the per-token limit.
    api_streams_refused_total: "counter",
    /// Request bodies not received within the body timeout.
    api_body_timeouts_total: "counter",
    /// Connections closed because the request headers did not arrive in time.
    api_header_timeouts_total: "counter",
    /// Connections closed at once because the connection limit was reached.
    api_connections_refused_total: "counter",
    /// Open API connections.
    api_connections: "gauge",
    /// Connections closed because the client stopped reading its answers.
    api_write_timeouts_total: "counter",
    /// Store commits that failed (disk full, I/O error, corruption); nothing of theirs was
    /// acknowledged.
    store_commit_failures_total: "counter",
    /// 1 while the last commit failed because the disk is full.
    store_disk_full: "gauge",
    /// 1 while the store commits and its writer runs (`/readyz`).
    store_healthy: "gauge",
    /// Stored rows that failed re-verification when read (id or encoding); never served.
    store_rows_corrupt_total: "counter",
    /// 1 while the network task runs.
    network_alive: "gauge",
    /// Valid gossip objects not accepted (so not relayed) because their commit failed.
    gossip_store_failed_total: "counter",
    /// Full rebuilds of the trust graph's rows caused by key events (one per chunk of
    /// objects at most, however many rotations and revocations it holds).
    engine_graph_rebuilds_total: "counter",
    /// Request bodies refused for their size (`413 payload-too-large`).
    api_body_too_large_total: "counter",
    /// Page requests refused for a `limit` over the most a page holds.
    api_page_too_large_total: "counter",
    /// Decide calls refused for holding more items than one call may.
    api_too_many_items_total: "counter",
    /// Ballots from keys outside reach admitted because their poll is known.
    admission_ballots_total: "counter",
    /// Ballots quarantined because their poll had `ballots_per_poll` admitted already.
    admission_ballots_over_total: "counter",
    /// Ballots' personhood proofs verified on the background threads (any result).
    personhood_proofs_checked_total: "counter",
    /// Of those, proofs that did not verify (the ballot does not count).
    personhood_proofs_rejected_total: "counter",
    /// Microseconds the background threads spent verifying personhood proofs.
    personhood_verify_micros_total: "counter",
    /// Proofs waiting for a background thread.
    personhood_proofs_queued: "gauge",
    /// Proofs not queued because the queue was full (queued again at the next tally).
    personhood_queue_full_total: "counter",
    /// Credentials verified (handed in or received as `credential` objects; any result).
    credentials_checked_total: "counter",
    /// Of those, credentials that did not verify (bad proof, wrong subject, …).
    credentials_rejected_total: "counter",
    /// Identity facts (credentials held, why others stopped counting) rebuilt for the views.
    identity_facts_builds_total: "counter",
    /// Links, credentials or revocations not kept because a bound was hit.
    identity_bound_hits_total: "counter",
    /// Nostr events received from relays (before any check).
    nostr_events_received_total: "counter",
    /// Nostr events verified and applied (the mapping produced facts).
    nostr_events_applied_total: "counter",
    /// Nostr events already held (the same id again).
    nostr_events_duplicate_total: "counter",
    /// Replaceable Nostr events older than the version held (rollbacks), ignored.
    nostr_events_rollback_total: "counter",
    /// Nostr events of kinds the mapping does not read, ignored.
    nostr_events_unsupported_total: "counter",
    /// Nostr events refused: malformed (`nostr.malformed`).
    nostr_refused_malformed_total: "counter",
    /// Nostr events refused: over a size or tag limit (`nostr.oversized`,
    /// `nostr.tags_oversized`, `nostr.content_oversized`).
    nostr_refused_oversized_total: "counter",
    /// Nostr events refused: id or signature wrong (`nostr.bad_id`, `nostr.bad_signature`,
    /// `nostr.bad_pubkey`).
    nostr_refused_invalid_total: "counter",
    /// Nostr events refused: `created_at` too far in the future (`nostr.future`).
    nostr_refused_future_total: "counter",
    /// Relay messages that were not NIP-01 (`nostr.relay_malformed`, `nostr.relay_oversized`,
    /// binary frames, broken streams).
    nostr_relay_garbage_total: "counter",
    /// Relay reconnections (after a failure or a disconnect).
    nostr_relay_reconnects_total: "counter",
    /// Relays connected now.
    nostr_relays_connected: "gauge",
    /// Authors whose back-fill waited for a reconnection (too many subscriptions open).
    nostr_subscriptions_deferred_total: "counter",
    /// Authors the node follows on relays.
    nostr_authors: "gauge",
    /// NIP-85 assertions signed and sent to relays.
    nostr_assertions_published_total: "counter",
    /// Relays' `OK true` answers to published events.
    nostr_published_ok_total: "counter",
    /// Relays' `OK false` answers to published events.
    nostr_published_refused_total: "counter",
    /// Published events dropped because a relay connection lagged behind.
    nostr_publish_dropped_total: "counter",
}

impl Metrics {
    /// Adds one to a counter.
    pub fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a refused object, in total and under its reason.
    pub fn refused(&self, why: crate::node::filter::Refusal) {
        Metrics::inc(&self.objects_refused_by_policy_total);
        match why {
            crate::node::filter::Refusal::BlockedAuthor => {
                Metrics::inc(&self.objects_refused_blocked_author_total)
            }
            crate::node::filter::Refusal::BannedInGroup => {
                Metrics::inc(&self.objects_refused_banned_in_group_total)
            }
        }
    }

    /// Adds `n` to a counter.
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let m = Metrics::default();
        Metrics::add(&m.objects_stored_total, 3);
        let text = m.render();
        assert!(text.contains("# TYPE vouch_objects_stored_total counter"));
        assert!(text.contains("\nvouch_objects_stored_total 3\n"));
        assert!(m.snapshot().contains(&("objects_stored_total", 3)));
    }
}
