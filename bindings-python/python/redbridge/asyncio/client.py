"""The asyncio client. Same methods as the sync client (one shared command mixin); each
returns an awaitable. Requests run on the core's runtime and never block the event
loop; a cancelled task drops its request, whose reply never reaches another caller.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any, AsyncIterator, Callable, List, Optional, Tuple, Type

from .._base import ClientBase, PipelineBase, scan_kwargs, shape
from .._commands import KeyT


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


class Redis(ClientBase):
    """asyncio Redis client with redis-py's constructor and methods (see redbridge.Redis)."""

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        """Sends any command; the reply is shaped as redis-py shapes it."""
        if self._cached:
            # A client-side cache hit is answered here, on the loop's thread, with no I/O.
            hit, reply = self._native.cached(args)
            if hit:
                return shape(args, reply, options)
        reply = await _await(self._native.execute_async, args)
        return shape(args, reply, options)

    def pipeline(self, transaction: bool = True, shard_hint: Optional[str] = None) -> "Pipeline":
        return Pipeline(self, transaction)

    async def _iter(self, kind: str, name: Optional[KeyT], match: Optional[KeyT], count: Optional[int], _type: Optional[str] = None) -> AsyncIterator[Any]:
        stream = self._native.scan_async(**scan_kwargs(kind, name, match, count, _type))
        while True:
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
        """Closes every connection."""
        self._native.close()

    async def close(self) -> None:
        await self.aclose()

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

    async def __aexit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException], tb: Optional[TracebackType]) -> None:
        await self.reset()

    def execute_command(self, *args: Any, **options: Any) -> Any:
        if self._watching and not self._explicit:
            return self._immediate(args, options)
        return self._queue(args, options)

    async def _immediate(self, args: Tuple[Any, ...], options: Any) -> Any:
        return shape(args, await _await(self._lease.execute_async, args), options)

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
            target = self._lease if self._lease is not None else self._client._native
            slots = await _await(target.pipeline_async, cmds, atomic)
        finally:
            await self.reset()
        return self._results(stack, slots, raise_on_error)

    async def reset(self) -> None:
        """Drops queued commands and returns a WATCH connection to the pool."""
        self._clear()
