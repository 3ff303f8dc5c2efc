"""asyncio client: ``redbridge.asyncio.Redis``, a drop-in for ``redis.asyncio.Redis``."""

from __future__ import annotations

from typing import Any

from .client import Pipeline, Redis, StrictRedis
from .cluster import ClusterNode, RedisCluster


def from_url(url: str, **kwargs: Any) -> Redis:
    """An asyncio client from a URL, as ``redis.asyncio.from_url``."""
    return Redis.from_url(url, **kwargs)


__all__ = ["ClusterNode", "Pipeline", "Redis", "RedisCluster", "StrictRedis", "from_url"]
