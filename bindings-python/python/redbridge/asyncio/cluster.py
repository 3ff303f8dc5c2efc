"""asyncio Redis Cluster: ``redbridge.asyncio.RedisCluster``, as ``redis.asyncio.cluster.RedisCluster``."""

from __future__ import annotations

from typing import Any, Iterable, Optional

from ..cluster import ClusterNode, NodeLike, cluster_kwargs, cluster_url_kwargs
from .client import Pipeline, Redis

__all__ = ["ClusterNode", "RedisCluster"]


class RedisCluster(Redis):
    """The asyncio form of ``redbridge.RedisCluster``: same arguments, awaitable methods."""

    def __init__(
        self,
        host: Optional[str] = None,
        port: int = 6379,
        startup_nodes: Optional[Iterable[NodeLike]] = None,
        read_from_replicas: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**cluster_kwargs(host, port, startup_nodes, read_from_replicas, kwargs))

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> "RedisCluster":
        """``redis://[user:password@]host:port`` of one node (``rediss://`` for TLS)."""
        return super().from_url(url, **cluster_url_kwargs(kwargs))  # type: ignore[return-value]

    def pipeline(self, transaction: bool = False, shard_hint: Optional[str] = None) -> Pipeline:
        """A pipeline across the cluster; ``transaction=True`` must keep to one slot."""
        return Pipeline(self, transaction)
