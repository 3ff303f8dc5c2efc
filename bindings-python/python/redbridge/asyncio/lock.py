"""The asyncio face of redbridge.lock.Lock: the same keys, tokens and Lua scripts, each
step awaited (redis-py's ``redis.asyncio.lock.Lock``)."""

from __future__ import annotations

import asyncio
import time as mod_time
from types import TracebackType
from typing import Any, Optional, Type, Union

from ..exceptions import LockError, LockNotOwnedError
from ..lock import EXTEND, REACQUIRE, RELEASE, Lock as SyncLock

Number = Union[int, float]


class Lock(SyncLock):
    """``redbridge.lock.Lock`` whose methods are coroutines (see redis-py's asyncio Lock)."""

    async def __aenter__(self) -> "Lock":
        if await self.acquire():
            return self
        raise LockError("Unable to acquire lock within the time specified", lock_name=self.name)

    async def __aexit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException], tb: Optional[TracebackType]) -> None:
        try:
            await self.release()
        except LockError:
            if self.raise_on_release_error:
                raise

    async def acquire(  # type: ignore[override]
        self,
        sleep: Optional[Number] = None,
        blocking: Optional[bool] = None,
        blocking_timeout: Optional[Number] = None,
        token: Optional[Union[str, bytes]] = None,
    ) -> bool:
        sleep = self.sleep if sleep is None else sleep
        blocking = self.blocking if blocking is None else blocking
        blocking_timeout = self.blocking_timeout if blocking_timeout is None else blocking_timeout
        mine = self._token(token)
        give_up_at = None if blocking_timeout is None else mod_time.monotonic() + blocking_timeout
        while True:
            if await self.do_acquire(mine):
                self.local.token = mine
                return True
            if not blocking:
                return False
            if give_up_at is not None and mod_time.monotonic() + sleep > give_up_at:
                return False
            await asyncio.sleep(sleep)

    async def do_acquire(self, token: bytes) -> bool:  # type: ignore[override]
        px = int(self.timeout * 1000) if self.timeout else None
        return bool(await self.redis.set(self.name, token, nx=True, px=px))

    async def locked(self) -> bool:  # type: ignore[override]
        return await self.redis.get(self.name) is not None

    async def owned(self) -> bool:  # type: ignore[override]
        stored = await self.redis.get(self.name)
        if isinstance(stored, str):
            stored = stored.encode()
        return self.local.token is not None and stored == self.local.token

    async def release(self) -> None:  # type: ignore[override]
        token = self.local.token
        if token is None:
            raise LockError("Cannot release an unlocked lock", lock_name=self.name)
        self.local.token = None
        if not int(await self._release(keys=[self.name], args=[token], client=self.redis)):
            raise LockNotOwnedError("Cannot release a lock that's no longer owned", lock_name=self.name)

    async def extend(self, additional_time: Number, replace_ttl: bool = False) -> bool:  # type: ignore[override]
        self._check_held("extend")
        args = [self.local.token, int(additional_time * 1000), "1" if replace_ttl else "0"]
        if not int(await self._extend(keys=[self.name], args=args, client=self.redis)):
            raise LockNotOwnedError("Cannot extend a lock that's no longer owned", lock_name=self.name)
        return True

    async def reacquire(self) -> bool:  # type: ignore[override]
        self._check_held("reacquire")
        assert self.timeout is not None
        args = [self.local.token, int(self.timeout * 1000)]
        if not int(await self._reacquire(keys=[self.name], args=args, client=self.redis)):
            raise LockNotOwnedError("Cannot reacquire a lock that's no longer owned", lock_name=self.name)
        return True


_ = (EXTEND, REACQUIRE, RELEASE, Any)
