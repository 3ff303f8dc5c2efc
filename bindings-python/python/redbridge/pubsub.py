"""``r.pubsub()``: redis-py's ``PubSub`` on the core's subscriber.

The core owns the subscriptions (docs/architecture.md, "Pub/Sub"): a connection of their
own with the client's settings, resubscribed by itself after every reconnect, checked with
PING, and a bounded queue whose overflow is dropped and counted. This module gives it
redis-py's surface: ``subscribe``/``psubscribe``/``ssubscribe`` (keyword handlers too),
their ``un...`` forms, ``get_message()`` returning redis-py's dicts
(``{'type', 'pattern', 'channel', 'data'}``), ``listen()``, ``run_in_thread()``, a context
manager; the asyncio client's the same as coroutines, with ``run()``.

Gaps: redis-py has no word for "messages may be missing here" (after a reconnect, or
when the queue overflowed). By default a gap is not returned as a message, so code
written for redis-py sees only its own types; it is counted in ``p.gaps`` and in the
client's ``stats()`` (``pubsub_resubscribes``, ``pubsub_dropped``). Pass
``gap_handler=fn`` to have ``fn(gap)`` called, or ``gap_messages=True`` to get it from
``get_message()``/``listen()`` as ``{'type': 'gap', 'pattern': None, 'channel': None,
'data': {'cause': 'reconnected' | 'overflow', 'dropped': n}}``.

As in redis-py: ``subscribed`` stays true until the last unsubscribe confirmation is
read (``get_message()`` waits for a subscription first when nothing is subscribed);
``Subscription(name, handler)`` objects; ``ping()`` queues a ``pong`` message in order;
``push_handler_func`` gets every raw push unless the client asked for RESP2;
``p.connection.disconnect()`` drops the connection, which the core makes again with every
subscription (the confirmations come again); ``close()`` forgets everything and a later
subscribe starts anew. Where redis-py raises ConnectionError because the connection
died, the core reconnects instead and reports the gap.

``health_check_interval``: the core always checks the connection (by default every
connect timeout, answered within the response timeout); a value > 0 sets the interval.
``max_messages`` / ``max_bytes`` bound the queue (default 100,000 messages / 8 MiB).
"""

from __future__ import annotations

import asyncio
import inspect
import threading
import time
import warnings
from types import TracebackType
from typing import Any, AsyncIterator, Awaitable, Callable, Dict, Iterator, List, Optional, Set, Tuple, Type

from . import _redbridge
from .exceptions import PubSubError

__all__ = ["AsyncPubSub", "PubSub", "PubSubWorkerThread", "Subscription"]

Handler = Callable[[Dict[str, Any]], Any]
_CONFIRMATIONS = frozenset({"subscribe", "unsubscribe", "psubscribe", "punsubscribe", "ssubscribe", "sunsubscribe"})
_UNSUBSCRIBES = frozenset({"unsubscribe", "punsubscribe", "sunsubscribe"})
_SUBSCRIBES = frozenset({"subscribe", "psubscribe", "ssubscribe"})


class Subscription:
    """A channel or pattern with an optional handler: ``p.subscribe(Subscription("ch",
    handler))`` is ``p.subscribe(ch=handler)`` for names that are not identifiers
    (redis-py's ``redis.typing.Subscription``; any object with ``name`` and ``handler``
    attributes is taken the same way)."""

    __slots__ = ("name", "handler")

    def __init__(self, name: Any, handler: Optional[Handler] = None) -> None:
        self.name = name
        self.handler = handler

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Subscription) and (self.name, self.handler) == (other.name, other.handler)

    def __hash__(self) -> int:
        return hash((self.name, self.handler))

    def __repr__(self) -> str:
        return f"Subscription(handler={self.handler!r})"  # the name is the application's data


def _flatten(args: Tuple[Any, ...]) -> List[Any]:
    """Names given one by one or in lists, as redis-py takes them."""
    flat: List[Any] = []
    for a in args:
        flat.extend(a if isinstance(a, (list, tuple, set)) else [a])
    return flat


class _Subscriptions:
    """What both flavours share: the handlers by name, redis-py's ``subscribed`` state,
    and turning the core's event tuples into redis-py's message dicts (decoded when the
    client decodes).

    ``subscribed`` follows redis-py: true from the (p/s)subscribe call, false once the
    confirmation of the last unsubscribe has been read; a name stays in ``channels``
    (``patterns``, ``shard_channels``) until its unsubscribe confirmation is read."""

    def __init__(self, client: Any, ignore_subscribe_messages: bool, health_check_interval: float,
                 gap_handler: Optional[Handler], gap_messages: bool,
                 max_messages: Optional[int], max_bytes: Optional[int],
                 push_handler_func: Optional[Callable[[Any], Any]]) -> None:
        self.encoder = client.get_encoder()
        self.ignore_subscribe_messages = ignore_subscribe_messages
        self.health_check_interval = health_check_interval
        self.gap_handler = gap_handler
        self.gap_messages = gap_messages
        # redis-py 8 calls it with every push instead of returning messages, unless the
        # client asked for RESP2 (it speaks RESP3 by default).
        resp2 = str(getattr(client, "_protocol", None)).lower() in ("2", "resp2")
        self.push_handler_func = None if resp2 else push_handler_func
        self.channels: Dict[Any, Optional[Handler]] = {}
        self.patterns: Dict[Any, Optional[Handler]] = {}
        self.shard_channels: Dict[Any, Optional[Handler]] = {}
        self.pending_unsubscribe_channels: Set[Any] = set()
        self.pending_unsubscribe_patterns: Set[Any] = set()
        self.pending_unsubscribe_shard_channels: Set[Any] = set()
        # Set by a subscribe, cleared when the last unsubscribe confirmation is read.
        self.subscribed_event = threading.Event()
        self.gaps = 0
        self._client = client
        self._bounds = (max_messages, max_bytes)
        self._native: Any = self._open()
        self._closed = False

    def _open(self) -> Any:
        max_messages, max_bytes = self._bounds
        return _redbridge.NativePubSub(self._client._live(), max_messages, max_bytes, self.health_check_interval or None)

    def _native_for_use(self) -> Any:
        """The native subscriber for a subscribe: a new one after close() (redis-py's
        PubSub is usable again after reset())."""
        if self._closed:
            self._native = self._open()
            self._closed = False
        self._used = True
        return self._native

    @property
    def subscribed(self) -> bool:
        """Whether anything is subscribed, or an unsubscribe is not yet confirmed
        (redis-py's property)."""
        return self.subscribed_event.is_set()

    def _tables(self, kind: str) -> Tuple[Dict[Any, Optional[Handler]], Set[Any]]:
        """The handlers and pending unsubscribes of a (un)subscribe kind: psubscribe →
        patterns, ssubscribe → shard channels, subscribe → channels."""
        if kind in ("psubscribe", "punsubscribe"):
            return self.patterns, self.pending_unsubscribe_patterns
        if kind in ("ssubscribe", "sunsubscribe"):
            return self.shard_channels, self.pending_unsubscribe_shard_channels
        return self.channels, self.pending_unsubscribe_channels

    def _key(self, name: Any) -> Any:
        return self.encoder.decode(self.encoder.encode(name))

    def _plan(self, kind: str, args: Tuple[Any, ...], handlers: Dict[str, Handler]) -> List[bytes]:
        """Records ``args`` (names, lists of names, or ``Subscription`` objects) and
        keyword ``handlers`` under ``kind``; the names as bytes for the core."""
        table, pending = self._tables(kind)
        wanted: List[Tuple[Any, Optional[Handler]]] = []
        for a in _flatten(args):
            if not isinstance(a, (str, bytes, memoryview, int, float)) and hasattr(a, "name") and hasattr(a, "handler"):
                wanted.append((a.name, a.handler))
            else:
                wanted.append((a, None))
        wanted.extend(handlers.items())
        if not wanted:
            raise PubSubError(f"{kind} needs at least one channel or pattern")
        names: List[bytes] = []
        self._used = True
        for name, handler in wanted:
            encoded = self.encoder.encode(name)
            key = self.encoder.decode(encoded)
            table[key] = handler
            pending.discard(key)
            names.append(encoded)
        self.subscribed_event.set()
        return names

    def _forget(self, kind: str, args: Tuple[Any, ...]) -> List[bytes]:
        """Marks names (all of ``kind`` when none is given) as unsubscribing; they leave
        the table when their confirmation is read."""
        table, pending = self._tables(kind)
        flat = _flatten(args)
        if flat:
            names = [self.encoder.encode(n) for n in flat]
            pending.update(self.encoder.decode(n) for n in names)
        else:
            names = []
            pending.update(table)
        return names

    def _message(self, raw: Any, ignore_subscribe_messages: bool) -> Optional[Dict[str, Any]]:
        """redis-py's dict of one core event, or None when a handler took it or it is
        ignored."""
        message, handler = self._parse(raw, ignore_subscribe_messages)
        if handler is not None and message is not None:
            handler(message)
            return None
        return message  # type: ignore[no-any-return]

    def _parse(self, raw: Any, ignore_subscribe_messages: bool) -> Tuple[Any, Optional[Callable[[Any], Any]]]:
        """The message dict of a core event and the handler that should get it instead of
        the caller (None: return it); with a push handler, the raw push list and that
        handler. Does redis-py's bookkeeping of unsubscriptions."""
        if raw is None:
            return None, None
        kind, pattern, channel, data = raw
        decode = self.encoder.decode
        if kind == "gap":
            self.gaps += 1
            gap = {"type": "gap", "pattern": None, "channel": None, "data": {"cause": data[0], "dropped": data[1]}}
            if self.gap_handler is not None:
                return gap, self.gap_handler
            return (gap if self.gap_messages else None), None
        if kind == "pong":
            return {"type": "pong", "pattern": None, "channel": None, "data": decode(data)}, None
        if kind in _UNSUBSCRIBES and channel is not None:
            table, pending = self._tables(kind)
            key = decode(channel)
            if key in pending:
                pending.discard(key)
                table.pop(key, None)
        if kind in _UNSUBSCRIBES and not (self.channels or self.patterns or self.shard_channels):
            self.subscribed_event.clear()
        if self.push_handler_func is not None:
            push = [kind.encode(), channel, data] if pattern is None else [kind.encode(), pattern, channel, data]
            return push, self.push_handler_func
        message = {"type": kind, "pattern": None if pattern is None else decode(pattern),
                   "channel": None if channel is None else decode(channel),
                   "data": data if kind in _CONFIRMATIONS else decode(data)}
        if kind in _CONFIRMATIONS:
            if ignore_subscribe_messages or self.ignore_subscribe_messages:
                return None, None
            return message, None
        if kind == "pmessage":
            handler = self.patterns.get(message["pattern"])
        elif kind == "smessage":
            handler = self.shard_channels.get(message["channel"])
        else:
            handler = self.channels.get(message["channel"])
        return message, handler

    def _unseen_gap(self, raw: Any) -> bool:
        """Whether ``raw`` is a gap nobody asked to see (counted in ``gaps``): a read goes
        on past it, as redis-py has no such event."""
        if raw is not None and raw[0] == "gap" and self.gap_handler is None and not self.gap_messages:
            self.gaps += 1
            return True
        return False

    def _check_handlers(self) -> None:
        for table in (self.channels, self.patterns, self.shard_channels):
            for name, handler in table.items():
                if handler is None:
                    raise PubSubError(f"Channel: '{name}' has no handler registered")

    def _forget_all(self) -> None:
        """After close(): nothing subscribed, as redis-py's reset() leaves it."""
        for table in (self.channels, self.patterns, self.shard_channels,
                      self.pending_unsubscribe_channels, self.pending_unsubscribe_patterns,
                      self.pending_unsubscribe_shard_channels):
            table.clear()
        self.subscribed_event.clear()

    @property
    def connection(self) -> Any:
        """redis-py's ``p.connection``: None before the first subscribe and after close();
        its ``disconnect()`` drops the connection, which the core makes again and
        resubscribes (a gap follows), as redis-py reconnects on the next read."""
        if self._closed or not self._used:
            return None
        return self._connection_class(self._native)

    _used = False
    _connection_class: Any = None


class _Connection:
    """The subscriber's connection as redis-py's ``PubSub.connection`` shows it."""

    def __init__(self, native: Any) -> None:
        self._native = native

    def disconnect(self) -> None:
        """Drops the connection; the subscriber reconnects and resubscribes by itself."""
        self._native.reconnect()

    @property
    def is_connected(self) -> bool:
        """Whether the connection is up and subscribed now."""
        return bool(self._native.is_connected())


class _AsyncConnection(_Connection):
    """The asyncio flavour: ``await p.connection.disconnect()``."""

    async def disconnect(self) -> None:  # type: ignore[override]
        """Drops the connection; the subscriber reconnects and resubscribes by itself."""
        self._native.reconnect()


class PubSub(_Subscriptions):
    """redis-py's PubSub: ``p = r.pubsub(); p.subscribe("ch"); p.get_message()``.

    Safe to read from one thread while another subscribes. Waiting releases the GIL;
    Ctrl-C interrupts it.
    """

    _connection_class = _Connection

    def __init__(self, client: Any, ignore_subscribe_messages: bool = False, health_check_interval: float = 0,
                 gap_handler: Optional[Handler] = None, gap_messages: bool = False,
                 max_messages: Optional[int] = None, max_bytes: Optional[int] = None,
                 push_handler_func: Optional[Callable[[Any], Any]] = None) -> None:
        super().__init__(client, ignore_subscribe_messages, health_check_interval, gap_handler, gap_messages,
                         max_messages, max_bytes, push_handler_func)

    def __enter__(self) -> "PubSub":
        return self

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException], tb: Optional[TracebackType]) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def subscribe(self, *args: Any, **kwargs: Handler) -> None:
        """SUBSCRIBE to channels; ``channel=handler`` keywords (or ``Subscription(name,
        handler)`` arguments) call ``handler(message)`` for that channel's messages
        instead of returning them."""
        self._native_for_use().subscribe("subscribe", self._plan("subscribe", args, kwargs))

    def psubscribe(self, *args: Any, **kwargs: Handler) -> None:
        """PSUBSCRIBE to glob patterns (handlers as for ``subscribe``)."""
        self._native_for_use().subscribe("psubscribe", self._plan("psubscribe", args, kwargs))

    def ssubscribe(self, *args: Any, **kwargs: Handler) -> None:
        """SSUBSCRIBE to shard channels (handlers as for ``subscribe``)."""
        self._native_for_use().subscribe("ssubscribe", self._plan("ssubscribe", args, kwargs))

    def unsubscribe(self, *args: Any) -> None:
        """UNSUBSCRIBE from channels, or from all of them when none is named."""
        self._native.unsubscribe("unsubscribe", self._forget("unsubscribe", args))

    def punsubscribe(self, *args: Any) -> None:
        """PUNSUBSCRIBE from patterns, or from all of them."""
        self._native.unsubscribe("punsubscribe", self._forget("punsubscribe", args))

    def sunsubscribe(self, *args: Any) -> None:
        """SUNSUBSCRIBE from shard channels, or from all of them."""
        self._native.unsubscribe("sunsubscribe", self._forget("sunsubscribe", args))

    def get_message(self, ignore_subscribe_messages: bool = False, timeout: Optional[float] = 0.0) -> Optional[Dict[str, Any]]:
        """The next message as redis-py's dict, waiting up to ``timeout`` seconds (None:
        as long as it takes); None when nothing came, or it went to a handler. While
        nothing is subscribed it waits (up to ``timeout``) for a subscription first, as
        redis-py does."""
        if self._closed:
            return None
        if not self.subscribed:
            start = time.monotonic()
            if not self.subscribed_event.wait(timeout):
                return None
            if timeout is not None:
                timeout = max(0.0, timeout - (time.monotonic() - start))
        deadline = None if timeout is None else time.monotonic() + timeout
        raw = self._native.next(timeout)
        while self._unseen_gap(raw):
            raw = self._native.next(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return self._message(raw, ignore_subscribe_messages)

    get_sharded_message = get_message

    def listen(self) -> Iterator[Dict[str, Any]]:
        """Messages as they come, while anything is subscribed."""
        while self.subscribed and not self._closed:
            try:
                raw = self._native.next(None)
            except Exception:
                if self._closed:
                    return
                raise
            message = self._message(raw, False)
            if message is not None:
                yield message

    def run_in_thread(self, sleep_time: float = 0.0, daemon: bool = False,
                      exception_handler: Optional[Callable[[BaseException, "PubSub", "PubSubWorkerThread"], None]] = None) -> "PubSubWorkerThread":
        """Calls the handlers from a thread of its own until ``stop()``; every
        subscription needs a handler."""
        self._check_handlers()
        worker = PubSubWorkerThread(self, sleep_time, daemon=daemon, exception_handler=exception_handler)
        worker.start()
        return worker

    def ping(self, message: Any = None) -> None:
        """PING on the subscriber's connection: a ``{'type': 'pong', 'data': message}``
        message follows the ones received before it. ConnectionError when nothing is
        subscribed (there is no connection then) or no answer came in time."""
        self._native.ping(None if message is None else self.encoder.encode(message))

    def close(self) -> None:
        """Closes the connection and forgets every subscription; a later subscribe opens
        a new one (redis-py's reset). Idempotent."""
        if not self._closed:
            self._closed = True
            self._native.close()
        self._forget_all()

    reset = close


class PubSubWorkerThread(threading.Thread):
    """redis-py's worker: reads messages for their handlers until ``stop()``."""

    def __init__(self, pubsub: PubSub, sleep_time: float, daemon: bool = False,
                 exception_handler: Optional[Callable[[BaseException, PubSub, "PubSubWorkerThread"], None]] = None) -> None:
        super().__init__(daemon=daemon)
        self.pubsub = pubsub
        self.sleep_time = sleep_time
        self.exception_handler = exception_handler
        self._running = threading.Event()

    def run(self) -> None:
        if self._running.is_set():
            return
        self._running.set()
        # A bounded wait, so stop() is seen within it even when no message comes.
        wait = min(self.sleep_time, 0.1) if self.sleep_time > 0 else 0.1
        while self._running.is_set():
            try:
                self.pubsub.get_message(ignore_subscribe_messages=True, timeout=wait)
            except BaseException as e:  # a handler's error does not stop delivery
                if self.exception_handler is None:
                    raise
                self.exception_handler(e, self.pubsub, self)
        self.pubsub.close()

    def stop(self) -> None:
        """Stops reading (within 0.1 s) and closes the subscriber."""
        self._running.clear()


def _retrieved(wait: "asyncio.Future[Any]") -> None:
    """Marks the outcome of a kept native wait as seen: nobody may read it (closed)."""
    if not wait.cancelled():
        wait.exception()


class AsyncPubSub(_Subscriptions):
    """redis-py's asyncio PubSub: ``await p.subscribe("ch"); await p.get_message()``."""

    _connection_class = _AsyncConnection

    def __init__(self, client: Any, run: Callable[..., Awaitable[Any]], ignore_subscribe_messages: bool = False,
                 health_check_interval: float = 0, gap_handler: Optional[Handler] = None, gap_messages: bool = False,
                 max_messages: Optional[int] = None, max_bytes: Optional[int] = None,
                 push_handler_func: Optional[Callable[[Any], Any]] = None) -> None:
        super().__init__(client, ignore_subscribe_messages, health_check_interval, gap_handler, gap_messages,
                         max_messages, max_bytes, push_handler_func)
        # ``run(start, *args)`` awaits a native call that settles an asyncio future.
        self._run = run
        # The native wait for the next event, kept when a caller stops waiting for it
        # (timeout, cancellation): the core may have taken the event off its queue
        # already, so the next read takes it from here, in order.
        self._pending: "Optional[asyncio.Future[Any]]" = None

    async def __aenter__(self) -> "AsyncPubSub":
        return self

    async def __aexit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException], tb: Optional[TracebackType]) -> None:
        await self.aclose()

    def __del__(self) -> None:
        try:
            self._close_now()
        except Exception:
            pass

    async def connect(self) -> None:
        """Makes the subscriber ready for reading before anything is subscribed (redis-py's
        ``connect()``; the connection itself opens with the first subscription)."""
        self._native_for_use()

    async def _change(self, kind: str, names: List[bytes]) -> None:
        native = self._native_for_use() if kind in _SUBSCRIBES else self._native
        await self._run(native.change_async, kind, names)

    async def subscribe(self, *args: Any, **kwargs: Handler) -> None:
        """SUBSCRIBE (handlers as in the sync PubSub; they may be coroutine functions)."""
        await self._change("subscribe", self._plan("subscribe", args, kwargs))

    async def psubscribe(self, *args: Any, **kwargs: Handler) -> None:
        """PSUBSCRIBE to glob patterns."""
        await self._change("psubscribe", self._plan("psubscribe", args, kwargs))

    async def ssubscribe(self, *args: Any, **kwargs: Handler) -> None:
        """SSUBSCRIBE to shard channels."""
        await self._change("ssubscribe", self._plan("ssubscribe", args, kwargs))

    async def unsubscribe(self, *args: Any) -> None:
        """UNSUBSCRIBE from channels, or from all of them."""
        await self._change("unsubscribe", self._forget("unsubscribe", args))

    async def punsubscribe(self, *args: Any) -> None:
        """PUNSUBSCRIBE from patterns, or from all of them."""
        await self._change("punsubscribe", self._forget("punsubscribe", args))

    async def sunsubscribe(self, *args: Any) -> None:
        """SUNSUBSCRIBE from shard channels, or from all of them."""
        await self._change("sunsubscribe", self._forget("sunsubscribe", args))

    async def _next(self, timeout: Optional[float]) -> Any:
        """The next event tuple, or None once ``timeout`` seconds passed (None: no limit).
        A caller that stops waiting (timeout, cancellation) leaves the native wait
        running in ``_pending``: an event it took off the core's queue is the next one
        read, never lost or overtaken."""
        deadline = None if timeout is None else time.monotonic() + timeout
        kept = self._pending
        if kept is not None and (kept.cancelled() or kept.get_loop() is not asyncio.get_running_loop()):
            self._pending = None  # cancelled with its loop (asyncio.run's end): it took nothing
        while True:
            wait = self._pending
            if wait is None:
                raw = self._native.try_next()
                if raw is not None or timeout == 0:
                    return raw
                wait = self._pending = asyncio.ensure_future(self._run(self._native.next_async))
                wait.add_done_callback(_retrieved)
            try:
                if deadline is None:
                    await asyncio.shield(wait)
                else:
                    await asyncio.wait_for(asyncio.shield(wait), max(0.0, deadline - time.monotonic()))
            except asyncio.TimeoutError:
                return None
            if self._pending is wait:
                self._pending = None
                return wait.result()
            # Another reader took this event: wait for the next one.

    async def _deliver(self, raw: Any, ignore_subscribe_messages: bool) -> Optional[Dict[str, Any]]:
        """``_message`` with coroutine handlers awaited."""
        message, handler = self._parse(raw, ignore_subscribe_messages)
        if handler is not None and message is not None:
            result = handler(message)
            if inspect.isawaitable(result):
                await result
            return None
        return message  # type: ignore[no-any-return]

    async def get_message(self, ignore_subscribe_messages: bool = False, timeout: Optional[float] = 0.0) -> Optional[Dict[str, Any]]:
        """The next message as redis-py's dict, waiting up to ``timeout`` seconds (None:
        as long as it takes). RuntimeError before the first subscribe (and after
        aclose()), as redis-py's asyncio PubSub has no connection then."""
        if self.connection is None:
            raise RuntimeError("pubsub connection not set: did you forget to call subscribe() or psubscribe()?")
        deadline = None if timeout is None else time.monotonic() + timeout
        raw = await self._next(timeout)
        while self._unseen_gap(raw):
            raw = await self._next(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return await self._deliver(raw, ignore_subscribe_messages)

    get_sharded_message = get_message

    async def listen(self) -> AsyncIterator[Dict[str, Any]]:
        """``async for message in p.listen()``: while anything is subscribed."""
        while self.subscribed and not self._closed:
            message = await self._deliver(await self._next(None), False)
            if message is not None:
                yield message

    async def run(self, *, exception_handler: Optional[Callable[..., Any]] = None, poll_timeout: float = 1.0) -> None:
        """Calls the handlers until cancelled (redis-py's ``run``); every subscription
        needs a handler. A handler's error goes to ``exception_handler`` if given."""
        self._check_handlers()
        while not self._closed:
            try:
                await self.get_message(ignore_subscribe_messages=True, timeout=poll_timeout)
            except asyncio.CancelledError:
                raise
            except BaseException as e:
                if exception_handler is None:
                    raise
                result = exception_handler(e, self)
                if inspect.isawaitable(result):
                    await result
            # Other tasks get a turn even when messages keep coming without a wait.
            await asyncio.sleep(0)

    async def ping(self, message: Any = None) -> None:
        """PING on the subscriber's connection; a pong message follows (as the sync
        PubSub's ping)."""
        await self._run(self._native.ping_async, None if message is None else self.encoder.encode(message))

    def _close_now(self) -> None:
        if not self._closed:
            self._closed = True
            self._native.close()
        # A reader still in the native wait gets its closed error; a later subscribe reads
        # from the new subscriber.
        self._pending = None
        self._forget_all()

    async def aclose(self) -> None:
        """Closes the connection and forgets every subscription; a later subscribe opens
        a new one. Idempotent."""
        self._close_now()

    async def close(self) -> None:
        """Deprecated alias of aclose() (as in redis-py)."""
        warnings.warn(DeprecationWarning("Use aclose() instead"), stacklevel=2)
        await self.aclose()

    async def reset(self) -> None:
        """Deprecated alias of aclose() (as in redis-py)."""
        warnings.warn(DeprecationWarning("Use aclose() instead"), stacklevel=2)
        await self.aclose()
