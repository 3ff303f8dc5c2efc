"""``redbridge.asyncio.sentinel``: redis-py's asyncio ``Sentinel`` (discovery as
coroutines, clients from ``master_for``/``slave_for`` are ``redbridge.asyncio.Redis``).
See ``redbridge.sentinel`` for what the core does."""

from __future__ import annotations

from typing import List

from .. import _redbridge
from ..exceptions import ConnectionError
from ..sentinel import Address, MasterNotFoundError, SlaveNotFoundError, _SentinelSettings
from .client import Redis
from .client import _await  # type: ignore[attr-defined]  # the package's own helper; client.pyi is the public API

__all__ = ["MasterNotFoundError", "Sentinel", "SlaveNotFoundError"]


class Sentinel(_SentinelSettings[Redis]):
    """redis-py's ``redis.asyncio.sentinel.Sentinel``."""

    _redis = Redis

    async def discover_master(self, service_name: str) -> Address:
        """The primary's ``(host, port)``; MasterNotFoundError when none answers."""
        try:
            found = await _await(_redbridge.sentinel_discover_async, self._discovery(service_name), "primary")
        except ConnectionError as e:
            raise MasterNotFoundError(f"No master found for {service_name!r}: {e}") from None
        return found[0]  # type: ignore[no-any-return]

    async def discover_slaves(self, service_name: str) -> List[Address]:
        """The healthy replicas' ``(host, port)`` (empty when none)."""
        try:
            return list(await _await(_redbridge.sentinel_discover_async, self._discovery(service_name), "replicas"))
        except ConnectionError:
            return []
