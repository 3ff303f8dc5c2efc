//! Lua scripts run by their SHA1: `EVALSHA` first, and only when the server answers
//! `NOSCRIPT` (it has not seen the script, or `SCRIPT FLUSH` emptied its cache) `EVAL`
//! with the body, which also caches it there. Written once for every engine; the
//! bindings call [`Client::eval_script`] / [`SyncClient::eval_script`] and never decide
//! the fallback themselves.
//!
//! Both attempts go through the request path ([`Client::begin`] for each command sent,
//! one [`Client::end`] for the call): admission, the guard, the cache dropping the keys a
//! script may write, the retry rule, timeouts, and one request in the counters — a
//! `NOSCRIPT` that the fallback cures is not counted as an error. `EVAL` names the same
//! keys as `EVALSHA`, so on a cluster it is routed to the same node.

use redis::Value;

use super::{Begin, Client, SyncClient};
use crate::command::Command;
use crate::error::{Error, ErrorKind, Result};
use crate::policy::{Retry, Seat};

/// A Lua script: its body and the SHA1 the server knows it by. Cheap to clone; make it
/// once and run it many times, so that the body crosses the network only when a server
/// does not have it cached yet.
#[derive(Clone, PartialEq, Eq)]
pub struct Script {
    body: std::sync::Arc<[u8]>,
    sha: String,
    read_only: bool,
}

impl Script {
    /// A script from its Lua source (bytes, as Redis takes them). Hashes it once.
    pub fn new(body: impl AsRef<[u8]>) -> Script {
        let body = body.as_ref();
        Script {
            sha: sha1_smol::Sha1::from(body).digest().to_string(),
            body: body.into(),
            read_only: false,
        }
    }

    /// The same script marked read-only (`true`) or not: a read-only script runs with
    /// `EVALSHA_RO` / `EVAL_RO` (Redis 7), so the server refuses a write inside it, and
    /// the policy treats each call as a read (retried after a connection error, sent to
    /// a replica when `read_from_replicas` is on). As node-redis's `READONLY` option.
    pub fn read_only(mut self, read_only: bool) -> Script {
        self.read_only = read_only;
        self
    }

    /// True when the script runs with the `_RO` commands ([`Script::read_only`]).
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// The SHA1 of the body as 40 lower-case hex digits: what `EVALSHA`, `SCRIPT EXISTS`
    /// and `SCRIPT LOAD`'s reply use.
    pub fn sha(&self) -> &str {
        &self.sha
    }

    /// The Lua source.
    pub fn body(&self) -> &[u8] {
        &self.body
    }
}

impl std::fmt::Debug for Script {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The SHA names the script; the body may be long.
        f.debug_struct("Script")
            .field("sha", &self.sha)
            .field("body_len", &self.body.len())
            .field("read_only", &self.read_only)
            .finish()
    }
}

/// One run of a script: the script, its keys and its arguments.
struct Call<'a, K, A> {
    script: &'a Script,
    keys: &'a [K],
    args: &'a [A],
}

impl<K: AsRef<[u8]>, A: AsRef<[u8]>> Call<'_, K, A> {
    /// `EVALSHA[_RO] sha numkeys keys… args…`.
    fn by_sha(&self) -> Result<Command> {
        let name = if self.script.read_only {
            "EVALSHA_RO"
        } else {
            "EVALSHA"
        };
        self.command(name, self.script.sha.as_bytes())
    }

    /// `EVAL[_RO] body numkeys keys… args…`, the fallback.
    fn by_body(&self) -> Result<Command> {
        let name = if self.script.read_only {
            "EVAL_RO"
        } else {
            "EVAL"
        };
        self.command(name, &self.script.body)
    }

    fn command(&self, name: &str, first: &[u8]) -> Result<Command> {
        let numkeys = self.keys.len().to_string();
        let head = [name.as_bytes(), first, numkeys.as_bytes()];
        let keys = self.keys.iter().map(|k| k.as_ref());
        let args = self.args.iter().map(|a| a.as_ref());
        Command::new(head.into_iter().chain(keys).chain(args))
    }

    /// The command to send after the first attempt's `result`: `EVAL` with the body when
    /// the server did not know the SHA, else `None` (the result stands).
    fn fallback(&self, result: &Result<Value>) -> Result<Option<Command>> {
        match result {
            Err(e) if is_noscript(e) => self.by_body().map(Some),
            _ => Ok(None),
        }
    }
}

/// True for the server's "no script with this SHA1" error.
fn is_noscript(e: &Error) -> bool {
    e.kind() == ErrorKind::Response && e.code() == Some("NOSCRIPT")
}

impl Client {
    /// Runs `script` with `keys` and `args` and returns its reply: `EVALSHA`, then on
    /// `NOSCRIPT` `EVAL` with the body (the `_RO` forms for a read-only script). An
    /// error raised by the script is the server's error ([`ErrorKind::Response`] with
    /// its code). A script that may write is not retried after a connection error
    /// unless `retry_unsafe` is on.
    pub async fn eval_script<K, A>(&self, script: &Script, keys: &[K], args: &[A]) -> Result<Value>
    where
        K: AsRef<[u8]>,
        A: AsRef<[u8]>,
    {
        let call = Call { script, keys, args };
        let first = call.by_sha()?;
        let mut last = None;
        let result = async {
            let retry = last.insert(self.begin_script(&first)?);
            let mut result = self.run(&first, retry, false).await;
            if let Some(eval) = call.fallback(&result)? {
                let started = retry.started();
                let retry = last.insert(self.begin_script(&eval)?.started_at(started));
                result = self.run(&eval, retry, false).await;
            }
            result
        }
        .await;
        self.end(&first, result, last.as_ref())
    }

    /// [`Client::begin`] for a script command, on the shared seat. Scripts are not
    /// cacheable (spec/policy.toml), so the cache never answers one: it is sent, or
    /// refused.
    fn begin_script(&self, cmd: &Command) -> Result<Retry> {
        match self.begin(cmd, Seat::Shared)? {
            Begin::Send(retry) => Ok(retry),
            Begin::Hit(_) | Begin::Miss(..) => Err(Error::new(
                ErrorKind::Protocol,
                format!(
                    "{} was treated as a cacheable read; please report it",
                    cmd.name()
                ),
            )),
        }
    }
}

impl SyncClient {
    /// [`Client::eval_script`], blocking: a lone caller sends both attempts on its direct
    /// connection, as it does any command.
    pub fn eval_script<K, A>(&self, script: &Script, keys: &[K], args: &[A]) -> Result<Value>
    where
        K: AsRef<[u8]>,
        A: AsRef<[u8]>,
    {
        let call = Call { script, keys, args };
        let client = self.async_client();
        let first = call.by_sha()?;
        let mut last = None;
        let result = (|| {
            let retry = last.insert(client.begin_script(&first)?);
            let mut result = self.send(&first, retry);
            if let Some(eval) = call.fallback(&result)? {
                let started = retry.started();
                let retry = last.insert(client.begin_script(&eval)?.started_at(started));
                result = self.send(&eval, retry);
            }
            result
        })();
        client.end(&first, result, last.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha_is_the_servers() {
        // `redis-cli SCRIPT LOAD "return 1"` answers this.
        let s = Script::new("return 1");
        assert_eq!(s.sha(), "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
        assert_eq!(s.body(), b"return 1");
    }

    #[test]
    fn commands_carry_keys_then_args() {
        let s = Script::new("return KEYS[1]").read_only(true);
        let call = Call {
            script: &s,
            keys: &["k"],
            args: &[b"a\0b".as_slice()],
        };
        let sha = call.by_sha().unwrap();
        assert_eq!(sha.name(), "EVALSHA_RO");
        let args: Vec<&[u8]> = sha.args().collect();
        assert_eq!(
            args,
            [
                b"EVALSHA_RO".as_slice(),
                s.sha().as_bytes(),
                b"1",
                b"k",
                b"a\0b"
            ]
        );
        let body = call.by_body().unwrap();
        assert_eq!(body.name(), "EVAL_RO");
        assert_eq!(body.arg(1), Some(s.body()));
        let noscript = Err(Error::response("NOSCRIPT", "No matching script."));
        assert!(call.fallback(&noscript).unwrap().is_some());
        let other = Err(Error::response("ERR", "boom"));
        assert!(call.fallback(&other).unwrap().is_none());
        assert!(call.fallback(&Ok(Value::Nil)).unwrap().is_none());
    }

    #[test]
    fn debug_shows_no_body() {
        let s = Script::new("return 'secret'");
        let d = format!("{s:?}");
        assert!(!d.contains("secret"), "{d}");
        assert!(d.contains(s.sha()), "{d}");
    }
}
