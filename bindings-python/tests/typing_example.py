"""Typed use of the package: `mypy --strict` must pass on this file (make test checks)."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List

import redbridge
import redbridge.asyncio
from redbridge.exceptions import ResponseError, WatchError


def sync_usage(url: str) -> List[Any]:
    r: redbridge.Redis = redbridge.Redis.from_url(url, decode_responses=True, socket_timeout=2.0)
    r.set("k", "v", ex=10)
    value = r.get("k")
    stats: Dict[str, int] = r.stats()
    keys = [k for k in r.scan_iter(match="k*", count=100)]
    with r.pipeline(transaction=True) as pipe:
        pipe.incr("n").get("n")
        results: List[Any] = pipe.execute()
    try:
        r.lpush("k", "x")
    except ResponseError as e:
        print(e.code)
    try:
        with r.pipeline() as p:
            p.watch("k")
            p.multi()
            p.set("k", "w")
            p.execute()
    except WatchError:
        pass
    r.close()
    return [value, stats["requests"], keys, results]


async def async_usage(url: str) -> List[Any]:
    async with redbridge.asyncio.Redis.from_url(url) as r:
        await r.set("k", "v")
        value = await r.get("k")
        keys = [k async for k in r.scan_iter()]
        pipe = r.pipeline()
        pipe.set("a", 1).get("a")
        results = await pipe.execute()
        return [value, keys, results]


if __name__ == "__main__":
    import os

    print(sync_usage(os.environ["REDIS_URL"]))
    print(asyncio.run(async_usage(os.environ["REDIS_URL"])))
