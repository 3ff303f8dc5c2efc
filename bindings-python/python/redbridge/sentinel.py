"""``redbridge.sentinel``: redis-py's ``Sentinel`` on the core's Sentinel support.

    from redbridge.sentinel import Sentinel
    sentinel = Sentinel([("localhost", 26379)], socket_timeout=0.5)
    master = sentinel.master_for("mymaster")      # a redbridge.Redis
    replica = sentinel.slave_for("mymaster")      # reads from a healthy replica

The core does what redis-py's ``SentinelConnectionPool`` does and more
(docs/architecture.md, "Sentinel"): it asks the sentinels which node serves the service,
believes a node only when it confirms its role (``ROLE``), follows failovers as the
sentinels announce them (``+switch-master``, ``+promoted-slave``, ``+selected-slave`` on
every sentinel) and polls every second in case an event was missed, learns the other
sentinels (and one that joins, from ``+sentinel``), and moves the client's connections to the new primary (its cache flushed).
A client from ``master_for`` is an ordinary ``redbridge.Redis``: same timeouts, retries,
guard, cache and stats.

``sentinel_kwargs`` are the sentinels' own settings: ``password``/``username`` (their
ACL), ``socket_timeout`` / ``socket_connect_timeout``, and their TLS as redis-py spells
it: ``ssl=True``, ``ssl_ca_certs`` (or ``ssl_ca_data``), ``ssl_certfile`` and
``ssl_keyfile`` (mutual TLS), ``ssl_cert_reqs``. The data nodes' TLS is set apart, in the
connection keyword arguments (``Sentinel(..., ssl=True, ssl_ca_certs=...)``); each works
without the other. Not supported: ``force_master_ip``.
"""

from __future__ import annotations

from typing import Any, Dict, Generic, List, Optional, Tuple, Type, TypeVar

from . import _redbridge
from ._options import native_options
from .client import Redis
from .exceptions import ConnectionError

__all__ = ["MasterNotFoundError", "Sentinel", "SlaveNotFoundError"]

Address = Tuple[str, int]
R = TypeVar("R")

# redis-py's TLS arguments, read from sentinel_kwargs for the sentinels' connections.
_SSL_KWARGS = ("ssl", "ssl_ca_certs", "ssl_ca_data", "ssl_certfile", "ssl_keyfile", "ssl_cert_reqs",
               "ssl_check_hostname")


def _sentinel_tls(sentinel_kwargs: Dict[str, Any]) -> List[Tuple[str, str]]:
    """The sentinels' TLS as native options: redis-py's ssl arguments converted (and
    checked) as a client's are, then named ``sentinel_tls…``."""
    given = {k: v for k, v in sentinel_kwargs.items() if k in _SSL_KWARGS}
    return [(f"sentinel_{name}", value) for name, value in native_options(**given) if name.startswith("tls")]


class MasterNotFoundError(ConnectionError):
    """No sentinel named a primary of the service that confirms it is one."""


class SlaveNotFoundError(ConnectionError):
    """No replica of the service (and no primary to fall back on) answers."""


class _SentinelSettings(Generic[R]):
    """What both flavours share: the sentinels, their settings and the data nodes', and
    the clients made with them (of the flavour's Redis class, ``_redis``)."""

    _redis: Type[R]

    def __init__(self, sentinels: List[Address], min_other_sentinels: int = 0,
                 sentinel_kwargs: Optional[Dict[str, Any]] = None, force_master_ip: Optional[str] = None,
                 **connection_kwargs: Any) -> None:
        if force_master_ip is not None:
            raise ValueError("force_master_ip is not supported: the node's own address is used")
        self.sentinel_addresses: List[Address] = [(str(h), int(p)) for h, p in sentinels]
        if not self.sentinel_addresses:
            raise ValueError("Sentinel needs at least one (host, port) of a sentinel")
        self.sentinel_kwargs: Dict[str, Any] = dict(sentinel_kwargs or {})
        self._sentinel_tls = _sentinel_tls(self.sentinel_kwargs)
        self.min_other_sentinels = min_other_sentinels
        self.connection_kwargs = connection_kwargs

    def __repr__(self) -> str:
        hosts = ", ".join(f"{h}:{p}" for h, p in self.sentinel_addresses)
        return f"<{type(self).__name__}<sentinels=[{hosts}]>>"

    def _kwargs(self, service_name: str, role: str, kwargs: Dict[str, Any]) -> Dict[str, Any]:
        """The client keyword arguments of ``master_for``/``slave_for``."""
        if not isinstance(service_name, str) or not service_name:
            raise TypeError("service_name must be a non-empty str")
        out = dict(self.connection_kwargs)
        out.update(kwargs)
        out.update(sentinels=self.sentinel_addresses, sentinel_service=service_name, sentinel_role=role,
                   sentinel_username=self.sentinel_kwargs.get("username"),
                   sentinel_password=self.sentinel_kwargs.get("password"),
                   sentinel_options=self._sentinel_tls)
        return out

    def master_for(self, service_name: str, redis_class: Optional[Type[R]] = None,
                   connection_pool_class: Any = None, **kwargs: Any) -> R:
        """A client of the service's primary that follows failovers."""
        return (redis_class or self._redis)(**self._kwargs(service_name, "master", kwargs))

    def slave_for(self, service_name: str, redis_class: Optional[Type[R]] = None,
                  connection_pool_class: Any = None, **kwargs: Any) -> R:
        """A client of a healthy replica (the primary when none answers)."""
        return (redis_class or self._redis)(**self._kwargs(service_name, "replica", kwargs))

    def _discovery(self, service_name: str) -> List[Tuple[str, str]]:
        """The native options discovery runs with: the data nodes' settings (their role is
        checked with them) and the sentinels' timeouts."""
        kw = self._kwargs(service_name, "master", {})
        for name in ("socket_timeout", "socket_connect_timeout"):
            if name in self.sentinel_kwargs:
                kw[name] = self.sentinel_kwargs[name]
        for name in ("decode_responses", "encoding", "encoding_errors", "cache_config", "max_connections"):
            kw.pop(name, None)
        return native_options(**kw)


class Sentinel(_SentinelSettings[Redis]):
    """redis-py's ``Sentinel(sentinels, min_other_sentinels=0, sentinel_kwargs=None,
    **connection_kwargs)``: ``connection_kwargs`` go to every client it makes."""

    _redis = Redis

    def discover_master(self, service_name: str) -> Address:
        """The primary's ``(host, port)``; MasterNotFoundError when none answers."""
        try:
            found = _redbridge.sentinel_discover(self._discovery(service_name), "primary")
        except ConnectionError as e:
            raise MasterNotFoundError(f"No master found for {service_name!r}: {e}") from None
        return found[0]

    def discover_slaves(self, service_name: str) -> List[Address]:
        """The healthy replicas' ``(host, port)`` (empty when none)."""
        try:
            return list(_redbridge.sentinel_discover(self._discovery(service_name), "replicas"))
        except ConnectionError:
            return []
