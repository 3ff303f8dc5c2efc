"""The asyncio client. Same methods as the sync client (one shared command mixin); each
returns an awaitable. Requests run on the core's runtime and never block the event
loop; a cancelled task drops its request, whose reply never reaches another caller.
"""

from __future__ import annotations

import asyncio
import inspect
import os
from types import TracebackType
from typing import Any, AsyncIterator, Callable, List, Optional, Tuple, Type, Union

from .._base import EMPTY_RESPONSE, NEVER_DECODE, ClientBase, PipelineBase, command_name, scan_kwargs, shape
from ..exceptions import DataError, ExecAbortError, ResponseError, WatchError
from ..monitor import AsyncMonitor
from ..pubsub import AsyncPubSub
from ..script import AsyncScript
from .lock import Lock
from .._commands import KeyT

__all__ = ["Pipeline", "Redis", "StrictRedis"]


def _settle(fut: "asyncio.Future[Any]", ok: bool, value: Any) -> None:
    """Runs on the loop's thread: completes the future unless the caller gave up."""
    if fut.done():
        return
    if ok:
        fut.set_result(value)
    else:
        fut.set_exception(value)


async def _await(start: Callable[..., Any], *args: Any) -> Any:
    loop = asyncio.get_running_loop()
    fut = loop.create_future()
    pending = start(*args, loop, fut, _settle)
    try:
        return await fut
    except asyncio.CancelledError:
        pending.cancel()
        raise


class _LoopBatch:
    """The batched crossing of one client on one event loop (docs/architecture.md, "Engines").

    ``submit`` hands the command to the core. Where the core allows it (a standalone
    server over plain TCP or a Unix socket, no client-side cache) the loop carries lone
    requests itself on a connection of its own: the turn's requests are written together
    at its end (``_flush``), the loop reads the replies when the socket is readable
    (``_readable``), and one timer watches the oldest request's deadline. What cannot go
    there (blocking commands, scans, scripts, a connection still opening) takes the
    core's runtime, which makes an eventfd readable when replies are in; one ``_drain``
    call on the loop settles all of them. No thread but the loop's touches Python
    objects, so the loop never waits for the GIL to get replies.
    """

    def __init__(self, native: Any) -> None:
        self._native = native
        self._waiting: "dict[int, asyncio.Future[Any]]" = {}
        self._tag = 0
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._fd = -1
        self._pid = 0
        self._reset_loop_io()

    def _reset_loop_io(self) -> None:
        self._sock = -1  # the loop connection's socket, watched with add_reader
        self._flush_armed = False
        self._timer: Optional[asyncio.TimerHandle] = None
        self._timer_seq: Optional[int] = None

    def owns(self, loop: asyncio.AbstractEventLoop) -> bool:
        """True when this loop can use the batch (attaching it if no live loop has)."""
        if loop is self._loop and self._pid == os.getpid():
            return True
        if self._loop is not None and not self._loop.is_closed() and self._pid == os.getpid():
            return False  # another live loop owns it; this one takes the per-request path
        self._fd = self._native.batch_fd()
        self._pid = os.getpid()
        self._waiting.clear()
        self._reset_loop_io()
        loop.add_reader(self._fd, self._drain)
        self._loop = loop
        return True

    def submit(self, args: Tuple[Any, ...]) -> "Union[asyncio.Future[Any], Tuple[Any]]":
        """The reply's future; or ``(reply,)`` when the core answered at once (a hit of the
        client-side cache, on the loop's thread with no I/O)."""
        assert self._loop is not None
        self._tag += 1
        hit = self._native.submit(args, self._tag)
        if hit is not None:
            return hit
        fut = self._loop.create_future()
        self._waiting[self._tag] = fut
        if not self._flush_armed:
            self._sync()
        return fut

    def submit_pipeline(self, cmds: List[Tuple[Any, ...]], atomic: bool) -> "asyncio.Future[Any]":
        return self._enqueue(self._native.submit_pipeline, cmds, atomic)

    def submit_scan(self, stream: Any) -> "asyncio.Future[Any]":
        return self._enqueue(self._native.submit_scan, stream)

    def _enqueue(self, send: Callable[..., None], *args: Any) -> "asyncio.Future[Any]":
        assert self._loop is not None
        fut = self._loop.create_future()
        self._tag += 1
        send(*args, self._tag)
        self._waiting[self._tag] = fut
        if not self._flush_armed:
            self._sync()
        return fut

    def _sync(self) -> None:
        """Brings the reader, the end-of-turn flush and the timer in step with what the
        core says the loop must watch, after any call into it."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        sock, seq, left, flush = self._native.loop_watch()
        if flush and not self._flush_armed:
            self._flush_armed = True
            loop.call_soon(self._flush)
        if sock != self._sock:
            if self._sock >= 0:
                loop.remove_reader(self._sock)
            self._native.loop_release()  # retired sockets are no longer watched
            self._sock = sock
            if sock >= 0:
                loop.add_reader(sock, self._readable)
        if seq != self._timer_seq:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._timer_seq = seq
            if seq is not None and left is not None:
                self._timer = loop.call_later(left, self._timeout, seq)

    def _flush(self) -> None:
        self._flush_armed = False
        self._settle(self._native.loop_flush())
        self._sync()

    def _readable(self) -> None:
        self._settle(self._native.loop_readable())
        self._sync()

    def _timeout(self, seq: int) -> None:
        self._timer = None
        self._timer_seq = None  # armed again by _sync for whatever is the oldest now
        self._settle(self._native.loop_timeout(seq))
        self._sync()

    def _drain(self) -> None:
        self._settle(self._native.drain())
        # A wake-up also comes when the loop's connection opened for the requests that
        # waited for it: they are to be flushed now.
        self._sync()

    def _settle(self, done: List[Any]) -> None:
        waiting = self._waiting
        for i in range(0, len(done), 3):
            fut = waiting.pop(done[i], None)
            if fut is None or fut.done():
                continue  # the caller was cancelled: its reply is dropped here
            if done[i + 1]:
                fut.set_result(done[i + 2])
            else:
                fut.set_exception(done[i + 2])

    def close(self) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed() and self._pid == os.getpid():
            loop.remove_reader(self._fd)
            if self._sock >= 0:
                loop.remove_reader(self._sock)
            if self._timer is not None:
                self._timer.cancel()
            self._settle(self._native.loop_close())
        self._reset_loop_io()
        self._loop = None


class Redis(ClientBase):
    """asyncio Redis client with redis-py's constructor and methods (see redbridge.Redis)."""

    _batch: Optional[_LoopBatch] = None
    _lock_class = Lock
    _script_class = AsyncScript

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        """Sends any command; the reply is shaped as redis-py shapes it."""
        try:
            if options and NEVER_DECODE in options:
                reply = await _await(self._native.execute_bytes_async, args)
            else:
                batch = self._batched()
                if batch is not None:
                    sent = batch.submit(args)
                    reply = sent[0] if type(sent) is tuple else await sent
                else:
                    reply = await _await(self._native.execute_async, args)
        except ResponseError:
            if options and EMPTY_RESPONSE in options:
                return options[EMPTY_RESPONSE]
            raise
        except DataError:
            # Connection state the client applies to all its connections (see redbridge.Redis).
            name = command_name(args)
            if name == "SELECT" and len(args) == 2:
                return await self.select(args[1])
            if name == "CLIENT SETNAME" and len(args) == 2:
                return await self.client_setname(args[1])
            raise
        return shape(args, reply, options, self._callbacks)

    async def transaction(self, func: Callable[["Pipeline"], Any], *watches: KeyT, shard_hint: Optional[str] = None,
                          value_from_callable: bool = False, watch_delay: Optional[float] = None) -> Any:
        """Runs ``func(pipe)`` (a coroutine function, or a plain one) with WATCH on
        ``watches`` until EXEC succeeds (redis-py's helper)."""
        async with self.pipeline(True) as pipe:
            while True:
                try:
                    if watches:
                        await pipe.watch(*watches)
                    value = func(pipe)
                    if inspect.isawaitable(value):
                        value = await value
                    result = await pipe.execute()
                    return value if value_from_callable else result
                except WatchError:
                    if watch_delay is not None and watch_delay > 0:
                        await asyncio.sleep(watch_delay)

    # As redis-py's asyncio client: no dict-style access (it would have to block).
    def __getitem__(self, name: KeyT) -> Any:
        raise TypeError("Async Redis client does not support class retrieval")

    def __setitem__(self, name: KeyT, value: Any) -> None:
        raise TypeError("Async Redis client does not support class assignment")

    def __delitem__(self, name: KeyT) -> None:
        raise TypeError("Async Redis client does not support class deletion")

    def __contains__(self, name: KeyT) -> bool:
        raise TypeError("Async Redis client does not support class inclusion")

    def _batched(self) -> Optional[_LoopBatch]:
        """The batched crossing when the running loop may use it, else None."""
        batch = self._batch
        if batch is None:
            batch = self._batch = _LoopBatch(self._live())
        return batch if batch.owns(asyncio.get_running_loop()) else None

    def pipeline(self, transaction: bool = True, shard_hint: Optional[str] = None) -> "Pipeline":
        return Pipeline(self, transaction)

    def monitor(self) -> AsyncMonitor:
        """redis-py's monitor(): every command the server runs, read on a connection of
        its own (``async with r.monitor() as m: await m.next_command()``)."""
        return AsyncMonitor(self, _await)

    def pubsub(self, **kwargs: Any) -> AsyncPubSub:
        """redis-py's pubsub(), its methods coroutines (``await p.subscribe("ch")``)."""
        return AsyncPubSub(self, _await, **kwargs)

    async def _iter(self, kind: str, name: Optional[KeyT], match: Optional[KeyT], count: Optional[int], _type: Optional[str] = None) -> AsyncIterator[Any]:
        stream = self._native.scan_async(**scan_kwargs(kind, name, match, count, _type))
        while True:
            batch = self._batched()
            if batch is not None:
                page = await batch.submit_scan(stream)
            else:
                page = await _await(stream.next_batch_async)
            if page is None:
                return
            for item in page:
                yield item

    def scan_iter(self, match: Optional[KeyT] = None, count: Optional[int] = None, _type: Optional[str] = None, **kwargs: Any) -> AsyncIterator[Any]:
        """``async for key in r.scan_iter(...)``: pages fetched as you iterate."""
        return self._iter("keys", None, match, count, _type)

    def sscan_iter(self, name: KeyT, match: Optional[KeyT] = None, count: Optional[int] = None) -> AsyncIterator[Any]:
        return self._iter("set", name, match, count)

    async def hscan_iter(self, name: KeyT, match: Optional[KeyT] = None, count: Optional[int] = None, no_values: Optional[bool] = None) -> AsyncIterator[Any]:
        async for field, value in self._iter("hash", name, match, count):
            yield field if no_values else (field, value)

    async def zscan_iter(self, name: KeyT, match: Optional[KeyT] = None, count: Optional[int] = None, score_cast_func: Callable[[Any], Any] = float) -> AsyncIterator[Tuple[Any, Any]]:
        async for member, score in self._iter("zset", name, match, count):
            yield member, score_cast_func(score)

    async def aclose(self) -> None:
        """Closes every connection; the next command connects again (as redis-py's)."""
        if self._batch is not None:
            self._batch.close()
            self._batch = None
        self._native.close()
        self._reopen_later()

    async def close(self) -> None:
        await self.aclose()

    # Connection state, as in redbridge.Redis: the client reconnects with the setting.
    async def select(self, index: int, **kwargs: Any) -> bool:
        """Switches every connection of this client to database ``index`` (it reconnects)."""
        self._with_options(db=int(index))
        await self.aclose()
        return True

    async def client_setname(self, name: str) -> bool:
        """Names every connection of this client ``name`` (it reconnects)."""
        self._with_options(client_name=name)
        await self.aclose()
        await self.ping()  # connect now, so that the name is seen at once (CLIENT LIST)
        return True

    async def auth(self, password: str, username: Optional[str] = None, **kwargs: Any) -> bool:
        """Logs every connection of this client in as ``username`` (default user when
        None) with ``password``: it reconnects with these credentials. A refusal raises
        AuthenticationError and keeps the credentials it had."""
        url, before = self._make
        self._with_options(password=password, username=username)
        await self.aclose()
        try:
            await self.ping()
        except Exception:
            self._make = (url, before)
            await self.aclose()
            raise
        return True

    async def quit(self, **kwargs: Any) -> bool:
        """QUIT: closes the connections (the next command connects again)."""
        await self.aclose()
        return True

    async def reset(self) -> Any:
        """RESET: every connection back to its initial state (it reconnects)."""
        await self.aclose()
        return shape(("RESET",), "RESET" if self._decode else b"RESET", {}, self._callbacks)

    async def __aenter__(self) -> "Redis":
        return self

    async def __aexit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException], tb: Optional[TracebackType]) -> None:
        await self.aclose()


StrictRedis = Redis


class Pipeline(PipelineBase):
    """asyncio pipeline: chain commands, ``await pipe.execute()``.

    After ``await pipe.watch(...)`` the pipeline holds a dedicated connection and each
    command is awaited at once (to read the watched keys); ``pipe.multi()`` starts
    buffering again; ``await pipe.execute()`` sends MULTI … EXEC and raises WatchError
    when a watched key changed.
    """

    async def __aenter__(self) -> "Pipeline":
        return self

    def __await__(self) -> Any:
        """``await pipe.set(…)`` gives the pipeline (a queued command is not sent yet), as
        redis-py's asyncio pipeline: what a script called on a pipeline returns."""

        async def queued() -> "Pipeline":
            return self

        return queued().__await__()

    async def __aexit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException], tb: Optional[TracebackType]) -> None:
        await self.reset()

    def execute_command(self, *args: Any, **options: Any) -> Any:
        if self._watching and not self._explicit:
            return self._immediate(args, options)
        return self._queue(args, options)

    async def _immediate(self, args: Tuple[Any, ...], options: Any) -> Any:
        return shape(args, await _await(self._lease.execute_async, args), options, self._client._callbacks)

    async def watch(self, *names: KeyT) -> bool:
        self._check_watch()
        if self._lease is None:
            self._lease = await _await(self._client._native.lease_async)
        await _await(self._lease.execute_async, ("WATCH", *names))
        self._watching = True
        return True

    async def unwatch(self) -> bool:
        if self._lease is not None:
            await _await(self._lease.execute_async, ("UNWATCH",))
        self._watching = False
        return True

    async def execute(self, raise_on_error: bool = True) -> List[Any]:
        stack, cmds, atomic = self._take()
        if not stack and not self._watching:
            return []
        try:
            if self._scripts:
                exists = await self._client.script_exists(*self._scripts)
                for script in self._missing_scripts(exists):
                    await self._client.script_load(script)
            client = self._client
            batch = client._batched() if self._lease is None and isinstance(client, Redis) else None
            if batch is not None:
                slots = await batch.submit_pipeline(cmds, atomic)
            else:
                target = self._lease if self._lease is not None else self._client._native
                slots = await _await(target.pipeline_async, cmds, atomic)
        except ExecAbortError as error:
            raise self._aborted(stack, error)
        finally:
            await self.reset()
        return self._results(stack, slots, raise_on_error)

    async def reset(self) -> None:
        """Drops queued commands and returns a WATCH connection to the pool."""
        self._clear()

    async def close(self) -> None:
        """Drops what is queued (``reset``)."""
        await self.reset()

    async def discard(self) -> None:
        """Drops what was queued; ``execute()`` then raises ResponseError (redis-py's)."""
        PipelineBase.discard(self)

    async def aclose(self) -> None:
        """Drops what is queued (``reset``), redis-py's name for it."""
        await self.reset()
