"""Client-side caching options: ``redbridge.Redis(cache_config=CacheConfig(...))``.

Server-assisted (RESP3 CLIENT TRACKING): a read is answered locally when it can be, and
every key the server invalidates (another client wrote it) is dropped at once. Use it for
keys read far more often than they are written; skip it for write-heavy keys, where it
only adds invalidation traffic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, List, Optional, Tuple


@dataclass(frozen=True)
class CacheConfig:
    """Options of the client-side cache (redis-py's name for it).

    ``max_size``: most entries (LRU beyond); ``max_bytes``: most bytes of keys and replies;
    ``ttl``: seconds an entry may be served (None: until invalidated); ``mode``: "default"
    (the server tracks the keys this client read) or "broadcast" (every key with one of
    ``prefixes``); ``commands``: the read commands to cache (None: GET, HGET, HGETALL,
    SMEMBERS, ZRANGE… — single-key reads whose reply depends only on the key).
    """

    max_size: int = 10_000
    max_bytes: int = 64 << 20
    ttl: Optional[float] = None
    mode: str = "default"
    prefixes: Tuple[str, ...] = field(default_factory=tuple)
    commands: Optional[Tuple[str, ...]] = None

    def options(self) -> List[Tuple[str, str]]:
        """The core's option names and values for this configuration."""
        out = [("cache", "true"), ("cache_max_entries", str(self.max_size)), ("cache_max_bytes", str(self.max_bytes))]
        if self.ttl is not None:
            out.append(("cache_ttl", repr(float(self.ttl))))
        if self.prefixes:
            out.append(("cache_prefixes", ",".join(self.prefixes)))
        out.append(("cache_mode", self.mode))
        if self.commands is not None:
            out.append(("cache_commands", ",".join(_names(self.commands))))
        return out


def _names(commands: Iterable[str]) -> List[str]:
    return [c.upper() for c in commands]
