"""The sync client: ``redbridge.Redis``, a drop-in for ``redis.Redis``.

Every call goes through the Rust core: one shared multiplexed connection for ordinary
commands (a lone thread does its own socket I/O, with the GIL released), a bounded pool
for blocking commands and WATCH, timeouts and retries as configured.
"""

from __future__ import annotations

import time as _time
from types import TracebackType
from typing import Any, Callable, Iterator, List, Optional, Tuple, Type

from ._base import EMPTY_RESPONSE, NEVER_DECODE, ClientBase, PipelineBase, command_name, scan_kwargs, shape
from ._commands import KeyT
from .exceptions import DataError, ExecAbortError, ResponseError, WatchError
from .lock import Lock
from .monitor import Monitor
from .pubsub import PubSub
from .script import Script

__all__ = ["Pipeline", "Redis", "StrictRedis"]


class Redis(ClientBase):
    """A Redis client with redis-py's constructor and methods.

    ``socket_timeout`` is the per-command response timeout (default 5 s) and
    ``socket_connect_timeout`` the connect timeout (default 2 s); redbridge's own options
    are ``mode`` ("multiplexed" or "pooled"), ``retries``, ``pool_timeout``,
    ``guard`` ("warn", "deny", "off") and ``guard_threshold``. Thread-safe: share one.
    """

    _lock_class = Lock
    _script_class = Script

    def execute_command(self, *args: Any, **options: Any) -> Any:
        """Sends any command; the reply is shaped as redis-py shapes it."""
        try:
            if options and NEVER_DECODE in options:
                reply = self._native.execute_bytes(args)
            else:
                reply = self._native.execute(args)
        except ResponseError:
            if options and EMPTY_RESPONSE in options:
                return options[EMPTY_RESPONSE]
            raise
        except DataError:
            # The core refuses connection state on shared connections; these two the
            # client applies to all its connections instead (as select()/client_setname()).
            name = command_name(args)
            if name == "SELECT" and len(args) == 2:
                return self.select(args[1])
            if name == "CLIENT SETNAME" and len(args) == 2:
                return self.client_setname(args[1])
            raise
        return shape(args, reply, options, self._callbacks)

    # Dict-style access, as redis-py's: r["k"], r["k"] = v, del r["k"], "k" in r.
    def __getitem__(self, name: KeyT) -> Any:
        """The value of key ``name``; KeyError when there is none."""
        value = self.get(name)
        if value is not None:
            return value
        raise KeyError(name)

    def __setitem__(self, name: KeyT, value: Any) -> None:
        self.set(name, value)

    def __delitem__(self, name: KeyT) -> None:
        self.delete(name)

    def __contains__(self, name: KeyT) -> bool:
        return bool(self.exists(name))

    def pipeline(self, transaction: bool = True, shard_hint: Optional[str] = None) -> "Pipeline":
        """Queue commands and send them in one round trip; MULTI/EXEC if transaction."""
        return Pipeline(self, transaction)

    def monitor(self) -> Monitor:
        """redis-py's monitor(): every command the server runs, read on a connection of
        its own (``with r.monitor() as m: m.next_command()``)."""
        return Monitor(self)

    def pubsub(self, **kwargs: Any) -> PubSub:
        """redis-py's pubsub(): subscriptions on a connection of their own, kept by the
        core across reconnects (``ignore_subscribe_messages``, ``health_check_interval``;
        ``gap_handler``/``gap_messages`` show where messages may be missing)."""
        return PubSub(self, **kwargs)

    def transaction(self, func: Callable[["Pipeline"], Any], *watches: KeyT, value_from_callable: bool = False, watch_delay: Optional[float] = None, **kwargs: Any) -> Any:
        """Runs func(pipe) with WATCH on ``watches`` until EXEC succeeds (redis-py's helper)."""
        with self.pipeline(True) as pipe:
            while True:
                try:
                    if watches:
                        pipe.watch(*watches)
                    value = func(pipe)
                    result = pipe.execute()
                    return value if value_from_callable else result
                except WatchError:
                    if watch_delay is not None and watch_delay > 0:
                        _time.sleep(watch_delay)

    def _iter(self, kind: str, name: Optional[KeyT], match: Optional[KeyT], count: Optional[int], _type: Optional[str] = None) -> Iterator[Any]:
        stream = self._native.scan(**scan_kwargs(kind, name, match, count, _type))
        while True:
            page = stream.next_batch()
            if page is None:
                return
            yield from page

    def scan_iter(self, match: Optional[KeyT] = None, count: Optional[int] = None, _type: Optional[str] = None, **kwargs: Any) -> Iterator[Any]:
        """Every key (matching ``match``), fetched page by page as you iterate."""
        return self._iter("keys", None, match, count, _type)

    def sscan_iter(self, name: KeyT, match: Optional[KeyT] = None, count: Optional[int] = None) -> Iterator[Any]:
        return self._iter("set", name, match, count)

    def hscan_iter(self, name: KeyT, match: Optional[KeyT] = None, count: Optional[int] = None, no_values: Optional[bool] = None) -> Iterator[Any]:
        for field, value in self._iter("hash", name, match, count):
            yield field if no_values else (field, value)

    def zscan_iter(self, name: KeyT, match: Optional[KeyT] = None, count: Optional[int] = None, score_cast_func: Callable[[Any], Any] = float) -> Iterator[Tuple[Any, Any]]:
        for member, score in self._iter("zset", name, match, count):
            yield member, score_cast_func(score)

    def close(self) -> None:
        """Closes every connection; the next command connects again (as redis-py's)."""
        self._native.close()
        self._reopen_later()

    # Connection state redis-py sets with a command on its connection: redbridge's
    # connections are shared, so the client reconnects with the new setting instead.
    def select(self, index: int, **kwargs: Any) -> bool:
        """Switches every connection of this client to database ``index`` (it
        reconnects; redis-py's SELECT switches one pooled connection)."""
        self._with_options(db=int(index))
        self.close()
        return True

    def client_setname(self, name: str) -> bool:
        """Names every connection of this client ``name`` (CLIENT SETNAME; it
        reconnects so that each new connection carries the name)."""
        self._with_options(client_name=name)
        self.close()
        self.ping()  # connect now, so that the name is seen at once (CLIENT LIST)
        return True

    def auth(self, password: str, username: Optional[str] = None, **kwargs: Any) -> bool:
        """Logs every connection of this client in as ``username`` (default user when
        None) with ``password``: it reconnects with these credentials. A refusal raises
        AuthenticationError and keeps the credentials it had."""
        url, before = self._make
        self._with_options(password=password, username=username)
        self.close()
        try:
            self.ping()
        except Exception:
            self._make = (url, before)
            self.close()
            raise
        return True

    def quit(self, **kwargs: Any) -> bool:
        """QUIT: closes the connections (the next command connects again)."""
        self.close()
        return True

    def reset(self) -> Any:
        """RESET: every connection back to its initial state (it reconnects)."""
        self.close()
        return shape(("RESET",), "RESET" if self._decode else b"RESET", {}, self._callbacks)

    def __enter__(self) -> "Redis":
        return self

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException], tb: Optional[TracebackType]) -> None:
        self.close()


StrictRedis = Redis


class Pipeline(PipelineBase):
    """redis-py's Pipeline: chain commands, ``execute()`` sends them in one write.

    After ``watch()`` the pipeline holds a dedicated connection and runs commands at once
    (to read the watched keys); ``multi()`` starts buffering again; ``execute()`` sends
    MULTI … EXEC and raises WatchError when a watched key changed.
    """

    def __enter__(self) -> "Pipeline":
        return self

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException], tb: Optional[TracebackType]) -> None:
        self.reset()

    def execute_command(self, *args: Any, **options: Any) -> Any:
        if self._watching and not self._explicit:
            return shape(args, self._lease.execute(args), options, self._client._callbacks)
        self._stack.append((args, options))  # _queue inlined: once per queued command
        return self

    def watch(self, *names: KeyT) -> bool:
        self._check_watch()
        if self._lease is None:
            self._lease = self._client._native.lease()
        self._lease.execute(("WATCH", *names))
        self._watching = True
        return True

    def unwatch(self) -> bool:
        if self._lease is not None:
            self._lease.execute(("UNWATCH",))
        self._watching = False
        return True

    def execute(self, raise_on_error: bool = True) -> List[Any]:
        stack, cmds, atomic = self._take()
        if not stack and not self._watching:
            return []
        try:
            if self._scripts:
                for script in self._missing_scripts(self._client.script_exists(*self._scripts)):
                    self._client.script_load(script)
            target = self._lease if self._lease is not None else self._client._native
            slots = target.pipeline(cmds, atomic)
        except ExecAbortError as error:
            raise self._aborted(stack, error)
        finally:
            self.reset()
        return self._results(stack, slots, raise_on_error)

    def reset(self) -> None:
        """Drops queued commands and returns a WATCH connection to the pool."""
        self._clear()
