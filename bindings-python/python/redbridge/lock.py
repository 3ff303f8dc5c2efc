"""A lock held in Redis, with redis-py's ``Lock`` semantics: a key set with NX and a
unique token, released, extended or reacquired only by the token's owner (each step one
Lua script, so no other client acts between the check and the change)."""

from __future__ import annotations

import logging
import threading
import time as mod_time
import uuid
from types import SimpleNamespace, TracebackType
from typing import Any, Optional, Type, Union

from .exceptions import LockError, LockNotOwnedError

logger = logging.getLogger(__name__)

# KEYS[1] the lock; ARGV[1] the owner's token. Deletes the key only for its owner.
RELEASE = """
if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('del', KEYS[1])
return 1
"""

# ARGV[2] milliseconds; ARGV[3] '1' to replace the time left instead of adding to it.
EXTEND = """
if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
local left = redis.call('pttl', KEYS[1])
if left < 0 then return 0 end
if ARGV[3] == '1' then left = 0 end
redis.call('pexpire', KEYS[1], left + tonumber(ARGV[2]))
return 1
"""

# ARGV[2] milliseconds: the lock's whole timeout again.
REACQUIRE = """
if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('pexpire', KEYS[1], ARGV[2])
return 1
"""

Number = Union[int, float]


class Lock:
    """A distributed lock on key ``name`` (see redis-py's ``Redis.lock``).

    ``timeout``: seconds the lock lives without release (None: until released).
    ``sleep``: seconds between attempts while blocking. ``blocking``: wait for the lock
    (else one attempt). ``blocking_timeout``: the most seconds to wait (None: forever).
    ``thread_local``: the token belongs to the thread that acquired it.
    ``raise_on_release_error``: leaving a ``with`` block re-raises a failed release.
    """

    def __init__(
        self,
        redis: Any,
        name: Union[str, bytes],
        timeout: Optional[Number] = None,
        sleep: Number = 0.1,
        blocking: bool = True,
        blocking_timeout: Optional[Number] = None,
        thread_local: bool = True,
        raise_on_release_error: bool = True,
    ) -> None:
        self.redis = redis
        self.name = name
        self.timeout = timeout
        self.sleep = sleep
        self.blocking = blocking
        self.blocking_timeout = blocking_timeout
        self.thread_local = bool(thread_local)
        self.raise_on_release_error = raise_on_release_error
        self.local: Any = threading.local() if self.thread_local else SimpleNamespace()
        self.local.token = None
        self._release = redis.register_script(RELEASE)
        self._extend = redis.register_script(EXTEND)
        self._reacquire = redis.register_script(REACQUIRE)

    def __repr__(self) -> str:
        return f"<{type(self).__module__}.{type(self).__name__} name={self.name!r} timeout={self.timeout}>"

    def __enter__(self) -> "Lock":
        if self.acquire():
            return self
        raise LockError("Unable to acquire lock within the time specified", lock_name=self.name)

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException], tb: Optional[TracebackType]) -> None:
        try:
            self.release()
        except LockError:
            if self.raise_on_release_error:
                raise
            logger.warning("lock %r: release failed on leaving the with block", self.name)

    def _token(self, token: Any) -> bytes:
        if token is None:
            return uuid.uuid4().hex.encode()
        return token.encode() if isinstance(token, str) else bytes(token)

    def acquire(
        self,
        sleep: Optional[Number] = None,
        blocking: Optional[bool] = None,
        blocking_timeout: Optional[Number] = None,
        token: Optional[Union[str, bytes]] = None,
    ) -> bool:
        """Takes the lock (True), or returns False when it is not free in time."""
        sleep = self.sleep if sleep is None else sleep
        blocking = self.blocking if blocking is None else blocking
        blocking_timeout = self.blocking_timeout if blocking_timeout is None else blocking_timeout
        mine = self._token(token)
        give_up_at = None if blocking_timeout is None else mod_time.monotonic() + blocking_timeout
        while True:
            if self.do_acquire(mine):
                self.local.token = mine
                return True
            if not blocking:
                return False
            if give_up_at is not None and mod_time.monotonic() + sleep > give_up_at:
                return False
            mod_time.sleep(sleep)

    def do_acquire(self, token: bytes) -> bool:
        px = int(self.timeout * 1000) if self.timeout else None
        return bool(self.redis.set(self.name, token, nx=True, px=px))

    def locked(self) -> bool:
        """True when anyone holds the lock."""
        return self.redis.get(self.name) is not None

    def owned(self) -> bool:
        """True when this owner (thread, with thread_local) holds the lock."""
        stored = self.redis.get(self.name)
        if isinstance(stored, str):
            stored = stored.encode()
        return self.local.token is not None and stored == self.local.token

    def release(self) -> None:
        """Gives the lock up; LockError when not held, LockNotOwnedError when another owner
        has it now."""
        token = self.local.token
        if token is None:
            raise LockError("Cannot release an unlocked lock", lock_name=self.name)
        self.local.token = None
        self.do_release(token)

    def do_release(self, token: bytes) -> None:
        if not int(self._release(keys=[self.name], args=[token], client=self.redis)):
            raise LockNotOwnedError("Cannot release a lock that's no longer owned", lock_name=self.name)

    def extend(self, additional_time: Number, replace_ttl: bool = False) -> bool:
        """Adds ``additional_time`` seconds to the lock's time left (or sets it, with
        ``replace_ttl``)."""
        self._check_held("extend")
        return self.do_extend(additional_time, replace_ttl)

    def do_extend(self, additional_time: Number, replace_ttl: bool) -> bool:
        ms = int(additional_time * 1000)
        args = [self.local.token, ms, "1" if replace_ttl else "0"]
        if not int(self._extend(keys=[self.name], args=args, client=self.redis)):
            raise LockNotOwnedError("Cannot extend a lock that's no longer owned", lock_name=self.name)
        return True

    def reacquire(self) -> bool:
        """Resets the lock's time left to its whole timeout."""
        self._check_held("reacquire")
        return self.do_reacquire()

    def do_reacquire(self) -> bool:
        assert self.timeout is not None
        args = [self.local.token, int(self.timeout * 1000)]
        if not int(self._reacquire(keys=[self.name], args=args, client=self.redis)):
            raise LockNotOwnedError("Cannot reacquire a lock that's no longer owned", lock_name=self.name)
        return True

    def _check_held(self, what: str) -> None:
        if self.local.token is None:
            raise LockError(f"Cannot {what} an unlocked lock", lock_name=self.name)
        if self.timeout is None:
            raise LockError(f"Cannot {what} a lock with no timeout", lock_name=self.name)
