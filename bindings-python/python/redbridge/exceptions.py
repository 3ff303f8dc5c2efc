"""Exceptions, with redis-py's names and hierarchy, plus redbridge's own.

``except redis.exceptions.ConnectionError`` becomes
``except redbridge.exceptions.ConnectionError`` and catches the same failures.
Every exception raised by redbridge carries ``kind`` (the core's stable error kind,
e.g. ``"timeout"``) and, for server errors, ``code`` (e.g. ``"WRONGTYPE"``).
"""

from __future__ import annotations

from typing import Optional


class RedisError(Exception):
    """Base class of every redbridge error."""

    kind: str = "redis"
    code: Optional[str] = None


class ConnectionError(RedisError):  # noqa: A001 - redis-py's name
    """The connection could not be made or broke (after the retries the policy allows)."""


class TimeoutError(RedisError):  # noqa: A001 - redis-py's name
    """No reply within the response timeout (socket_timeout)."""


class AuthenticationError(ConnectionError):
    """Wrong username or password."""


class AuthorizationError(ConnectionError):
    """The user may not connect."""


class BusyLoadingError(ConnectionError):
    """The server is loading its dataset."""


class InvalidResponse(RedisError):
    """The server sent something that could not be parsed."""


class ResponseError(RedisError):
    """The server answered with an error reply; ``code`` holds its first word."""


class DataError(RedisError):
    """Invalid input: a value that cannot be encoded, a bad argument, a refused command."""


class PubSubError(RedisError):
    """Pub/sub misuse."""


class WatchError(RedisError):
    """A watched key changed before EXEC: the transaction did not run."""


class NoScriptError(ResponseError):
    """EVALSHA of an unknown script."""


class OutOfMemoryError(ResponseError):
    """The server is out of memory (maxmemory)."""


class ExecAbortError(ResponseError):
    """A command was refused while queuing, so EXEC discarded the transaction."""


class ReadOnlyError(ResponseError):
    """A write reached a read-only replica."""


class NoPermissionError(ResponseError):
    """The ACL user may not run this command (NOPERM)."""


class ModuleError(ResponseError):
    """A module error."""


class LockError(RedisError, ValueError):
    """Lock misuse: releasing, extending or reacquiring a lock not held, or not acquiring
    one in time. ``lock_name`` names the lock."""

    def __init__(self, message: "str | None" = None, lock_name: "str | bytes | None" = None) -> None:
        self.message = message
        self.lock_name = lock_name
        super().__init__(message)


class LockNotOwnedError(LockError):
    """The lock is held by another owner now (its timeout ran out, someone else took it)."""


class RedisClusterException(Exception):
    """Cluster-level failure."""


class PoolTimeoutError(ConnectionError):
    """redbridge: no pooled connection became free within ``pool_timeout``."""


class GuardError(RedisError):
    """redbridge: the guard refused a command that walks the whole keyspace (guard="deny")."""


class RedbridgeWarning(UserWarning):
    """redbridge: category of guard warnings (KEYS, big SMEMBERS/HGETALL…), with the
    incremental alternative in the message. Filter it with the ``warnings`` module."""


__all__ = [
    "AuthenticationError",
    "AuthorizationError",
    "BusyLoadingError",
    "ConnectionError",
    "DataError",
    "ExecAbortError",
    "GuardError",
    "InvalidResponse",
    "LockError",
    "LockNotOwnedError",
    "ModuleError",
    "NoPermissionError",
    "NoScriptError",
    "OutOfMemoryError",
    "PoolTimeoutError",
    "PubSubError",
    "ReadOnlyError",
    "RedbridgeWarning",
    "RedisClusterException",
    "RedisError",
    "ResponseError",
    "TimeoutError",
    "WatchError",
]
