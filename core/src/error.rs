//! The one error type of redbridge.
//!
//! Every failure, whatever layer it comes from, becomes an [`Error`] with a stable
//! [`ErrorKind`]. Bindings map the kind once (an exception class, a JS error code, a C
//! status) and show the message as it is. Messages say what happened and what to do;
//! they never contain a password.

use std::fmt;
use std::time::Duration;

/// What kind of failure an [`Error`] is. Stable: bindings map these one to one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The connection could not be made, or broke while a request was on it.
    Connection,
    /// No reply within the command's response timeout (or connect timeout).
    Timeout,
    /// No pooled connection became free within `pool_timeout`.
    PoolTimeout,
    /// The server answered with an error reply; [`Error::code`] holds its code.
    Response,
    /// The server's bytes could not be parsed, or a reply had an unexpected shape.
    Protocol,
    /// The caller passed something invalid (a bad URL, option, argument or handle).
    InvalidArgument,
    /// The guard refused a command that walks the whole keyspace (`guard = "deny"`).
    Denied,
    /// The request was cancelled before its reply arrived.
    Cancelled,
    /// The server refused the credentials (wrong password, unknown user).
    Authentication,
    /// A transaction was aborted because a watched key changed (`WatchError`).
    Watch,
    /// A cluster-level failure (reserved for cluster mode).
    Cluster,
}

impl ErrorKind {
    /// Every kind, in a fixed order; [`ErrorKind::index`] is the position here.
    pub const ALL: [ErrorKind; 11] = [
        ErrorKind::Connection,
        ErrorKind::Timeout,
        ErrorKind::PoolTimeout,
        ErrorKind::Response,
        ErrorKind::Protocol,
        ErrorKind::InvalidArgument,
        ErrorKind::Denied,
        ErrorKind::Cancelled,
        ErrorKind::Authentication,
        ErrorKind::Watch,
        ErrorKind::Cluster,
    ];

    /// A stable position of this kind in [`ErrorKind::ALL`] (used for per-kind counters).
    pub fn index(self) -> usize {
        Self::ALL.iter().position(|k| *k == self).unwrap_or(0)
    }

    /// A stable lower-case name (`"pool_timeout"`), used as a key in stats and by bindings.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Connection => "connection",
            ErrorKind::Timeout => "timeout",
            ErrorKind::PoolTimeout => "pool_timeout",
            ErrorKind::Response => "response",
            ErrorKind::Protocol => "protocol",
            ErrorKind::InvalidArgument => "invalid_argument",
            ErrorKind::Denied => "denied",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Authentication => "authentication",
            ErrorKind::Watch => "watch",
            ErrorKind::Cluster => "cluster",
        }
    }
}

/// A redbridge error: a kind, a message for people, and for server errors the code.
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    code: Option<String>,
    /// Set when retrying cannot help (the wait for a connection already took the whole
    /// budget, or the server was never reachable): the policy gives up at once.
    settled: bool,
    /// For an error about one command of a pipeline or transaction (EXECABORT names the
    /// command the server refused): its index, counted from 0.
    command: Option<usize>,
}

/// Shorthand used across the core.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// A new error of `kind` with a message for people.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            code: None,
            settled: false,
            command: None,
        }
    }

    /// The same error, marked so that the retry policy does not repeat the request.
    pub(crate) fn settled(mut self) -> Self {
        self.settled = true;
        self
    }

    /// An [`ErrorKind::InvalidArgument`] error.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidArgument, message)
    }

    /// A server error reply: `code` is its first word (`WRONGTYPE`), `message` the rest.
    pub fn response(code: impl Into<String>, message: impl Into<String>) -> Self {
        Error {
            kind: ErrorKind::Response,
            message: message.into(),
            code: Some(code.into()),
            settled: false,
            command: None,
        }
    }

    /// The same error, about command `index` (from 0) of a pipeline or transaction.
    pub(crate) fn at_command(mut self, index: usize) -> Self {
        self.command = Some(index);
        self
    }

    /// For an error about one command of a pipeline or transaction (EXECABORT): which
    /// one, counted from 0, so a binding can name it as its users expect.
    pub fn command_index(&self) -> Option<usize> {
        self.command
    }

    /// A timeout error for a request that waited `after`.
    pub(crate) fn timeout(what: &str, after: Duration) -> Self {
        Self::new(
            ErrorKind::Timeout,
            format!(
                "{what} timed out after {} ms; raise the timeout option if the server is \
                 known to be slow, or check that it is reachable",
                after.as_millis()
            ),
        )
    }

    /// The stable kind of this error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message, without the code.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// For [`ErrorKind::Response`]: the server's error code (`ERR`, `WRONGTYPE`, `NOPERM`…).
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    /// The same error with a sentence appended to its message (how many attempts, why
    /// it was not retried).
    pub(crate) fn with_note(mut self, note: &str) -> Self {
        if !note.is_empty() {
            self.message.push_str(" (");
            self.message.push_str(note);
            self.message.push(')');
        }
        self
    }

    /// True for errors after which the connection that carried the request cannot be
    /// trusted any more (it broke, or a reply may still be on its way).
    pub fn is_connection_level(&self) -> bool {
        matches!(self.kind, ErrorKind::Connection | ErrorKind::Protocol)
    }

    /// True for errors a retry may cure: a broken connection, or (when the caller
    /// allows it) a timeout. Whether the *command* may be repeated is the command
    /// table's decision, not the error's.
    pub fn is_transient(&self, retry_on_timeout: bool) -> bool {
        if self.settled {
            return false;
        }
        match self.kind {
            ErrorKind::Connection => true,
            ErrorKind::Timeout => retry_on_timeout,
            ErrorKind::Response => matches!(
                self.code.as_deref(),
                Some("LOADING") | Some("TRYAGAIN") | Some("MASTERDOWN")
            ),
            _ => false,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            Some(code) => write!(f, "{code} {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("code", &self.code)
            .field("message", &self.message)
            .finish()
    }
}

impl std::error::Error for Error {}

impl From<redis::ServerError> for Error {
    /// A server error reply found inside a reply (pipeline slot, EXEC result).
    fn from(err: redis::ServerError) -> Self {
        Error::from(redis::RedisError::from(err))
    }
}

impl From<redis::RedisError> for Error {
    fn from(err: redis::RedisError) -> Self {
        use redis::ErrorKind as K;
        if let Some(code) = err.code() {
            let detail = err.detail().unwrap_or("").to_string();
            if code == "WRONGPASS" || code == "NOAUTH" {
                return Error {
                    kind: ErrorKind::Authentication,
                    message: format!(
                        "{detail}; check the username and password given to the client"
                    ),
                    code: Some(code.to_string()),
                    settled: false,
                    command: None,
                };
            }
            return Error::response(code, detail);
        }
        if err.is_timeout() {
            return Error::new(
                ErrorKind::Timeout,
                format!("the server did not answer in time: {err}"),
            );
        }
        let kind = match err.kind() {
            K::AuthenticationFailed => ErrorKind::Authentication,
            K::Parse | K::UnexpectedReturnType => ErrorKind::Protocol,
            K::InvalidClientConfig | K::Client => ErrorKind::InvalidArgument,
            K::RESP3NotSupported => ErrorKind::Protocol,
            K::Io => ErrorKind::Connection,
            _ if err.is_connection_dropped() || err.is_io_error() => ErrorKind::Connection,
            _ => ErrorKind::Protocol,
        };
        let message = match kind {
            ErrorKind::Connection => format!("connection to the server failed: {err}"),
            ErrorKind::Authentication => format!(
                "authentication failed: {err}; check the username and password given to the client"
            ),
            ErrorKind::Protocol if err.kind() == K::RESP3NotSupported => {
                "the server does not speak RESP3 (Redis < 6); use protocol=2".to_string()
            }
            _ => err.to_string(),
        };
        Error::new(kind, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_have_distinct_indices_and_names() {
        let mut names: Vec<_> = ErrorKind::ALL.iter().map(|k| k.name()).collect();
        for (i, k) in ErrorKind::ALL.iter().enumerate() {
            assert_eq!(k.index(), i);
        }
        names.sort();
        names.dedup();
        assert_eq!(names.len(), ErrorKind::ALL.len());
    }

    #[test]
    fn response_error_shows_code_then_message() {
        let e = Error::response(
            "WRONGTYPE",
            "Operation against a key holding the wrong kind",
        );
        assert_eq!(e.kind(), ErrorKind::Response);
        assert_eq!(e.code(), Some("WRONGTYPE"));
        assert!(e.to_string().starts_with("WRONGTYPE Operation"));
    }
}
