//! The metrics endpoint, served with hyper on `--metrics-listen`: `GET /metrics`
//! (OpenMetrics text) and `GET /healthz`.
//!
//! The endpoint is reachable without credentials, so it is built to be cheap to keep up:
//! a cap on open connections, one request per connection, a deadline for the request head
//! and for the whole connection, GET and HEAD only.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Method, Request, Response, StatusCode, header};

use crate::listen::{Backoff, Limits};
use crate::metrics::Metrics;
use crate::state::Policies;

/// Open connections the metrics endpoint accepts at once; more are closed on accept.
pub const HTTP_MAX_CONNECTIONS: usize = 64;
/// The whole connection (head, answer, write) must be done within this.
const HTTP_CONNECTION_DEADLINE: Duration = Duration::from_secs(10);

/// What `/healthz` says: `ok`, or `degraded` while the last policy reload is rejected
/// (the previous set keeps serving, so it stays 200: restarting would not help).
fn health(metrics: &Metrics) -> String {
    if metrics.last_reload_ok() {
        String::from("ok\n")
    } else {
        String::from("degraded: the last policy reload was rejected; the previous set is serving\n")
    }
}

fn answer(
    req: &Request<hyper::body::Incoming>,
    metrics: &Metrics,
    policies: &Policies,
) -> Response<Full<Bytes>> {
    let reply = |status: StatusCode, content_type: &'static str, body: String| {
        let mut r = Response::new(Full::new(Bytes::from(body)));
        *r.status_mut() = status;
        r.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static(content_type));
        r
    };
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut r = reply(StatusCode::METHOD_NOT_ALLOWED, "text/plain", String::from("GET or HEAD only\n"));
        r.headers_mut().insert(header::ALLOW, header::HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    match req.uri().path() {
        "/metrics" => {
            let plugins = policies.options().plugin_loader.as_ref().map(|l| l.stats()).unwrap_or_default();
            reply(
                StatusCode::OK,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
                metrics.render(policies.current().version(), &plugins),
            )
        }
        "/healthz" => reply(StatusCode::OK, "text/plain", health(metrics)),
        _ => reply(StatusCode::NOT_FOUND, "text/plain", String::from("not found\n")),
    }
}

/// Serves `/metrics` and `/healthz` over HTTP/1.1 until the task is dropped.
pub async fn serve_http(
    listener: tokio::net::TcpListener,
    metrics: Arc<Metrics>,
    policies: Arc<Policies>,
    limits: Limits,
) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let permits = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    let mut backoff = Backoff::default();
    loop {
        let sock = match listener.accept().await {
            Ok((sock, _)) => {
                backoff.reset();
                sock
            }
            Err(e) => {
                metrics.accept_error("metrics");
                backoff.wait("metrics", &e).await;
                continue;
            }
        };
        let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
            metrics.refused("metrics", "limit");
            continue;
        };
        let metrics = Arc::clone(&metrics);
        let policies = Arc::clone(&policies);
        tokio::spawn(async move {
            let _permit = permit;
            metrics.connection("metrics", 1);
            let svc = {
                let metrics = Arc::clone(&metrics);
                hyper::service::service_fn(move |req| {
                    let r = answer(&req, &metrics, &policies);
                    async move { Ok::<_, Infallible>(r) }
                })
            };
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.handshake_timeout)
                .keep_alive(false)
                .max_buf_size(16 << 10)
                .serve_connection(TokioIo::new(sock), svc);
            let deadline = HTTP_CONNECTION_DEADLINE.max(limits.handshake_timeout);
            if tokio::time::timeout(deadline, conn).await.is_err() {
                metrics.refused("metrics", "deadline");
            }
            metrics.connection("metrics", -1);
        });
    }
}
