"""The sync client: ``redbridge.Redis``, a drop-in for ``redis.Redis``.

Every call goes through the Rust core: one shared multiplexed connection for ordinary
commands (a lone thread does its own socket I/O, with the GIL released), a bounded pool
for blocking commands and WATCH, timeouts and retries as configured.
"""

from __future__ import annotations

import time as _time
from types import TracebackType
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple, Type

from . import _parsers
from ._commands import Commands, KeyT
from ._options import make_native
from .exceptions import RedisError, WatchError


def command_name(args: Tuple[Any, ...]) -> str:
    name = args[0]
    if isinstance(name, bytes):
        name = name.decode("utf-8", "replace")
    return str(name).upper()


def shape(args: Tuple[Any, ...], reply: Any, options: Dict[str, Any]) -> Any:
    """Applies the response callback of the command (redis-py's response_callbacks)."""
    if isinstance(reply, Exception):
        return reply
    callback = _parsers.CALLBACKS.get(command_name(args))
    return callback(reply, **options) if callback else reply


def annotate(error: Exception, index: int, args: Tuple[Any, ...]) -> Exception:
    """redis-py's wording for a failed pipeline command."""
    cmd = " ".join(a.decode("utf-8", "replace") if isinstance(a, bytes) else str(a) for a in args)
    message = error.args[0] if error.args else str(error)
    error.args = (f"Command # {index + 1} ({cmd}) of pipeline caused error: {message}",) + error.args[1:]
    return error


def _scan_kwargs(kind: str, name: Optional[KeyT], match: Optional[KeyT], count: Optional[int], _type: Optional[str] = None) -> Dict[str, Any]:
    return {"kind": kind, "key": name, "pattern": match, "count": count, "key_type": _type}


class Redis(Commands):
    """A Redis client with redis-py's constructor and methods.

    ``socket_timeout`` is the per-command response timeout (default 5 s) and
    ``socket_connect_timeout`` the connect timeout (default 2 s); redbridge's own options
    are ``mode`` ("multiplexed" or "pooled"), ``retries``, ``pool_timeout``,
    ``guard`` ("warn", "deny", "off") and ``guard_threshold``. Thread-safe: share one.
    """

    def __init__(
        self,
        host: str = "localhost",
        port: int = 6379,
        db: int = 0,
        password: Optional[str] = None,
        socket_timeout: Optional[float] = None,
        socket_connect_timeout: Optional[float] = None,
        unix_socket_path: Optional[str] = None,
        decode_responses: bool = False,
        retry_on_timeout: bool = False,
        max_connections: Optional[int] = None,
        username: Optional[str] = None,
        client_name: Optional[str] = None,
        protocol: Optional[int] = 3,
        **kwargs: Any,
    ) -> None:
        options = dict(
            host=host,
            port=port,
            db=db,
            password=password,
            socket_timeout=socket_timeout,
            socket_connect_timeout=socket_connect_timeout,
            unix_socket_path=unix_socket_path,
            decode_responses=decode_responses,
            retry_on_timeout=retry_on_timeout,
            max_connections=max_connections,
            username=username,
            client_name=client_name,
            protocol=protocol,
            **kwargs,
        )
        self._native, self._decode = make_native(None, options)

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> "Redis":
        """``redis://[user:password@]host:port/db?option=value``, ``unix:///path``;
        keyword arguments override what the URL says."""
        self = cls.__new__(cls)
        self._native, self._decode = make_native(url, kwargs)
        return self

    def __repr__(self) -> str:
        return f"<redbridge.Redis decode_responses={self._decode}>"

    # ---- execution ----------------------------------------------------------------
    def execute_command(self, *args: Any, **options: Any) -> Any:
        """Sends any command; the reply is shaped as redis-py shapes it."""
        return shape(args, self._native.execute(args), options)

    def pipeline(self, transaction: bool = True, shard_hint: Optional[str] = None) -> "Pipeline":
        """Queue commands and send them in one round trip; MULTI/EXEC if transaction."""
        return Pipeline(self, transaction)

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

    # ---- SCAN iterators -----------------------------------------------------------
    def _iter(self, kind: str, name: Optional[KeyT], match: Optional[KeyT], count: Optional[int], _type: Optional[str] = None) -> Iterator[Any]:
        stream = self._native.scan(**_scan_kwargs(kind, name, match, count, _type))
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

    # ---- lifecycle ----------------------------------------------------------------
    def stats(self) -> Dict[str, int]:
        """The core's counters: requests, errors_<kind>, retries, reconnects, pool_*."""
        return dict(self._native.stats())

    def close(self) -> None:
        """Closes every connection; later calls raise ConnectionError."""
        self._native.close()

    def __enter__(self) -> "Redis":
        return self

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException], tb: Optional[TracebackType]) -> None:
        self.close()


StrictRedis = Redis


class Pipeline(Commands):
    """redis-py's Pipeline: chain commands, ``execute()`` sends them in one write.

    After ``watch()`` the pipeline holds a dedicated connection and runs commands at once
    (to read the watched keys); ``multi()`` starts buffering again; ``execute()`` sends
    MULTI … EXEC and raises WatchError when a watched key changed.
    """

    def __init__(self, client: Redis, transaction: bool = True) -> None:
        self._client = client
        self.transaction = transaction
        self._stack: List[Tuple[Tuple[Any, ...], Dict[str, Any]]] = []
        self._lease: Any = None
        self._watching = False
        self._explicit = False

    def __len__(self) -> int:
        return len(self._stack)

    def __bool__(self) -> bool:
        return True

    def __enter__(self) -> "Pipeline":
        return self

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException], tb: Optional[TracebackType]) -> None:
        self.reset()

    def execute_command(self, *args: Any, **options: Any) -> Any:
        if self._watching and not self._explicit:
            return shape(args, self._lease.execute(args), options)
        self._stack.append((args, options))
        return self

    def watch(self, *names: KeyT) -> bool:
        if self._explicit:
            raise RedisError("Cannot issue a WATCH after a MULTI")
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

    def multi(self) -> None:
        if self._explicit:
            raise RedisError("Cannot issue nested calls to MULTI")
        if self._stack:
            raise RedisError("Commands without an initial WATCH have already been issued")
        self._explicit = True

    def execute(self, raise_on_error: bool = True) -> List[Any]:
        stack = self._stack
        if not stack and not self._watching:
            return []
        cmds = [args for args, _ in stack]
        try:
            if self._lease is not None:
                slots = self._lease.pipeline(cmds, self.transaction or self._explicit)
            else:
                slots = self._client._native.pipeline(cmds, self.transaction)
        finally:
            self.reset()
        results = [shape(args, slot, options) for (args, options), slot in zip(stack, slots)]
        if raise_on_error:
            for i, r in enumerate(results):
                if isinstance(r, Exception):
                    raise annotate(r, i, stack[i][0])
        return results

    def reset(self) -> None:
        """Drops queued commands and returns a WATCH connection to the pool."""
        self._stack = []
        if self._lease is not None:
            self._lease.release()
            self._lease = None
        self._watching = False
        self._explicit = False
