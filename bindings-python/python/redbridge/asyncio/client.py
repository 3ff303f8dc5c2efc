"""The asyncio client. Same methods as the sync client (one shared command mixin); each
returns an awaitable. Requests run on the core's runtime and never block the event
loop; a cancelled task drops its request, whose reply never reaches another caller.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any, AsyncIterator, Callable, Dict, List, Optional, Tuple, Type

from .._commands import Commands, KeyT
from .._options import make_native
from ..client import _scan_kwargs, annotate, shape
from ..exceptions import RedisError


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


class Redis(Commands):
    """asyncio Redis client with redis-py's constructor and methods (see redbridge.Redis)."""

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
        self = cls.__new__(cls)
        self._native, self._decode = make_native(url, kwargs)
        return self

    def __repr__(self) -> str:
        return f"<redbridge.asyncio.Redis decode_responses={self._decode}>"

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        """Sends any command; the reply is shaped as redis-py shapes it."""
        reply = await _await(self._native.execute_async, args)
        return shape(args, reply, options)

    def pipeline(self, transaction: bool = True, shard_hint: Optional[str] = None) -> "Pipeline":
        return Pipeline(self, transaction)

    async def _iter(self, kind: str, name: Optional[KeyT], match: Optional[KeyT], count: Optional[int], _type: Optional[str] = None) -> AsyncIterator[Any]:
        stream = self._native.scan_async(**_scan_kwargs(kind, name, match, count, _type))
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

    def stats(self) -> Dict[str, int]:
        return dict(self._native.stats())

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


class Pipeline(Commands):
    """asyncio pipeline: chain commands, ``await pipe.execute()``.

    After ``await pipe.watch(...)`` the pipeline holds a dedicated connection and each
    command is awaited at once (to read the watched keys); ``pipe.multi()`` starts
    buffering again; ``await pipe.execute()`` sends MULTI … EXEC and raises WatchError
    when a watched key changed.
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

    async def __aenter__(self) -> "Pipeline":
        return self

    async def __aexit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException], tb: Optional[TracebackType]) -> None:
        await self.reset()

    def execute_command(self, *args: Any, **options: Any) -> Any:
        if self._watching and not self._explicit:
            return self._immediate(args, options)
        self._stack.append((args, options))
        return self

    async def _immediate(self, args: Tuple[Any, ...], options: Dict[str, Any]) -> Any:
        return shape(args, await _await(self._lease.execute_async, args), options)

    async def watch(self, *names: KeyT) -> bool:
        if self._explicit:
            raise RedisError("Cannot issue a WATCH after a MULTI")
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

    def multi(self) -> None:
        if self._explicit:
            raise RedisError("Cannot issue nested calls to MULTI")
        if self._stack:
            raise RedisError("Commands without an initial WATCH have already been issued")
        self._explicit = True

    async def execute(self, raise_on_error: bool = True) -> List[Any]:
        stack = self._stack
        if not stack and not self._watching:
            return []
        cmds = [a for a, _ in stack]
        try:
            if self._lease is not None:
                slots = await _await(self._lease.pipeline_async, cmds, self.transaction or self._explicit)
            else:
                slots = await _await(self._client._native.pipeline_async, cmds, self.transaction)
        finally:
            await self.reset()
        results = [shape(args, slot, options) for (args, options), slot in zip(stack, slots)]
        if raise_on_error:
            for i, r in enumerate(results):
                if isinstance(r, Exception):
                    raise annotate(r, i, stack[i][0])
        return results

    async def reset(self) -> None:
        """Drops queued commands and returns a WATCH connection to the pool."""
        self._stack = []
        if self._lease is not None:
            self._lease.release()
            self._lease = None
        self._watching = False
        self._explicit = False
