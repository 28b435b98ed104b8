//! Why a call fails, and the one table from failure to gRPC status (docs/08-grpc.md).

use tonic::{Code, Status};

use crate::decision_log::Unrecorded;

/// A failed call, or a message of a stream that gets an error instead of a verdict.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// A request field is missing or malformed; `field` is its path (`message.channel`).
    #[error("{field}: {problem}")]
    Invalid {
        /// Path of the offending field.
        field: String,
        /// What is wrong with it (never its value).
        problem: String,
    },
    /// The encoded message is over the size limit (checked after decoding).
    #[error("message is {size} bytes; the limit is {limit} bytes")]
    TooLarge {
        /// Encoded size of the message.
        size: usize,
        /// The server's limit.
        limit: usize,
    },
    /// A frame over the limit, refused by the transport before it was read.
    #[error("message exceeds the limit of {limit} bytes")]
    FrameTooLarge {
        /// The server's limit.
        limit: usize,
    },
    /// The decision could not be put on record (required decision log).
    #[error(transparent)]
    Unrecorded(#[from] Unrecorded),
    /// Candidate policies of a call (Replay) that do not load; the diagnostics.
    #[error("{0}")]
    BadPolicies(String),
    /// The caller's deadline passed before the verdict was ready.
    #[error("the caller's deadline passed before the verdict was ready")]
    DeadlineExceeded,
    /// A blocking task of the server failed (it panicked or the runtime is stopping).
    #[error("{0} task failed")]
    TaskFailed(&'static str),
    /// Any other failure of the server's own.
    #[error("{0}")]
    Internal(&'static str),
    /// Admin call on a server with neither token nor mutual TLS.
    #[error("admin API disabled: start the server with --admin-token")]
    AdminDisabled,
    /// Admin call with a wrong bearer token.
    #[error("invalid admin token")]
    BadToken,
    /// Admin call without credentials.
    #[error("admin calls need `authorization: Bearer <token>`")]
    NoToken,
}

impl CallError {
    /// A missing or malformed field.
    pub fn invalid(field: impl Into<String>, problem: impl Into<String>) -> Self {
        CallError::Invalid { field: field.into(), problem: problem.into() }
    }

    /// The gRPC status code of this failure.
    pub fn code(&self) -> Code {
        match self {
            CallError::Invalid { .. } | CallError::BadPolicies(_) => Code::InvalidArgument,
            CallError::TooLarge { .. } | CallError::FrameTooLarge { .. } => Code::ResourceExhausted,
            CallError::Unrecorded(_) => Code::Unavailable,
            CallError::DeadlineExceeded => Code::DeadlineExceeded,
            CallError::TaskFailed(_) | CallError::Internal(_) => Code::Internal,
            CallError::AdminDisabled | CallError::BadToken => Code::PermissionDenied,
            CallError::NoToken => Code::Unauthenticated,
        }
    }

    /// The request field the failure is about, if any (`MessageError.field`).
    pub fn field(&self) -> &str {
        match self {
            CallError::Invalid { field, .. } => field,
            _ => "",
        }
    }
}

impl From<CallError> for Status {
    fn from(e: CallError) -> Status {
        Status::new(e.code(), e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_failure_has_its_documented_status() {
        let cases = [
            (CallError::invalid("message.channel", "unknown value 9"), Code::InvalidArgument),
            (CallError::TooLarge { size: 2, limit: 1 }, Code::ResourceExhausted),
            (CallError::FrameTooLarge { limit: 1 }, Code::ResourceExhausted),
            (CallError::Unrecorded(Unrecorded("the writer is behind or stopped")), Code::Unavailable),
            (CallError::DeadlineExceeded, Code::DeadlineExceeded),
            (CallError::BadPolicies("p.yaml:3:5: unknown detector `x`".into()), Code::InvalidArgument),
            (CallError::TaskFailed("evaluation"), Code::Internal),
            (CallError::Internal("report not serializable"), Code::Internal),
            (CallError::AdminDisabled, Code::PermissionDenied),
            (CallError::BadToken, Code::PermissionDenied),
            (CallError::NoToken, Code::Unauthenticated),
        ];
        for (e, code) in cases {
            let text = e.to_string();
            let status = Status::from(e);
            assert_eq!((status.code(), status.message()), (code, text.as_str()));
        }
        assert_eq!(
            Status::from(CallError::invalid("message.channel", "unknown value 9")).message(),
            "message.channel: unknown value 9"
        );
    }
}
