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

``health_check_interval``: the core always checks the connection (by default every
connect timeout, answered within the response timeout); a value > 0 sets the interval.
``max_messages`` / ``max_bytes`` bound the queue (default 100,000 messages / 8 MiB).
"""

from __future__ import annotations

import asyncio
import threading
import time
from types import TracebackType
from typing import Any, AsyncIterator, Awaitable, Callable, Dict, Iterator, List, Optional, Tuple, Type

from . import _redbridge
from .exceptions import PubSubError

__all__ = ["AsyncPubSub", "PubSub", "PubSubWorkerThread"]

Handler = Callable[[Dict[str, Any]], Any]
_CONFIRMATIONS = frozenset({"subscribe", "unsubscribe", "psubscribe", "punsubscribe", "ssubscribe", "sunsubscribe"})


class _Subscriptions:
    """What both flavours share: the handlers by name, and turning the core's event
    tuples into redis-py's message dicts (decoded when the client decodes)."""

    def __init__(self, client: Any, ignore_subscribe_messages: bool, health_check_interval: float,
                 gap_handler: Optional[Handler], gap_messages: bool,
                 max_messages: Optional[int], max_bytes: Optional[int]) -> None:
        self.encoder = client.get_encoder()
        self.ignore_subscribe_messages = ignore_subscribe_messages
        self.health_check_interval = health_check_interval
        self.gap_handler = gap_handler
        self.gap_messages = gap_messages
        self.channels: Dict[Any, Optional[Handler]] = {}
        self.patterns: Dict[Any, Optional[Handler]] = {}
        self.shard_channels: Dict[Any, Optional[Handler]] = {}
        self.gaps = 0
        self._native: Any = _redbridge.NativePubSub(
            client._live(), max_messages, max_bytes, health_check_interval or None)
        self._closed = False

    @property
    def subscribed(self) -> bool:
        """Whether anything is subscribed (redis-py's property)."""
        return bool(self.channels or self.patterns or self.shard_channels)

    def _table(self, kind: str) -> Dict[Any, Optional[Handler]]:
        """The handlers of a (un)subscribe kind: psubscribe → patterns, ssubscribe →
        shard channels, subscribe → channels."""
        if kind in ("psubscribe", "punsubscribe"):
            return self.patterns
        if kind in ("ssubscribe", "sunsubscribe"):
            return self.shard_channels
        return self.channels

    def _plan(self, kind: str, args: Tuple[Any, ...], handlers: Dict[str, Handler]) -> List[bytes]:
        """Records ``args`` (names, or lists of names) and ``handlers`` under ``kind``; the
        names as bytes for the core."""
        table = self._table(kind)
        names: List[bytes] = []
        flat: List[Any] = []
        for a in args:
            flat.extend(a if isinstance(a, (list, tuple, set)) else [a])
        for name in flat:
            table[self.encoder.decode(self.encoder.encode(name))] = None
            names.append(self.encoder.encode(name))
        for name, handler in handlers.items():
            table[self.encoder.decode(self.encoder.encode(name))] = handler
            names.append(self.encoder.encode(name))
        if not names:
            raise PubSubError(f"{kind} needs at least one channel or pattern")
        return names

    def _forget(self, kind: str, args: Tuple[Any, ...]) -> List[bytes]:
        table = self._table(kind)
        flat: List[Any] = []
        for a in args:
            flat.extend(a if isinstance(a, (list, tuple, set)) else [a])
        if not flat:
            table.clear()
        names = [self.encoder.encode(n) for n in flat]
        for n in names:
            table.pop(self.encoder.decode(n), None)
        return names

    def _message(self, raw: Any, ignore_subscribe_messages: bool) -> Optional[Dict[str, Any]]:
        """redis-py's dict of one core event, or None when it is handled or ignored."""
        if raw is None:
            return None
        kind, pattern, channel, data = raw
        decode = self.encoder.decode
        if kind == "gap":
            self.gaps += 1
            gap = {"type": "gap", "pattern": None, "channel": None, "data": {"cause": data[0], "dropped": data[1]}}
            if self.gap_handler is not None:
                self.gap_handler(gap)
                return None
            return gap if self.gap_messages else None
        message = {"type": kind, "pattern": None if pattern is None else decode(pattern),
                   "channel": None if channel is None else decode(channel),
                   "data": data if kind in _CONFIRMATIONS else decode(data)}
        if kind in _CONFIRMATIONS:
            if ignore_subscribe_messages or self.ignore_subscribe_messages:
                return None
            return message
        if kind == "pmessage":
            handler = self.patterns.get(message["pattern"])
        elif kind == "smessage":
            handler = self.shard_channels.get(message["channel"])
        else:
            handler = self.channels.get(message["channel"])
        if handler is not None:
            handler(message)
            return None
        return message

    def _check_handlers(self) -> None:
        for table in (self.channels, self.patterns, self.shard_channels):
            for name, handler in table.items():
                if handler is None:
                    raise PubSubError(f"Channel: '{name}' has no handler registered")


class PubSub(_Subscriptions):
    """redis-py's PubSub: ``p = r.pubsub(); p.subscribe("ch"); p.get_message()``.

    Safe to read from one thread while another subscribes. Waiting releases the GIL;
    Ctrl-C interrupts it.
    """

    def __init__(self, client: Any, ignore_subscribe_messages: bool = False, health_check_interval: float = 0,
                 gap_handler: Optional[Handler] = None, gap_messages: bool = False,
                 max_messages: Optional[int] = None, max_bytes: Optional[int] = None) -> None:
        super().__init__(client, ignore_subscribe_messages, health_check_interval, gap_handler, gap_messages,
                         max_messages, max_bytes)

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
        """SUBSCRIBE to channels; ``channel=handler`` keywords call ``handler(message)``
        for that channel's messages instead of returning them."""
        self._native.subscribe("subscribe", self._plan("subscribe", args, kwargs))

    def psubscribe(self, *args: Any, **kwargs: Handler) -> None:
        """PSUBSCRIBE to glob patterns (keyword handlers as for ``subscribe``)."""
        self._native.subscribe("psubscribe", self._plan("psubscribe", args, kwargs))

    def ssubscribe(self, *args: Any, **kwargs: Handler) -> None:
        """SSUBSCRIBE to shard channels (keyword handlers as for ``subscribe``)."""
        self._native.subscribe("ssubscribe", self._plan("ssubscribe", args, kwargs))

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
        as long as it takes); None when nothing came, or it went to a handler."""
        if self._closed:
            return None
        return self._message(self._native.next(timeout), ignore_subscribe_messages)

    get_sharded_message = get_message

    def listen(self) -> Iterator[Dict[str, Any]]:
        """Messages as they come, while anything is subscribed (then what is left)."""
        while not self._closed:
            raw = self._native.next(None if self.subscribed else 0.0)
            if raw is None:
                return
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
        """Checks the connection now (the core also does it every health check interval)."""
        if not self._native.is_connected():
            raise PubSubError("the subscriber is not connected (it reconnects by itself)")

    def close(self) -> None:
        """Closes the connection; the subscriptions end. Idempotent."""
        if not self._closed:
            self._closed = True
            self._native.close()

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


class AsyncPubSub(_Subscriptions):
    """redis-py's asyncio PubSub: ``await p.subscribe("ch"); await p.get_message()``."""

    def __init__(self, client: Any, run: Callable[..., Awaitable[Any]], ignore_subscribe_messages: bool = False,
                 health_check_interval: float = 0, gap_handler: Optional[Handler] = None, gap_messages: bool = False,
                 max_messages: Optional[int] = None, max_bytes: Optional[int] = None) -> None:
        super().__init__(client, ignore_subscribe_messages, health_check_interval, gap_handler, gap_messages,
                         max_messages, max_bytes)
        # ``run(start, *args)`` awaits a native call that settles an asyncio future.
        self._run = run

    async def __aenter__(self) -> "AsyncPubSub":
        return self

    async def __aexit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException], tb: Optional[TracebackType]) -> None:
        await self.aclose()

    async def subscribe(self, *args: Any, **kwargs: Handler) -> None:
        """SUBSCRIBE (keyword handlers as in the sync PubSub)."""
        await self._run(self._native.change_async, "subscribe", self._plan("subscribe", args, kwargs))

    async def psubscribe(self, *args: Any, **kwargs: Handler) -> None:
        """PSUBSCRIBE to glob patterns."""
        await self._run(self._native.change_async, "psubscribe", self._plan("psubscribe", args, kwargs))

    async def ssubscribe(self, *args: Any, **kwargs: Handler) -> None:
        """SSUBSCRIBE to shard channels."""
        await self._run(self._native.change_async, "ssubscribe", self._plan("ssubscribe", args, kwargs))

    async def unsubscribe(self, *args: Any) -> None:
        """UNSUBSCRIBE from channels, or from all of them."""
        await self._run(self._native.change_async, "unsubscribe", self._forget("unsubscribe", args))

    async def punsubscribe(self, *args: Any) -> None:
        """PUNSUBSCRIBE from patterns, or from all of them."""
        await self._run(self._native.change_async, "punsubscribe", self._forget("punsubscribe", args))

    async def sunsubscribe(self, *args: Any) -> None:
        """SUNSUBSCRIBE from shard channels, or from all of them."""
        await self._run(self._native.change_async, "sunsubscribe", self._forget("sunsubscribe", args))

    async def _next(self, timeout: Optional[float]) -> Any:
        raw = self._native.try_next()
        if raw is not None or timeout == 0:
            return raw
        wait = self._run(self._native.next_async)
        try:
            return await (wait if timeout is None else asyncio.wait_for(wait, timeout))
        except asyncio.TimeoutError:
            return None  # the cancelled wait lost no message

    async def get_message(self, ignore_subscribe_messages: bool = False, timeout: Optional[float] = 0.0) -> Optional[Dict[str, Any]]:
        """The next message as redis-py's dict, waiting up to ``timeout`` seconds."""
        if self._closed:
            return None
        return self._message(await self._next(timeout), ignore_subscribe_messages)

    get_sharded_message = get_message

    async def listen(self) -> AsyncIterator[Dict[str, Any]]:
        """``async for message in p.listen()``: while anything is subscribed."""
        while not self._closed:
            raw = await self._next(None if self.subscribed else 0.0)
            if raw is None:
                return
            message = self._message(raw, False)
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
                if asyncio.iscoroutine(result):
                    await result

    async def ping(self, message: Any = None) -> None:
        """Checks that the subscriber is connected (the core checks it with PING)."""
        if not self._native.is_connected():
            raise PubSubError("the subscriber is not connected (it reconnects by itself)")

    async def aclose(self) -> None:
        """Closes the connection. Idempotent."""
        self.close()

    def close(self) -> None:
        """Closes the connection. Idempotent."""
        if not self._closed:
            self._closed = True
            self._native.close()

    reset = aclose
