//! Serving the API's connections with hyper's own HTTP/1.1 server instead of `axum::serve`,
//! which sets no timer and so no header timeout: here a client must send a request's headers
//! within `api_limits.header_timeout_ms` (also the longest idle time of a kept-alive
//! connection), must keep reading its answers (a write may not stall longer than
//! `api_limits.write_timeout_ms`), at most `api_limits.max_connections` are open at once
//! (one more is accepted and closed at once), and a shutdown lets requests in flight finish
//! for a bounded time.

use std::future::Future as _;
use std::io;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
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

/// A connection whose writes may not stall longer than `limit`: a client that stops reading
/// its answers (pipelined requests it never reads, an event stream it left) is cut once the
/// kernel's buffers stayed full that long.
struct WriteStall<T> {
    io: T,
    limit: Duration,
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<T> WriteStall<T> {
    /// The write could not go on: time the stall, and fail it past the limit.
    fn stalled<R>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<R>> {
        let limit = self.limit;
        let timer = self
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client stopped reading",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn progressed<R>(&mut self, r: io::Result<R>) -> Poll<io::Result<R>> {
        self.timer = None;
        Poll::Ready(r)
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for WriteStall<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for WriteStall<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.io).poll_write(cx, buf) {
            Poll::Ready(r) => self.progressed(r),
            Poll::Pending => self.stalled(cx),
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.io).poll_write_vectored(cx, bufs) {
            Poll::Ready(r) => self.progressed(r),
            Poll::Pending => self.stalled(cx),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match Pin::new(&mut self.io).poll_flush(cx) {
            Poll::Ready(r) => self.progressed(r),
            Poll::Pending => self.stalled(cx),
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// Whether a connection's error is a stalled write.
fn is_write_stall(e: &hyper::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<io::Error>() {
            return io.kind() == io::ErrorKind::TimedOut;
        }
        source = s.source();
    }
    false
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
    let write_timeout = Duration::from_millis(limits.write_timeout_ms.max(1));
    let full = Arc::new(LogOnce::default());
    let timeouts = Arc::new(LogOnce::default());
    let stalls = Arc::new(LogOnce::default());
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
        let io = WriteStall {
            io: stream,
            limit: write_timeout,
            timer: None,
        };
        let conn =
            builder.serve_connection(TokioIo::new(io), TowerToHyperService::new(app.clone()));
        let conn = graceful.watch(conn);
        let metrics = metrics.clone();
        let timeouts = timeouts.clone();
        let stalls = stalls.clone();
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                if is_write_stall(&e) {
                    stalls.hit(
                        &metrics.api_write_timeouts_total,
                        "api_write_timeouts_total",
                        "a client stopped reading its answers",
                    );
                } else if e.is_timeout() {
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    #[tokio::test]
    async fn a_write_that_stalls_fails_after_the_limit_and_progress_resets_it() {
        let (a, mut b) = tokio::io::duplex(64);
        let mut w = WriteStall {
            io: a,
            limit: Duration::from_millis(100),
            timer: None,
        };
        // The peer reads a little now and then, more often than the limit: no error.
        let reader = tokio::spawn(async move {
            let mut buf = [0u8; 64];
            for _ in 0..5 {
                tokio::time::sleep(Duration::from_millis(30)).await;
                let _ = b.read(&mut buf).await;
            }
            // Then stops reading.
            tokio::time::sleep(Duration::from_secs(30)).await;
            drop(b);
        });
        let mut written = 0;
        let err = loop {
            match w.write(&[7u8; 64]).await {
                Ok(n) => written += n,
                Err(e) => break e,
            }
        };
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(
            written >= 64 * 5,
            "progress went on while the peer read: {written}"
        );
        reader.abort();
    }
}
