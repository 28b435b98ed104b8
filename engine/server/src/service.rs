//! The `Linewall` and `PolicyAdmin` services.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use linewall_engine::eval::EvalContext;
use linewall_engine::policy::{LoadOptions, PolicySet, PolicySource};
use linewall_proto::v1 as pb;
use prost::Message as _;
use subtle::ConstantTimeEq as _;
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status, Streaming};

use crate::convert;
use crate::decision_log::{Pending, Unrecorded};
use crate::error::CallError;
use crate::state::Policies;

/// Shared by every request (cheap to clone).
#[derive(Clone)]
pub struct Evaluator {
    /// The serving policies.
    pub policies: Arc<Policies>,
    /// Largest encoded message accepted.
    pub max_message_bytes: usize,
    /// Transport only: answer `allow` without evaluating (load-test baseline).
    pub noop: bool,
    /// Where decisions are recorded, if anywhere.
    pub decisions: Option<crate::decision_log::DecisionLog>,
    /// Counters for `/metrics`.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Joining of values split across messages (docs/10-conversations.md); `None` judges
    /// every message alone.
    pub conversations: Option<Arc<linewall_engine::conversation::Conversations>>,
}

impl Evaluator {
    /// Checks and converts a request; returns the message and its encoded size.
    fn check(
        &self,
        req: pb::EvaluateRequest,
        stream: bool,
    ) -> Result<(linewall_engine::Message, usize), CallError> {
        self.metrics.request(stream);
        let len = req.encoded_len();
        if len > self.max_message_bytes {
            self.metrics.rejected("too_large");
            return Err(CallError::TooLarge { size: len, limit: self.max_message_bytes });
        }
        convert::message_in(req.message).map(|m| (m, len)).inspect_err(|_| self.metrics.rejected("invalid"))
    }

    /// Whether to evaluate on the I/O thread itself. A message of a few KiB takes tens of
    /// microseconds, less than handing it to a blocking thread and back costs (two thread
    /// wake-ups); bigger messages, and sets with plugins (bounded only by their
    /// `timeout_ms`), go to the blocking pool so they cannot stall other connections.
    /// A message whose conversation lives in a remote store (network round trips) also
    /// goes to the blocking pool.
    fn inline(&self, set: &PolicySet, msg: &linewall_engine::Message, encoded_len: usize) -> bool {
        encoded_len <= INLINE_MAX_BYTES
            && !set.has_plugins()
            && !self.conversations.as_ref().is_some_and(|c| c.is_remote_for(msg))
    }

    /// Evaluates and hands the decision to the log; the response may only be sent once
    /// [`Evaluator::recorded`] accepts it. `None` when the evaluation was abandoned
    /// because `cancel` went up (the caller left or its deadline passed) while it ran.
    fn judge(
        &self,
        set: &PolicySet,
        msg: &linewall_engine::Message,
        cancel: Option<&AtomicBool>,
    ) -> Option<Judged> {
        if self.noop {
            let resp = pb::EvaluateResponse {
                verdict: Some(pb::Verdict {
                    id: msg.id.clone(),
                    action: convert::action(linewall_engine::verdict::Action::Allow),
                    policy_version: set.version().to_owned(),
                    ..pb::Verdict::default()
                }),
                error: None,
            };
            return Some((resp, Ok(None)));
        }
        let started = std::time::Instant::now();
        let running = self.metrics.evaluation_started();
        let outcome = match (&self.conversations, cancel) {
            (Some(c), Some(flag)) => c.try_evaluate(set, msg, flag),
            (Some(c), None) => Ok(c.evaluate(set, msg)),
            (None, cancel) => set.try_evaluate_with(msg, EvalContext { cancel, ..EvalContext::now() }),
        };
        drop(running);
        let verdict = match outcome {
            Ok(v) => v,
            Err(abandoned) => {
                self.metrics.abandoned("running");
                tracing::debug!(elapsed_ms = started.elapsed().as_millis() as u64, "{abandoned}");
                return None;
            }
        };
        self.metrics.verdict(&verdict, started.elapsed());
        let recording = match &self.decisions {
            Some(log) => log.record(msg, &verdict).map(Some),
            None => Ok(None),
        };
        Some((pb::EvaluateResponse { verdict: Some(convert::verdict_out(verdict)), error: None }, recording))
    }

    /// Waits until the decision is on record (required mode, bounded); UNAVAILABLE if it
    /// cannot be: a decision is never answered without being recorded.
    async fn recorded(&self, (resp, recording): Judged) -> Result<pb::EvaluateResponse, CallError> {
        if let (Some(log), Some(p)) = (&self.decisions, recording?) {
            log.confirm(p).await?;
        }
        Ok(resp)
    }

    /// Judges on a blocking thread, unless the caller has gone (`left`) or its deadline
    /// passed before the thread got to it (`None` then): a queue of abandoned work must
    /// not delay the callers still waiting. `left` going up while the evaluation runs
    /// stops it too (`None`).
    async fn judge_blocking(
        &self,
        set: Arc<PolicySet>,
        msg: linewall_engine::Message,
        deadline: Option<Deadline>,
        left: Arc<AtomicBool>,
    ) -> Result<Option<Judged>, CallError> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let late = deadline.is_some_and(|d| d.passed());
            if late || left.load(Ordering::Relaxed) {
                this.metrics.abandoned("queued");
                return None;
            }
            this.judge(&set, &msg, Some(&left))
        })
        .await
        .map_err(|_| CallError::TaskFailed("evaluation"))
    }
}

/// A response and its decision on its way to the log (`Err`: it could not be queued).
type Judged = (pb::EvaluateResponse, Result<Option<Pending>, Unrecorded>);

/// A caller's deadline, from its `grpc-timeout` header.
#[derive(Debug, Clone, Copy)]
struct Deadline {
    /// When the caller stops waiting.
    caller: tokio::time::Instant,
    /// When the server answers DEADLINE_EXCEEDED: a little before, so the caller gets the
    /// server's status rather than its own cancellation.
    answer_by: tokio::time::Instant,
}

impl Deadline {
    fn passed(&self) -> bool {
        tokio::time::Instant::now() >= self.answer_by
    }
}

/// The caller's deadline; `None` without a valid `grpc-timeout` (at most 8 digits and a
/// unit, as the gRPC spec says) or when it lies beyond what the clock can represent.
fn deadline_of<T>(req: &Request<T>) -> Option<Deadline> {
    let v = req.metadata().get("grpc-timeout")?.to_str().ok()?;
    let (num, unit) = v.split_at(v.len().checked_sub(1)?);
    if num.is_empty() || num.len() > 8 || !num.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = num.parse().ok()?;
    let budget = match unit {
        "H" => std::time::Duration::from_secs(n.checked_mul(3600)?),
        "M" => std::time::Duration::from_secs(n.checked_mul(60)?),
        "S" => std::time::Duration::from_secs(n),
        "m" => std::time::Duration::from_millis(n),
        "u" => std::time::Duration::from_micros(n),
        "n" => std::time::Duration::from_nanos(n),
        _ => return None,
    };
    let now = tokio::time::Instant::now();
    Some(Deadline { caller: now.checked_add(budget)?, answer_by: now.checked_add(budget.mul_f64(0.8))? })
}

/// Sets its flag when dropped: the handler's future is dropped when the caller goes away
/// (cancellation, reset stream, closed connection) or tonic's own timeout fires.
struct LeftGuard(Arc<AtomicBool>);

impl Drop for LeftGuard {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Largest encoded message evaluated on the I/O thread (see [`Evaluator::inline`]).
const INLINE_MAX_BYTES: usize = 8 << 10;

/// Encoded bytes of responses one EvaluateStream may hold queued for a client that does
/// not read. When they are spent the stream stops reading requests (HTTP/2 flow control
/// then stops the client) until the client reads.
pub const STREAM_QUEUE_BYTES: usize = 4 << 20;

/// A per-message error for EvaluateStream.
fn message_error(e: &CallError, id: String) -> pb::EvaluateResponse {
    pb::EvaluateResponse {
        verdict: None,
        error: Some(pb::MessageError {
            code: e.code() as i32,
            message: e.to_string(),
            field: e.field().to_owned(),
            id,
        }),
    }
}

type ResponseStream = Pin<Box<dyn Stream<Item = Result<pb::EvaluateResponse, Status>> + Send>>;

#[tonic::async_trait]
impl pb::linewall_server::Linewall for Evaluator {
    async fn evaluate(
        &self,
        request: Request<pb::EvaluateRequest>,
    ) -> Result<Response<pb::EvaluateResponse>, Status> {
        let deadline = deadline_of(&request);
        let (msg, len) = self.check(request.into_inner(), false)?;
        if deadline.is_some_and(|d| d.passed()) {
            self.metrics.abandoned("queued");
            return Err(CallError::DeadlineExceeded.into());
        }
        let set = self.policies.current();
        if self.inline(&set, &msg, len) {
            // A few KiB without plugins: done before the caller could be noticed leaving.
            let judged = self.judge(&set, &msg, None).ok_or(CallError::DeadlineExceeded)?;
            let out = self.recorded(judged).await?;
            // Past the caller's own deadline nobody reads the verdict.
            if deadline.is_some_and(|d| tokio::time::Instant::now() >= d.caller) {
                return Err(CallError::DeadlineExceeded.into());
            }
            return Ok(Response::new(out));
        }
        let left = Arc::new(AtomicBool::new(false));
        let _guard = LeftGuard(Arc::clone(&left));
        // Evaluation is CPU work: keep it off the reactor threads.
        let work = self.judge_blocking(set, msg, deadline, left);
        let out = match deadline {
            None => work.await?,
            Some(d) => tokio::time::timeout_at(d.answer_by, work)
                .await
                .map_err(|_| CallError::DeadlineExceeded)??,
        };
        let judged = out.ok_or(CallError::DeadlineExceeded)?;
        Ok(Response::new(self.recorded(judged).await?))
    }

    type EvaluateStreamStream = ResponseStream;

    async fn evaluate_stream(
        &self,
        request: Request<Streaming<pb::EvaluateRequest>>,
    ) -> Result<Response<Self::EvaluateStreamStream>, Status> {
        let mut inbound = request.into_inner();
        type Queued = (Result<pb::EvaluateResponse, Status>, Option<tokio::sync::OwnedSemaphorePermit>);
        let (resp_tx, resp_rx) = tokio::sync::mpsc::channel::<Queued>(256);
        let budget = Arc::new(tokio::sync::Semaphore::new(STREAM_QUEUE_BYTES));
        let this = self.clone();
        // One task per stream: decode, check, judge, answer, in request order.
        tokio::spawn(async move {
            let left = Arc::new(AtomicBool::new(false));
            loop {
                let item = tokio::select! {
                    item = inbound.next() => item,
                    // The client went away: stop reading and judging for it.
                    () = resp_tx.closed() => break,
                };
                let Some(item) = item else { break };
                let req = match item {
                    Ok(req) => req,
                    Err(status) => {
                        // The stream itself is broken (undecodable bytes, an oversized
                        // frame): report and end it.
                        let status = if status.code() == tonic::Code::OutOfRange {
                            this.metrics.rejected("too_large");
                            CallError::FrameTooLarge { limit: this.max_message_bytes }.into()
                        } else {
                            status
                        };
                        let _ = resp_tx.send((Err(status), None)).await;
                        break;
                    }
                };
                let id = req.message.as_ref().map(|m| m.id.clone()).unwrap_or_default();
                let resp = match this.check(req, true) {
                    Ok((msg, len)) => {
                        let set = this.policies.current();
                        let judged = if this.inline(&set, &msg, len) {
                            this.judge(&set, &msg, None).ok_or(CallError::DeadlineExceeded)
                        } else {
                            let work = this.judge_blocking(set, msg, None, Arc::clone(&left));
                            // A client that goes away while its message is judged stops
                            // that evaluation, not only the ones after it.
                            let done = tokio::select! {
                                done = work => done,
                                () = resp_tx.closed() => break,
                            };
                            match done {
                                Ok(Some(j)) => Ok(j),
                                Ok(None) => break,
                                Err(status) => Err(status),
                            }
                        };
                        match judged {
                            Ok(j) => match this.recorded(j).await {
                                Ok(r) => r,
                                Err(status) => message_error(&status, id),
                            },
                            Err(status) => message_error(&status, id),
                        }
                    }
                    Err(status) => message_error(&status, id),
                };
                // Hold the response's size in the stream's budget until the transport
                // takes it: a client that does not read stops this loop here.
                let cost = u32::try_from(resp.encoded_len().clamp(1, STREAM_QUEUE_BYTES)).unwrap_or(u32::MAX);
                let permit = tokio::select! {
                    p = Arc::clone(&budget).acquire_many_owned(cost) => p.ok(),
                    () = resp_tx.closed() => break,
                };
                if resp_tx.send((Ok(resp), permit)).await.is_err() {
                    break;
                }
            }
            left.store(true, Ordering::Relaxed);
        });
        let out = tokio_stream::wrappers::ReceiverStream::new(resp_rx).map(|(resp, _permit)| resp);
        Ok(Response::new(Box::pin(out)))
    }
}

/// Most messages one `PolicyAdmin/Replay` call judges.
const MAX_REPLAY_MESSAGES: usize = 100_000;

/// The administration service.
#[derive(Clone)]
pub struct Admin {
    /// The serving policies.
    pub policies: Arc<Policies>,
}

fn mode(m: linewall_engine::verdict::Mode) -> i32 {
    convert::mode(m)
}

#[tonic::async_trait]
impl pb::policy_admin_server::PolicyAdmin for Admin {
    async fn list_policies(
        &self,
        _request: Request<pb::ListPoliciesRequest>,
    ) -> Result<Response<pb::ListPoliciesResponse>, Status> {
        let set = self.policies.current();
        Ok(Response::new(pb::ListPoliciesResponse {
            policy_version: set.version().to_owned(),
            policies: set
                .policies()
                .into_iter()
                .map(|p| pb::PolicyInfo {
                    name: p.name,
                    description: p.description,
                    mode: mode(p.mode),
                    rules: u32::try_from(p.rules).unwrap_or(u32::MAX),
                    tests: u32::try_from(p.tests).unwrap_or(u32::MAX),
                    source: p.source,
                    tenants: p.tenants,
                })
                .collect(),
        }))
    }

    async fn reload(
        &self,
        _request: Request<pb::ReloadRequest>,
    ) -> Result<Response<pb::ReloadResponse>, Status> {
        Ok(Response::new(match self.policies.reload().await {
            Ok(version) => pb::ReloadResponse {
                ok: true,
                policy_version: version,
                error: String::new(),
                diagnostics: Vec::new(),
            },
            Err(e) => pb::ReloadResponse {
                ok: false,
                policy_version: self.policies.current().version().to_owned(),
                diagnostics: e.diagnostics.iter().map(crate::convert::diagnostic_to_pb).collect(),
                error: e.message,
            },
        }))
    }

    async fn validate(
        &self,
        request: Request<pb::ValidateRequest>,
    ) -> Result<Response<pb::ValidateResponse>, Status> {
        let files = request.into_inner().files;
        if files.is_empty() {
            return Err(CallError::invalid("files", "at least one policy file is required").into());
        }
        let sources =
            files.into_iter().map(|(name, text)| PolicySource { name, text, base_dir: None }).collect();
        let result = self.policies.validate(sources).await;
        Ok(Response::new(match result {
            Ok(v) => pb::ValidateResponse {
                ok: true,
                error: String::new(),
                policy_version: v,
                diagnostics: Vec::new(),
            },
            Err(e) => pb::ValidateResponse {
                ok: false,
                policy_version: String::new(),
                diagnostics: e.diagnostics.iter().map(crate::convert::diagnostic_to_pb).collect(),
                error: e.message,
            },
        }))
    }

    async fn replay(
        &self,
        request: Request<pb::ReplayRequest>,
    ) -> Result<Response<pb::ReplayResponse>, Status> {
        let req = request.into_inner();
        if req.files.is_empty() {
            return Err(CallError::invalid("files", "at least one candidate policy file is required").into());
        }
        if req.messages.len() > MAX_REPLAY_MESSAGES {
            return Err(CallError::invalid(
                "messages",
                format!("at most {MAX_REPLAY_MESSAGES} messages per replay"),
            )
            .into());
        }
        let options: LoadOptions = self.policies.options().clone();
        let base = self.policies.current();
        let report = tokio::task::spawn_blocking(move || {
            let sources: Vec<PolicySource> = req
                .files
                .into_iter()
                .map(|(name, text)| PolicySource { name, text, base_dir: None })
                .collect();
            let cand = PolicySet::load_sources(sources, &options).map_err(|d| d.to_string())?;
            // A message that cannot be converted is a bad line, like an unreadable JSONL line.
            let batch: Vec<(u64, Option<linewall_engine::Message>)> = req
                .messages
                .into_iter()
                .zip(1u64..)
                .map(|(m, line)| (line, convert::message_in(Some(m)).ok()))
                .collect();
            let mut report = linewall_engine::replay::Report::new(&base, &cand);
            let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
            report.add_batch(&base, &cand, &batch, threads, req.show_text);
            Ok::<_, String>(report)
        })
        .await
        .map_err(|_| CallError::TaskFailed("replay"))?
        .map_err(CallError::BadPolicies)?;
        let report_json =
            serde_json::to_string(&report).map_err(|_| CallError::Internal("report not serializable"))?;
        Ok(Response::new(pb::ReplayResponse { report_json }))
    }
}

/// Authorizes an admin call: a client certificate verified against `--client-ca` (when
/// mutual TLS is on), or the bearer token. Without either configured every admin call is
/// refused (fail closed).
pub fn admin_auth(
    token: Option<Arc<str>>,
    mtls: bool,
) -> impl Fn(Request<()>) -> Result<Request<()>, Status> + Clone {
    move |req: Request<()>| {
        // The TLS layer only lets verified client certificates through.
        if mtls && req.peer_certs().is_some_and(|c| !c.is_empty()) {
            return Ok(req);
        }
        let Some(expected) = token.as_deref() else {
            return Err(CallError::AdminDisabled.into());
        };
        let given = req
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        match given {
            // Constant time, so the answer's timing does not tell how much of a guess was right.
            Some(t) if bool::from(t.as_bytes().ct_eq(expected.as_bytes())) => Ok(req),
            Some(_) => Err(CallError::BadToken.into()),
            None => Err(CallError::NoToken.into()),
        }
    }
}
