//! The gRPC listener: a cap on open connections, a deadline for the first bytes of a
//! connection (the HTTP/2 preface or the TLS ClientHello), and back-off when accept fails
//! (out of file descriptors), so idle or slow clients cannot exhaust the process.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::OwnedSemaphorePermit;
use tonic::transport::server::{Connected, TcpConnectInfo};

use crate::metrics::Metrics;

/// Limits of one listener.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Connections open at once; more are closed as soon as they are accepted.
    pub max_connections: usize,
    /// Time a new connection has to send its first bytes (gRPC) or its request head (HTTP).
    pub handshake_timeout: Duration,
}

/// File descriptors kept for everything but client connections (policy files, the
/// decision log, plugins, the blocking pool, the runtime).
const RESERVED_FDS: u64 = 64;

/// Raises the soft open-file limit to the hard one and returns the usable number of
/// descriptors for client connections.
pub fn fd_budget() -> u64 {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => n.saturating_sub(RESERVED_FDS).max(8),
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the open-file limit; assuming 1024");
            1024 - RESERVED_FDS
        }
    }
}

/// Exponential back-off after a failed accept: out of descriptors (EMFILE, ENFILE) or
/// memory does not go away by retrying at once, and a tight retry loop burns a core.
#[derive(Debug, Default)]
pub struct Backoff {
    delay: Duration,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(5);
    const MAX: Duration = Duration::from_secs(1);

    /// An accept succeeded.
    pub fn reset(&mut self) {
        self.delay = Duration::ZERO;
    }

    /// Waits before the next accept; per-connection errors (the peer reset before
    /// accept) are retried at once.
    pub async fn wait(&mut self, listener: &'static str, e: &io::Error) {
        if matches!(
            e.kind(),
            io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset | io::ErrorKind::Interrupted
        ) {
            return;
        }
        if self.delay.is_zero() {
            tracing::warn!(listener, error = %e, "accept failed; backing off");
        }
        self.delay = (self.delay * 2).clamp(Self::FIRST, Self::MAX);
        tokio::time::sleep(self.delay).await;
    }
}

/// An accepted gRPC connection; its slot under the cap is freed when it is dropped.
pub struct Conn {
    sock: TcpStream,
    _slot: Slot,
}

/// A slot under the connection cap, counted in `linewall_open_connections`.
struct Slot {
    _permit: OwnedSemaphorePermit,
    metrics: Arc<Metrics>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.metrics.connection("grpc", -1);
    }
}

impl Connected for Conn {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.sock.connect_info()
    }
}

impl AsyncRead for Conn {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().sock).poll_read(cx, buf)
    }
}

impl AsyncWrite for Conn {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().sock).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().sock).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.sock.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().sock).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().sock).poll_shutdown(cx)
    }
}

/// Bytes of the HTTP/2 client preface; a TLS ClientHello is longer.
const FIRST_BYTES: usize = 24;

/// Whether the peer sent its first [`FIRST_BYTES`] bytes in time (nothing is consumed).
async fn sent_first_bytes(sock: &TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; FIRST_BYTES];
    let wait = async {
        loop {
            match sock.peek(&mut buf).await {
                Ok(n) if n >= FIRST_BYTES => return true,
                // The peer closed, or something failed.
                Ok(0) | Err(_) => return false,
                // A partial preface: poll again shortly (peek returns at once while any
                // byte is waiting, so this must not spin).
                Ok(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    };
    tokio::time::timeout(within, wait).await.unwrap_or(false)
}

/// Accepts connections on `listener` under `limits`, yielding those that sent their first
/// bytes in time. Stops (closing the listener) when the stream is dropped.
pub fn incoming(
    listener: TcpListener,
    limits: Limits,
    metrics: Arc<Metrics>,
) -> tokio_stream::wrappers::ReceiverStream<io::Result<Conn>> {
    let (tx, rx) = tokio::sync::mpsc::channel::<io::Result<Conn>>(64);
    let permits = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    tokio::spawn(async move {
        let mut backoff = Backoff::default();
        loop {
            let accepted = tokio::select! {
                r = listener.accept() => r,
                () = tx.closed() => return,
            };
            let sock = match accepted {
                Ok((sock, _)) => {
                    backoff.reset();
                    sock
                }
                Err(e) => {
                    metrics.accept_error("grpc");
                    backoff.wait("grpc", &e).await;
                    continue;
                }
            };
            // Over the cap: close at once, so the client fails fast and the descriptor
            // is back before the next accept.
            let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
                metrics.refused("grpc", "limit");
                continue;
            };
            let _ = sock.set_nodelay(true);
            metrics.connection("grpc", 1);
            let slot = Slot { _permit: permit, metrics: Arc::clone(&metrics) };
            let tx = tx.clone();
            let metrics = Arc::clone(&metrics);
            tokio::spawn(async move {
                if sent_first_bytes(&sock, limits.handshake_timeout).await {
                    let _ = tx.send(Ok(Conn { sock, _slot: slot })).await;
                } else {
                    metrics.refused("grpc", "handshake_timeout");
                }
            });
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(rx)
}
