//! The API's bounds on work: a token bucket per token, a semaphore and a deadline for costly
//! calls (run off the async runtime), and open event streams per token. A limit that is hit
//! is counted in metrics and logged once, not per event.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;

use super::auth::Principal;
use super::ApiError;
use crate::node::config::ApiLimits;
use crate::node::metrics::Metrics;

/// Logs a warning the first time a limit is hit and counts every hit.
#[derive(Debug, Default)]
pub(crate) struct LogOnce(AtomicBool);

impl LogOnce {
    /// Counts a hit in `counter`; the first hit is logged with `what` and the counter's name.
    pub(crate) fn hit(&self, counter: &AtomicU64, metric: &str, what: &str) {
        Metrics::inc(counter);
        if !self.0.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                metric,
                "API limit reached: {what} (logged once; counted in vouch_{metric})"
            );
        }
    }
}

/// A token bucket: `rate` per second, at most `burst` at once.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The limits in force and their state.
#[derive(Debug)]
pub(crate) struct Limits {
    /// The configured bounds.
    pub(crate) config: ApiLimits,
    buckets: Mutex<HashMap<String, Bucket>>,
    costly: Arc<Semaphore>,
    streams: Mutex<HashMap<String, u64>>,
    metrics: Arc<Metrics>,
    /// One per limit: whether it was logged.
    pub(crate) logged_rate: LogOnce,
    logged_busy: LogOnce,
    logged_deadline: LogOnce,
    logged_streams: LogOnce,
}

impl Limits {
    /// Limits from the config; costly calls run at most one per core when not configured.
    pub(crate) fn new(config: ApiLimits, metrics: Arc<Metrics>) -> Limits {
        let costly = if config.costly_concurrency == 0 {
            std::thread::available_parallelism().map_or(2, usize::from)
        } else {
            config.costly_concurrency
        };
        Limits {
            config,
            buckets: Mutex::new(HashMap::new()),
            costly: Arc::new(Semaphore::new(costly)),
            streams: Mutex::new(HashMap::new()),
            metrics,
            logged_rate: LogOnce::default(),
            logged_busy: LogOnce::default(),
            logged_deadline: LogOnce::default(),
            logged_streams: LogOnce::default(),
        }
    }

    /// Takes one request from `who`'s bucket; `Err` with the answer when it is empty.
    pub(crate) fn admit(&self, who: &Principal) -> Result<(), Box<Response>> {
        let (rate, burst) = match who {
            Principal::Admin => (self.config.admin_rate, self.config.admin_burst),
            Principal::Viewer(_) => (self.config.viewer_rate, self.config.viewer_burst),
        };
        if rate == 0 {
            return Ok(());
        }
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let b = buckets.entry(who.key().to_owned()).or_insert(Bucket {
            tokens: f64::from(burst.max(1)),
            at: now,
        });
        let refill = now.duration_since(b.at).as_secs_f64() * f64::from(rate);
        b.tokens = (b.tokens + refill).min(f64::from(burst.max(1)));
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            return Ok(());
        }
        let wait = ((1.0 - b.tokens) / f64::from(rate)).ceil().max(1.0) as u64;
        drop(buckets);
        self.logged_rate.hit(
            &self.metrics.api_rate_limited_total,
            "api_rate_limited_total",
            "a token made more requests than its rate",
        );
        let mut r = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate-limited",
            format!("this token may make {rate} requests per second (bursts of {burst})"),
        )
        .into_response();
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(wait));
        Err(Box::new(r))
    }

    /// Forgets a revoked token's bucket.
    pub(crate) fn forget(&self, key: &str) {
        self.buckets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }

    /// Runs costly work off the async runtime: waits for one of the costly slots and runs
    /// `f`, both within the costly deadline. A call past its deadline answers `503` at once;
    /// its work runs to its end holding its slot, so the bound on concurrent work holds.
    pub(crate) async fn costly<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let timeout = Duration::from_millis(self.config.costly_timeout_ms.max(1));
        let deadline = tokio::time::Instant::now() + timeout;
        let permit =
            match tokio::time::timeout_at(deadline, self.costly.clone().acquire_owned()).await {
                Ok(Ok(p)) => p,
                Ok(Err(_)) => {
                    return Err(ApiError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "busy",
                        "the node is stopping",
                    ))
                }
                Err(_) => {
                    self.logged_busy.hit(
                        &self.metrics.api_costly_busy_total,
                        "api_costly_busy_total",
                        "costly calls waited longer than their deadline for a slot",
                    );
                    return Err(ApiError::busy(
                        "busy",
                        format!(
                            "every slot for costly calls stayed taken for {} ms; retry later",
                            timeout.as_millis()
                        ),
                    ));
                }
            };
        let work = tokio::task::spawn_blocking(move || {
            let _slot = permit;
            f()
        });
        match tokio::time::timeout_at(deadline, work).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                e,
            )),
            Err(_) => {
                self.logged_deadline.hit(
                    &self.metrics.api_costly_timeouts_total,
                    "api_costly_timeouts_total",
                    "a costly call ran past its deadline",
                );
                Err(ApiError::busy(
                    "deadline-exceeded",
                    format!(
                        "the call did not finish in {} ms (api_limits.costly_timeout_ms)",
                        timeout.as_millis()
                    ),
                ))
            }
        }
    }

    /// Counts an event stream for `who`; `Err` when it holds its most already. The guard
    /// gives the slot back when the stream ends.
    pub(crate) fn open_stream(self: &Arc<Self>, who: &Principal) -> Result<StreamSlot, ApiError> {
        let max = self.config.streams_per_token.max(1);
        let mut open = self.streams.lock().unwrap_or_else(|p| p.into_inner());
        let n = open.entry(who.key().to_owned()).or_insert(0);
        if *n >= max {
            drop(open);
            self.logged_streams.hit(
                &self.metrics.api_streams_refused_total,
                "api_streams_refused_total",
                "a token asked for more event streams than api_limits.streams_per_token",
            );
            return Err(ApiError::busy(
                "too-many-streams",
                format!("at most {max} event streams per token"),
            ));
        }
        *n += 1;
        Ok(StreamSlot {
            limits: self.clone(),
            key: who.key().to_owned(),
        })
    }
}

/// One open event stream of a token; gives its slot back when dropped.
#[derive(Debug)]
pub(crate) struct StreamSlot {
    limits: Arc<Limits>,
    key: String,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self
            .limits
            .streams
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn limits(c: ApiLimits) -> Arc<Limits> {
        Arc::new(Limits::new(c, Arc::new(Metrics::default())))
    }

    #[test]
    fn buckets_admit_a_burst_then_the_rate_per_token() {
        let l = limits(ApiLimits {
            viewer_rate: 1,
            viewer_burst: 3,
            ..ApiLimits::default()
        });
        let v = |id: &str| {
            Principal::Viewer(Arc::new(super::super::auth::ViewerToken {
                id: id.into(),
                viewer: vouch_identity::SecretKey::from_seed(&[1; 32]).public_key(),
                scope: super::super::auth::Scope::Read,
                label: String::new(),
                created_ms: 0,
            }))
        };
        for _ in 0..3 {
            assert!(l.admit(&v("a")).is_ok());
        }
        let r = l.admit(&v("a")).unwrap_err();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.headers()[header::RETRY_AFTER], "1");
        // Another token has its own bucket; the admin has none by default.
        assert!(l.admit(&v("b")).is_ok());
        for _ in 0..10_000 {
            assert!(l.admit(&Principal::Admin).is_ok());
        }
        assert_eq!(l.metrics.api_rate_limited_total.load(Ordering::Relaxed), 1);
        l.forget("a");
        assert!(l.admit(&v("a")).is_ok(), "a forgotten bucket starts full");
    }

    #[test]
    fn streams_per_token_are_bounded_and_given_back() {
        let l = limits(ApiLimits {
            streams_per_token: 2,
            ..ApiLimits::default()
        });
        let a = l.open_stream(&Principal::Admin).unwrap();
        let _b = l.open_stream(&Principal::Admin).unwrap();
        let e = l.open_stream(&Principal::Admin).unwrap_err();
        assert_eq!(e.error.code, "too-many-streams");
        drop(a);
        assert!(l.open_stream(&Principal::Admin).is_ok());
    }

    #[tokio::test]
    async fn costly_calls_wait_for_a_slot_within_their_deadline() {
        let l = limits(ApiLimits {
            costly_concurrency: 1,
            costly_timeout_ms: 200,
            ..ApiLimits::default()
        });
        assert_eq!(l.costly(|| 7).await.unwrap(), 7);
        // A call that outruns its deadline answers 503 and keeps its slot until it ends...
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let e = l
            .costly(move || {
                let _ = wait.recv();
            })
            .await
            .unwrap_err();
        assert_eq!(e.error.code, "deadline-exceeded");
        // ...so the next one finds no slot in time.
        let e = l.costly(|| ()).await.unwrap_err();
        assert_eq!(e.error.code, "busy");
        release.send(()).unwrap();
        let mut ok = false;
        for _ in 0..100 {
            if l.costly(|| ()).await.is_ok() {
                ok = true;
                break;
            }
        }
        assert!(ok, "the slot comes back when the work ends");
        assert_eq!(
            l.metrics.api_costly_timeouts_total.load(Ordering::Relaxed),
            1
        );
        assert!(l.metrics.api_costly_busy_total.load(Ordering::Relaxed) >= 1);
    }
}
