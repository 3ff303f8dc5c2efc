"""asyncio: no event-loop blocking, cancellation never crosses replies, iterators."""

from __future__ import annotations

import asyncio
import random

import pytest

import redbridge.asyncio
from redbridge import exceptions


def test_blocking_command_does_not_block_the_loop(url: str) -> None:
    async def main() -> None:
        r = redbridge.asyncio.Redis.from_url(url)
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        t = asyncio.create_task(ticker())
        assert await r.blpop("aio:q", 0.5) is None
        t.cancel()
        assert ticks >= 20, f"the loop ticked {ticks} times in 0.5 s"
        await r.aclose()

    asyncio.run(main())


def test_ten_thousand_calls_with_random_cancellations(url: str) -> None:
    async def main() -> None:
        r = redbridge.asyncio.Redis.from_url(url, decode_responses=True)
        wrong = ok = cancelled = 0

        async def one(i: int) -> None:
            nonlocal wrong, ok, cancelled
            payload = f"p{i}-{random.random()}"
            try:
                got = await asyncio.wait_for(r.echo(payload), timeout=random.choice([0.0001, 0.0005, 1.0]))
            except asyncio.TimeoutError:
                cancelled += 1
                return
            if got == payload:
                ok += 1
            else:
                wrong += 1

        for start in range(0, 10_000, 500):
            await asyncio.gather(*(one(i) for i in range(start, start + 500)))
        assert wrong == 0
        assert ok + cancelled == 10_000
        assert cancelled > 0 and ok > 1000, (ok, cancelled)
        await r.aclose()

    asyncio.run(main())


def test_async_errors_pipeline_and_scan(url: str) -> None:
    async def main() -> None:
        async with redbridge.asyncio.Redis.from_url(url) as r:
            await r.flushdb(asynchronous=True)
            await r.set("s", "x")
            with pytest.raises(exceptions.ResponseError):
                await r.lpush("s", "y")
            async with r.pipeline(transaction=True) as pipe:
                pipe.set("a", 1).incr("a").get("a")
                assert await pipe.execute() == [True, 2, b"2"]
            for i in range(2000):
                await r.sadd("aset", i)
            members = [m async for m in r.sscan_iter("aset", count=100)]
            assert len(set(members)) == 2000
            keys = [k async for k in r.scan_iter(match="a*")]
            assert sorted(keys) == [b"a", b"aset"]

    asyncio.run(main())


def test_async_watch_multi_exec(url: str) -> None:
    async def main() -> None:
        async with redbridge.asyncio.Redis.from_url(url) as r, redbridge.asyncio.Redis.from_url(url) as other:
            await r.set("aw", 1)
            async with r.pipeline() as pipe:
                await pipe.watch("aw")
                assert await pipe.get("aw") == b"1"
                await other.set("aw", 5)
                pipe.multi()
                pipe.set("aw", 2)
                with pytest.raises(exceptions.WatchError):
                    await pipe.execute()
            assert await r.get("aw") == b"5"
            async with r.pipeline() as pipe:
                await pipe.watch("aw")
                value = int(await pipe.get("aw"))
                pipe.multi()
                pipe.set("aw", value + 1).get("aw")
                assert await pipe.execute() == [True, b"6"]

    asyncio.run(main())


def test_async_pipeline_matches_redis_py(url: str) -> None:
    import redis.asyncio

    async def run(client: object) -> list:
        await client.flushdb()  # type: ignore[attr-defined]
        out = []
        for transaction in (False, True):
            pipe = client.pipeline(transaction=transaction)  # type: ignore[attr-defined]
            pipe.set("p", "1").incr("p").get("p").hset("ph", mapping={"a": 1}).hgetall("ph")
            pipe.zadd("pz", {"m": 1}).zrange("pz", 0, -1, withscores=True).lpush("p", "x").get("p")
            out.append([(type(x).__name__, str(x)) if isinstance(x, Exception) else x for x in await pipe.execute(raise_on_error=False)])
        return out

    async def main() -> None:
        # Same protocol argument on both: none (redis-py's default shapes) and 3 (its
        # RESP3 shapes: zrange's pairs as lists).
        for protocol in (None, 3):
            ref = redis.asyncio.Redis.from_url(url, protocol=protocol)
            ours = redbridge.asyncio.Redis.from_url(url, protocol=protocol)
            assert await run(ours) == await run(ref), f"protocol={protocol}"
            await ref.aclose()
            await ours.aclose()

    asyncio.run(main())


def test_an_asyncio_client_holds_one_connection(url: str) -> None:
    """The first requests wait for the event loop's own connection while it opens, so
    the core's runtime opens none beside it: CLIENT LIST shows one connection per client,
    as redis-py's asyncio client has one per request in flight."""
    import redis

    async def main() -> None:
        r = redbridge.asyncio.Redis.from_url(url, client_name="aio-one")
        assert await r.set("aio:one", "1") is True
        assert await asyncio.gather(*(r.incr("aio:one") for _ in range(10))) == list(range(2, 12))
        assert r.stats()["direct_requests"] == 11, r.stats()
        control = redis.Redis.from_url(url)
        named = [c for c in control.client_list() if c["name"] == "aio-one"]
        control.close()
        assert len(named) == 1, named
        await r.aclose()

    asyncio.run(main())
