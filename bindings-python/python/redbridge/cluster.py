"""Redis Cluster with redis-py's names: ``redbridge.RedisCluster`` (also
``redbridge.cluster.RedisCluster``) and ``ClusterNode``.

    from redbridge.cluster import RedisCluster, ClusterNode
    rc = RedisCluster(startup_nodes=[ClusterNode("10.0.0.1", 7000), ClusterNode("10.0.0.2", 7000)])
    rc.set("{user1}:name", "Ada")

The same methods as ``redbridge.Redis``: the core routes each command to the node that
serves its slot (following MOVED/ASK redirects and topology changes), splits MGET/MSET/
DEL/EXISTS/UNLINK across slots, runs a pipeline's commands on their nodes concurrently
and returns the replies in order, and walks every primary in ``scan_iter``. A
transaction (``pipeline(transaction=True)``) must keep its keys in one slot: give them a
common hash tag (``{user1}:a``, ``{user1}:b``).
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional, Tuple, Union

from .client import Pipeline, Redis
from .exceptions import RedisClusterException

__all__ = ["ClusterNode", "RedisCluster"]


class ClusterNode:
    """A seed node's address, as redis-py's ``ClusterNode``."""

    def __init__(self, host: str = "localhost", port: int = 6379) -> None:
        self.host = host
        self.port = int(port)

    def __repr__(self) -> str:
        return f"ClusterNode(host={self.host!r}, port={self.port})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ClusterNode) and (other.host, other.port) == (self.host, self.port)

    def __hash__(self) -> int:
        return hash((self.host, self.port))


NodeLike = Union[ClusterNode, Tuple[str, int], Dict[str, Any]]


def _seeds(startup_nodes: Optional[Iterable[NodeLike]]) -> List[Tuple[str, int]]:
    out = []
    for n in startup_nodes or ():
        if isinstance(n, ClusterNode):
            out.append((n.host, n.port))
        elif isinstance(n, dict):
            out.append((str(n["host"]), int(n["port"])))
        elif isinstance(n, tuple) and len(n) == 2:
            out.append((str(n[0]), int(n[1])))
        else:
            raise TypeError(f"startup_nodes entries must be ClusterNode, (host, port) or {{'host', 'port'}}, not {n!r}")
    return out


def cluster_kwargs(host: Optional[str], port: int, startup_nodes: Optional[Iterable[NodeLike]], read_from_replicas: bool, kwargs: Dict[str, Any]) -> Dict[str, Any]:
    """redis-py's RedisCluster arguments → the client's (sync and asyncio share this)."""
    seeds = _seeds(startup_nodes)
    if host is None:
        if not seeds:
            raise RedisClusterException("RedisCluster requires at least one node to discover the cluster: give host= and port= or startup_nodes=")
        host, port = seeds.pop(0)
    if kwargs.pop("db", 0) not in (0, None):
        raise RedisClusterException("a Redis Cluster has only database 0")
    return dict(kwargs, host=host, port=port, cluster=True, cluster_nodes=seeds, read_from_replicas=read_from_replicas or None)


def cluster_url_kwargs(kwargs: Dict[str, Any]) -> Dict[str, Any]:
    """The same for ``from_url``: the URL names one node."""
    seeds = _seeds(kwargs.pop("startup_nodes", None))
    if not kwargs.get("read_from_replicas"):
        kwargs.pop("read_from_replicas", None)
    return dict(kwargs, cluster=True, cluster_nodes=seeds or None)


class RedisCluster(Redis):
    """A client for a Redis Cluster with ``redis.cluster.RedisCluster``'s constructor:
    ``host``/``port`` of one node and/or ``startup_nodes``; ``read_from_replicas`` sends
    read-only commands to replicas too. Every other argument is ``redbridge.Redis``'s."""

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
        """A pipeline across the cluster (commands go to their nodes concurrently, replies
        come back in order); ``transaction=True`` wraps it in MULTI/EXEC, one slot only."""
        return Pipeline(self, transaction)
