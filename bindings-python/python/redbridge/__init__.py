"""redbridge: a redis-py compatible Redis client on a Rust core.

    import redbridge
    r = redbridge.Redis(host="localhost", port=6379, decode_responses=True)
    r.set("greeting", "hello")
    r.get("greeting")  # 'hello'

Switching from redis-py is a change of import: ``redis.Redis`` → ``redbridge.Redis``,
``redis.asyncio.Redis`` → ``redbridge.asyncio.Redis``, ``redis.exceptions`` →
``redbridge.exceptions``.
"""

from __future__ import annotations

from typing import Any

from . import exceptions
from ._redbridge import __version__
from .cache import CacheConfig
from .client import Pipeline, Redis, StrictRedis
from .cluster import ClusterNode, RedisCluster
from .pubsub import Subscription
from .exceptions import (
    AuthenticationError,
    ConnectionError,
    DataError,
    GuardError,
    PoolTimeoutError,
    RedbridgeWarning,
    RedisClusterException,
    RedisError,
    ResponseError,
    TimeoutError,
    WatchError,
)


def from_url(url: str, **kwargs: Any) -> Redis:
    """A sync client from a URL (``redis://…``, ``unix://…``), as ``redis.from_url``."""
    return Redis.from_url(url, **kwargs)


__all__ = [
    "AuthenticationError",
    "CacheConfig",
    "ClusterNode",
    "ConnectionError",
    "DataError",
    "GuardError",
    "Pipeline",
    "PoolTimeoutError",
    "RedbridgeWarning",
    "Redis",
    "RedisCluster",
    "RedisClusterException",
    "RedisError",
    "ResponseError",
    "StrictRedis",
    "Subscription",
    "TimeoutError",
    "WatchError",
    "__version__",
    "exceptions",
    "from_url",
]
