//! Serving the API's connections with hyper's own HTTP/1.1 server instead of `axum::serve`,
//! which sets no timer and so no header timeout: here a client must send a request's headers
//! within `api_limits.header_timeout_ms` (also the longest idle time of a kept-alive
//! connection), at most `api_limits.max_connections` are open at once (one more is accepted
//! and closed at once), and a shutdown lets requests in flight finish for a bounded time.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use super::limits::LogOnce;
use crate::node::config::ApiLimits;
use crate::node::metrics::Metrics;

/// How long a shutdown waits for requests in flight (event streams never end by themselves).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// Keeps the open-connections gauge right.
struct Open(Arc<Metrics>);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.api_connections.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Serves `app` on `listener` until `shutdown` completes.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ApiLimits,
    metrics: Arc<Metrics>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let header_timeout = Duration::from_millis(limits.header_timeout_ms.max(1));
    let graceful = GracefulShutdown::new();
    let full = Arc::new(LogOnce::default());
    let timeouts = Arc::new(LogOnce::default());
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .keep_alive(true)
        .max_buf_size(64 * 1024);
    tokio::pin!(shutdown);
    loop {
        let (stream, _peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little, as hyper does.
                    tracing::debug!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            full.hit(
                &metrics.api_connections_refused_total,
                "api_connections_refused_total",
                "api_limits.max_connections connections were open; a new one was closed",
            );
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        Metrics::inc(&metrics.api_connections);
        let open = Open(metrics.clone());
        let conn =
            builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app.clone()));
        let conn = graceful.watch(conn);
        let metrics = metrics.clone();
        let timeouts = timeouts.clone();
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                if e.is_timeout() {
                    timeouts.hit(
                        &metrics.api_header_timeouts_total,
                        "api_header_timeouts_total",
                        "a client did not send its request headers in time",
                    );
                } else {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
            }
            drop(open);
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::debug!("API connections still open at shutdown were dropped");
    }
}
