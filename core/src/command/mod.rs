//! The command table and the [`Command`] type.
//!
//! One static table holds, for every command of Redis 7.x and Valkey 8, the flags that
//! every policy reads: read-only, idempotent (safe to repeat), blocking and where its
//! block time is, cacheable, walks-everything, big reply, connection-state, and the
//! normal form of its reply. Routing, retries, timeouts and the guard all ask this
//! table, nothing else. The table ([`table`](self)) is generated from the command spec
//! (`spec/`: what the servers say of their commands, and our columns in
//! `spec/policy.toml`) by `spec/generate.py`. A command missing from the table is treated
//! as a write that is not safe to repeat.

mod table;

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use crate::error::{Error, Result};
use table::TABLE;

/// A set of command flags.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Flags(u16);

impl Flags {
    /// No flags: a write that is not safe to repeat.
    pub const NONE: Flags = Flags(0);
    /// Reads only; safe to retry.
    pub const READONLY: Flags = Flags(1);
    /// Writes, but repeating it leaves the same state (SET, DEL, HSET…); safe to retry.
    pub const IDEMPOTENT: Flags = Flags(1 << 1);
    /// May block the connection server-side (BLPOP…); routed to a dedicated connection.
    pub const BLOCKING: Flags = Flags(1 << 2);
    /// Its reply depends only on its key and may be cached client-side.
    pub const CACHEABLE: Flags = Flags(1 << 3);
    /// Walks the whole keyspace (KEYS, FLUSHALL): checked by the guard before sending.
    pub const WALKS: Flags = Flags(1 << 4);
    /// Returns a whole collection (SMEMBERS, HGETALL…): the guard checks the reply size.
    pub const BIG_REPLY: Flags = Flags(1 << 5);
    /// Changes connection state (SELECT, AUTH, CLIENT TRACKING…): refused, with the
    /// option to use instead.
    pub const STATE: Flags = Flags(1 << 6);
    /// Part of a transaction (WATCH, MULTI, EXEC…): only on a leased connection.
    pub const TXN: Flags = Flags(1 << 7);

    /// True when every flag of `other` is set here.
    pub const fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }
    const fn or(self, other: Flags) -> Flags {
        Flags(self.0 | other.0)
    }
}

impl std::ops::BitOr for Flags {
    type Output = Flags;
    fn bitor(self, rhs: Flags) -> Flags {
        self.or(rhs)
    }
}

impl fmt::Debug for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [
            (Flags::READONLY, "READONLY"),
            (Flags::IDEMPOTENT, "IDEMPOTENT"),
            (Flags::BLOCKING, "BLOCKING"),
            (Flags::CACHEABLE, "CACHEABLE"),
            (Flags::WALKS, "WALKS"),
            (Flags::BIG_REPLY, "BIG_REPLY"),
            (Flags::STATE, "STATE"),
            (Flags::TXN, "TXN"),
        ];
        let set: Vec<_> = names
            .iter()
            .filter(|(fl, _)| self.contains(*fl))
            .map(|(_, n)| *n)
            .collect();
        write!(f, "{}", set.join("|"))
    }
}

/// Unit of a block-time argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Seconds, possibly fractional (BLPOP).
    Seconds,
    /// Milliseconds (XREAD BLOCK, WAIT).
    Millis,
}

/// Where a blocking command carries its block time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockArg {
    /// Not blocking.
    None,
    /// The last argument (BLPOP k1 k2 timeout).
    Last(Unit),
    /// The argument at this position, counting the command name as 0 (BLMPOP timeout …).
    At(usize, Unit),
    /// The argument after this keyword; without the keyword the command does not block
    /// (XREAD BLOCK ms …).
    After(&'static str, Unit),
}

/// How a reply is put in its normal form: one shape under RESP2 and RESP3, which every
/// binding converts into its own types (see `docs/architecture.md`, "Reply normal
/// forms"). Applied by the request path to commands that ask for it
/// ([`Command::normalized`]); raw commands (node-redis's `sendCommand`, the C API) get the
/// server's reply as it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// As the server sent it.
    Plain,
    /// Field/value pairs as a [`redis::Value::Map`] (HGETALL): RESP2's flat array becomes
    /// a map, as RESP3 sends it.
    Map,
    /// `[[member, score], …]` with every score a [`redis::Value::Double`]: RESP2 sends a
    /// flat array of strings, RESP3 pairs, and one popped member as a flat pair.
    Scored,
    /// [`Shape::Scored`] when the command has a WITHSCORES argument (ZRANGE and its
    /// family), else [`Shape::Plain`].
    ScoredIfAsked,
    /// `[key, member, score]` with the score a double, or nil (BZPOPMIN/BZPOPMAX).
    KeyScored,
    /// A scan page `[cursor, items]` whose items are `[field, value]` pairs (HSCAN;
    /// plain items with NOVALUES).
    PairsPage,
    /// A scan page `[cursor, items]` whose items are `[member, score]` pairs with double
    /// scores (ZSCAN).
    ScoredPage,
    /// A [`redis::Value::Map`] from RESP2's array of `[key, value]` pairs (XREAD: stream →
    /// entries), as RESP3 sends it.
    PairsMap,
    /// An array of maps, each from RESP2's flat field/value array (XINFO GROUPS, MODULE
    /// LIST, CLUSTER LINKS).
    Maps,
    /// `[[field, value], …]` from RESP2's flat array or RESP3's pairs.
    Pairs,
    /// [`Shape::Pairs`] when the command has a WITHVALUES argument (HRANDFIELD), else
    /// [`Shape::Plain`].
    PairsIfAsked,
    /// FUNCTION LIST: an array of library maps, each one's `functions` an array of maps.
    FunctionList,
    /// FUNCTION STATS: a map; `running_script` a map (or nil), `engines` a map of maps.
    FunctionStats,
    /// MEMORY STATS: a map, each `db.N` a map.
    MemoryStats,
    /// LATENCY HISTOGRAM: command → map, each one's `histogram_usec` a map.
    LatencyHistogram,
    /// COMMAND DOCS: command → doc map; a doc's `arguments` an array of argument maps
    /// (nested `arguments` too), its `subcommands` command → doc map again.
    CommandDocs,
    /// COMMAND and COMMAND INFO: an array of command entries (or nil), each entry's key
    /// specifications (position 8) maps with `begin_search`/`find_keys` maps and their
    /// `spec` maps, its subcommands (position 9) entries again.
    CommandInfo,
}

/// One row of the command table.
#[derive(Debug)]
pub struct CommandSpec {
    /// Upper-case name; two words for container subcommands (`CLIENT TRACKING`).
    pub name: &'static str,
    /// Policy flags.
    pub flags: Flags,
    /// Block-time position for blocking commands.
    pub block: BlockArg,
    /// What to use instead, for the guard's warning (walks / big reply) or for a refused
    /// state command (which option).
    pub alternative: &'static str,
    /// The normal form of its reply.
    pub reply: Shape,
    /// A container whose second word selects a row of its own (`CLIENT TRACKING`).
    pub container: bool,
}

/// Used for commands not in the table: a write, not safe to repeat.
static UNKNOWN: CommandSpec = CommandSpec {
    name: "",
    flags: Flags::NONE,
    block: BlockArg::None,
    alternative: "",
    reply: Shape::Plain,
    container: false,
};

/// The name an unknown command goes by in errors, events and metrics: its first argument
/// upper-cased when it looks like a command name (letters, digits, `.`, `_`, `-`, `|`, at
/// most 64 bytes: module commands such as `JSON.SET` are kept), else `UNKNOWN`, so an
/// argument passed inside the name (`"AUTH secret"` as one string) is never shown.
fn unknown_name(name: &[u8]) -> Cow<'static, str> {
    let plain = name.len() <= 64
        && name
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'|'));
    match plain {
        true => Cow::Owned(String::from_utf8_lossy(name).to_ascii_uppercase()),
        false => Cow::Borrowed("UNKNOWN"),
    }
}

/// The name telemetry may show for a command whose first argument is `first` (the
/// command word, not its subcommand): the table's name, or for an unknown command
/// [`unknown_name`]'s. Bindings that name commands themselves (spans, tracing channels)
/// use this, so an argument passed inside the name is never shown.
pub fn command_word(first: &[u8]) -> Cow<'static, str> {
    let spec = lookup(first, None);
    match spec.name.split(' ').next() {
        Some(word) if !word.is_empty() => Cow::Borrowed(word),
        _ => unknown_name(first),
    }
}

/// The table by name: looked up once per command, on every binding's hot path (a
/// binary search's string compares were ~4% of a Python pipeline's native time).
static INDEX: std::sync::LazyLock<rustc_hash::FxHashMap<&'static [u8], &'static CommandSpec>> =
    std::sync::LazyLock::new(|| TABLE.iter().map(|row| (row.name.as_bytes(), row)).collect());

/// The longest subcommand name looked up (`CLUSTER COUNT-FAILURE-REPORTS` has 21).
const MAX_SUB: usize = 32;

/// Looks a command up by name (any case); for containers, `sub` picks the subcommand row.
pub fn lookup(name: &[u8], sub: Option<&[u8]>) -> &'static CommandSpec {
    let mut buf = [0u8; 40];
    let upper = |s: &[u8], buf: &mut [u8; 40]| -> Option<usize> {
        (s.len() <= 20).then(|| {
            for (d, c) in buf.iter_mut().zip(s) {
                *d = c.to_ascii_uppercase();
            }
            s.len()
        })
    };
    let Some(n) = upper(name, &mut buf) else {
        return &UNKNOWN;
    };
    let find = |key: &[u8]| INDEX.get(key).copied();
    let base = &buf[..n];
    let Some(spec) = find(base) else {
        return &UNKNOWN;
    };
    // One hash lookup for a plain command; a container's subcommand takes a second.
    if let Some(sub) = sub.filter(|s| spec.container && s.len() <= MAX_SUB) {
        let mut full = [0u8; 64];
        full[..n].copy_from_slice(base);
        full[n] = b' ';
        for (d, c) in full[n + 1..].iter_mut().zip(sub) {
            *d = c.to_ascii_uppercase();
        }
        if let Some(sub_spec) = find(&full[..n + 1 + sub.len()]) {
            return sub_spec;
        }
    }
    spec
}

/// How long a blocking command may block the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Block {
    /// Not a blocking call.
    No,
    /// Blocks at most this long.
    For(Duration),
    /// Block time 0: waits until data arrives.
    Forever,
}

/// A command ready to send: its arguments, packed, and what the table says of it.
#[derive(Clone)]
pub struct Command {
    pub(crate) cmd: redis::Cmd,
    pub(crate) meta: Meta,
}

/// What policy needs to know of a command once its arguments are packed away (kept per
/// slot by pipelines).
#[derive(Clone, Debug)]
pub struct Meta {
    spec: &'static CommandSpec,
    flags: Flags,
    block: Block,
    retry: Option<bool>,
    name: Cow<'static, str>,
    size: usize,
    shape: Shape,
}

impl Meta {
    /// Upper-case name (two words for container subcommands known to the table).
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The table row (a default row for unknown commands).
    pub fn spec(&self) -> &'static CommandSpec {
        self.spec
    }
    /// Flags after argument refinements.
    pub fn flags(&self) -> Flags {
        self.flags
    }
    /// Block time of a blocking command.
    pub fn block(&self) -> Block {
        self.block
    }
    /// Total bytes of the arguments.
    pub fn size(&self) -> usize {
        self.size
    }
    /// The normal form the reply is put in ([`Shape::Plain`] unless the command asked
    /// for it with [`Command::normalized`]).
    pub fn shape(&self) -> Shape {
        self.shape
    }
    /// True when the table (or the per-call override) says a retry is safe.
    pub fn retry_safe(&self, retry_unsafe: bool) -> bool {
        self.retry.unwrap_or(
            retry_unsafe
                || self.flags.contains(Flags::READONLY)
                || self.flags.contains(Flags::IDEMPOTENT),
        )
    }
}

impl Command {
    /// Builds a command from its arguments, the name first. Arguments are bytes, so any
    /// binary value is fine. An empty argument list is an error.
    pub fn new<I, A>(argv: I) -> Result<Command>
    where
        I: IntoIterator<Item = A>,
        A: AsRef<[u8]>,
    {
        let mut cmd = redis::Cmd::new();
        let mut size = 0;
        for a in argv {
            let a = a.as_ref();
            size += a.len();
            cmd.arg(a);
        }
        // The name and the first argument (a container's subcommand) are read back from
        // the packed arguments: no copies of them.
        let (name, sub) = {
            let mut args = cmd.args_iter().map(|a| match a {
                redis::Arg::Simple(b) => b,
                _ => &b""[..],
            });
            (args.next(), args.next().filter(|s| s.len() <= MAX_SUB))
        };
        let name =
            name.ok_or_else(|| Error::invalid("empty command: give at least the command name"))?;
        if name.is_empty() {
            return Err(Error::invalid("the command name is empty"));
        }
        let spec = lookup(name, sub);
        let name: Cow<'static, str> = if spec.name.is_empty() {
            unknown_name(name)
        } else {
            Cow::Borrowed(spec.name)
        };
        let mut command = Command {
            cmd,
            meta: Meta {
                spec,
                flags: spec.flags,
                block: Block::No,
                retry: None,
                name,
                size,
                shape: Shape::Plain,
            },
        };
        command.refine()?;
        Ok(command)
    }

    /// Argument-dependent refinements of the table's flags: SET NX/GET and ZADD INCR are
    /// not safe to repeat; the block time of blocking commands.
    fn refine(&mut self) -> Result<()> {
        let has_arg =
            |c: &Command, word: &[u8]| c.args().skip(1).any(|a| a.eq_ignore_ascii_case(word));
        // Refinements name known commands only: the table's name (static) is enough.
        match self.meta.spec.name {
            "SET" if has_arg(self, b"NX") || has_arg(self, b"XX") || has_arg(self, b"GET") => {
                self.meta.flags = Flags::NONE
            }
            "ZADD" if has_arg(self, b"INCR") => self.meta.flags = Flags::NONE,
            // FLUSHALL ASYNC frees memory in the background: not a stall.
            "FLUSHALL" | "FLUSHDB" if has_arg(self, b"ASYNC") => {
                self.meta.flags = Flags(self.meta.flags.0 & !Flags::WALKS.0)
            }
            _ => {}
        }
        if self.meta.flags.contains(Flags::BLOCKING) {
            let raw = match self.meta.spec.block {
                BlockArg::None => None,
                BlockArg::Last(u) => self.args().last().map(|a| (a.to_vec(), u)),
                BlockArg::At(i, u) => self.arg(i).map(|a| (a.to_vec(), u)),
                BlockArg::After(word, u) => {
                    let pos = self
                        .args()
                        .position(|a| a.eq_ignore_ascii_case(word.as_bytes()));
                    pos.and_then(|p| self.arg(p + 1)).map(|a| (a.to_vec(), u))
                }
            };
            self.meta.block = match raw {
                // XREAD without BLOCK: an ordinary read.
                None if matches!(self.meta.spec.block, BlockArg::After(..)) => {
                    self.meta.flags = Flags(self.meta.flags.0 & !Flags::BLOCKING.0);
                    Block::No
                }
                None => {
                    return Err(Error::invalid(format!(
                        "{} needs a timeout argument",
                        self.meta.name
                    )))
                }
                Some((raw, unit)) => parse_block(&raw, unit).ok_or_else(|| {
                    Error::invalid(format!(
                        "{}: the timeout {:?} is not a number; give seconds (BLPOP) or milliseconds (XREAD BLOCK, WAIT)",
                        self.meta.name,
                        String::from_utf8_lossy(&raw)
                    ))
                })?,
            };
        }
        Ok(())
    }

    /// Asks for the reply in its normal form (the table's [`Shape`] for this command and
    /// its arguments): what bindings whose anchors shape replies (redis-py, node-redis's
    /// command methods) use; raw calls leave it off.
    pub fn normalized(mut self) -> Self {
        let has_arg = |word: &[u8]| self.args().skip(2).any(|a| a.eq_ignore_ascii_case(word));
        self.meta.shape = match self.meta.spec.reply {
            Shape::ScoredIfAsked if has_arg(b"WITHSCORES") => Shape::Scored,
            Shape::ScoredIfAsked => Shape::Plain,
            Shape::PairsPage if has_arg(b"NOVALUES") => Shape::Plain,
            Shape::PairsIfAsked if has_arg(b"WITHVALUES") => Shape::Pairs,
            Shape::PairsIfAsked => Shape::Plain,
            shape => shape,
        };
        self
    }

    /// Allows (true) or forbids (false) retrying this command, whatever the table says.
    pub fn with_retry(mut self, allow: bool) -> Self {
        self.meta.retry = Some(allow);
        self
    }

    /// What the table and the arguments say of this command.
    pub fn meta(&self) -> &Meta {
        &self.meta
    }
    /// Upper-case name (two words for container subcommands known to the table).
    pub fn name(&self) -> &str {
        &self.meta.name
    }
    /// The table row (a default row for unknown commands).
    pub fn spec(&self) -> &'static CommandSpec {
        self.meta.spec
    }
    /// Flags after argument refinements.
    pub fn flags(&self) -> Flags {
        self.meta.flags
    }
    /// Block time of a blocking command.
    pub fn block(&self) -> Block {
        self.meta.block
    }
    /// True when the table (or the per-call override) says a retry is safe.
    pub fn retry_safe(&self, retry_unsafe: bool) -> bool {
        self.meta.retry_safe(retry_unsafe)
    }
    /// Arguments, the name first.
    pub fn args(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.cmd.args_iter().map(|a| match a {
            redis::Arg::Simple(b) => b,
            _ => &b"0"[..],
        })
    }
    /// Argument `i` (0 is the name).
    pub fn arg(&self, i: usize) -> Option<&[u8]> {
        self.args().nth(i)
    }
    /// The packed redis-rs command.
    pub(crate) fn cmd(&self) -> &redis::Cmd {
        &self.cmd
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Arguments may hold secrets or large values: show the name and count only.
        f.debug_struct("Command")
            .field("name", &self.meta.name)
            .field("args", &self.cmd.args_iter().count().saturating_sub(1))
            .field("flags", &self.meta.flags)
            .field("block", &self.meta.block)
            .finish()
    }
}

fn parse_block(raw: &[u8], unit: Unit) -> Option<Block> {
    let v: f64 = std::str::from_utf8(raw).ok()?.trim().parse().ok()?;
    if !v.is_finite() || v < 0.0 {
        return None;
    }
    if v == 0.0 {
        return Some(Block::Forever);
    }
    let secs = match unit {
        Unit::Seconds => v,
        Unit::Millis => v / 1000.0,
    };
    Some(Block::For(Duration::from_secs_f64(secs.min(1e9))))
}

/// Builds a [`Command`] from literal arguments: `cmd!["SET", "k", "v"]`.
#[macro_export]
macro_rules! cmd {
    ($($arg:expr),+ $(,)?) => {
        $crate::Command::new([$(::std::convert::AsRef::<[u8]>::as_ref(&$arg).to_vec()),+])
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_unique() {
        for w in TABLE.windows(2) {
            assert!(
                w[0].name < w[1].name,
                "{} must come before {}",
                w[0].name,
                w[1].name
            );
        }
    }

    #[test]
    fn lookup_any_case_and_subcommands() {
        assert_eq!(lookup(b"get", None).name, "GET");
        assert!(lookup(b"GeT", None).flags.contains(Flags::CACHEABLE));
        assert_eq!(lookup(b"client", Some(b"tracking")).name, "CLIENT TRACKING");
        assert_eq!(lookup(b"client", Some(b"id")).name, "CLIENT ID");
        assert_eq!(lookup(b"client", Some(b"nosuch")).name, "CLIENT");
        assert_eq!(lookup(b"nosuchcommand", None).name, "");
        // An unknown command keeps a name that looks like one, and hides anything else.
        assert_eq!(
            Command::new(["json.set", "k", "$", "1"]).unwrap().name(),
            "JSON.SET"
        );
        assert_eq!(Command::new(["auth s3cret"]).unwrap().name(), "UNKNOWN");
        assert_eq!(Command::new(["GET\r\nx"]).unwrap().name(), "UNKNOWN");
        assert_eq!(command_word(b"client"), "CLIENT");
        assert_eq!(command_word(b"ft.search"), "FT.SEARCH");
        assert_eq!(command_word(b"AUTH hunter2"), "UNKNOWN");
        // HELLO 2/3 switch a connection's protocol (refused); plain HELLO only reads.
        assert!(lookup(b"hello", Some(b"3")).flags.contains(Flags::STATE));
        assert!(lookup(b"HELLO", Some(b"2")).flags.contains(Flags::STATE));
        assert!(!lookup(b"hello", None).flags.contains(Flags::STATE));
    }

    #[test]
    fn the_spec_gives_every_server_command_a_row() {
        // A command only Valkey 8 has, and a subcommand row of a new container.
        assert_eq!(lookup(b"commandlog", Some(b"get")).name, "COMMANDLOG GET");
        assert_eq!(lookup(b"cluster", Some(b"keyslot")).name, "CLUSTER KEYSLOT");
        // A read the policy file does not name takes the server's readonly flag.
        assert!(lookup(b"GEORADIUS_RO", None)
            .flags
            .contains(Flags::READONLY));
        // A subcommand with no entry of its own takes its container's columns.
        let pause = lookup(b"client", Some(b"pause"));
        assert_eq!(pause.name, "CLIENT PAUSE");
        assert_eq!(pause.flags, lookup(b"client", None).flags);
        assert!(TABLE.len() >= 370, "{} rows", TABLE.len());
    }

    #[test]
    fn refinements() {
        let c = Command::new(["SET", "k", "v"]).unwrap();
        assert!(c.retry_safe(false));
        let c = Command::new(["set", "k", "v", "nx"]).unwrap();
        assert!(!c.retry_safe(false));
        assert!(c.clone().with_retry(true).retry_safe(false));
        let c = Command::new(["INCR", "k"]).unwrap();
        assert!(!c.retry_safe(false));
        assert!(c.retry_safe(true));
        let c = Command::new(["BLPOP", "a", "b", "2.5"]).unwrap();
        assert_eq!(c.block(), Block::For(Duration::from_millis(2500)));
        let c = Command::new(["BLPOP", "a", "0"]).unwrap();
        assert_eq!(c.block(), Block::Forever);
        let c = Command::new(["XREAD", "COUNT", "1", "STREAMS", "s", "0"]).unwrap();
        assert_eq!(c.block(), Block::No);
        assert!(!c.flags().contains(Flags::BLOCKING));
        let c = Command::new(["XREAD", "BLOCK", "1500", "STREAMS", "s", "$"]).unwrap();
        assert_eq!(c.block(), Block::For(Duration::from_millis(1500)));
        let c = Command::new(["WAIT", "1", "100"]).unwrap();
        assert_eq!(c.block(), Block::For(Duration::from_millis(100)));
        assert!(Command::new(["BLPOP", "a", "soon"]).is_err());
        assert!(Command::new(Vec::<Vec<u8>>::new()).is_err());
    }
}
