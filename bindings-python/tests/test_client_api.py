"""redis-py's client conveniences: dict-style access, close() then use again,
set_response_callback, Pipeline.close/discard — sync and asyncio."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import redbridge
import redbridge.asyncio


def test_dict_style_access(r: redbridge.Redis) -> None:
    r.delete("d:k")
    assert "d:k" not in r
    with pytest.raises(KeyError):
        r["d:k"]
    r["d:k"] = "v"
    assert "d:k" in r
    assert r["d:k"] == b"v"
    del r["d:k"]
    assert "d:k" not in r
    assert r.get("d:k") is None


def test_asyncio_client_refuses_dict_style_access(url: str) -> None:
    r = redbridge.asyncio.Redis.from_url(url)
    for attempt in (lambda: r["k"], lambda: "k" in r):
        with pytest.raises(TypeError, match="Async Redis client does not support"):
            attempt()
    with pytest.raises(TypeError):
        r["k"] = "v"
    with pytest.raises(TypeError):
        del r["k"]


def test_a_closed_client_connects_again_on_next_use(url: str) -> None:
    r = redbridge.Redis.from_url(url, client_name="reopened", decode_responses=True)
    r.set("reopen:k", "1")
    before = r.execute_command("CLIENT", "ID")
    r.close()
    # As redis-py: the next command opens a new connection with the same options.
    assert r.get("reopen:k") == "1"
    after = r.execute_command("CLIENT", "ID")
    assert after != before, "a new connection after close()"
    assert r.execute_command("CLIENT", "GETNAME") == "reopened"
    with r.pipeline() as p:
        assert p.set("reopen:k", "2").get("reopen:k").execute() == [True, "2"]
    r.close()
    r.close()  # idempotent


def test_asyncio_client_connects_again_after_aclose(url: str) -> None:
    async def main() -> None:
        r = redbridge.asyncio.Redis.from_url(url)
        await r.set("reopen:a", "1")
        await r.delete("reopen:n")
        await r.aclose()
        assert await r.get("reopen:a") == b"1"
        async with r.pipeline() as p:
            assert await p.incr("reopen:n").incr("reopen:n").execute() == [1, 2]
        await r.close()
        assert await r.exists("reopen:a") == 1
        await r.aclose()

    asyncio.run(main())


def test_set_response_callback(r: redbridge.Redis, url: str) -> None:
    r.set("cb:k", "41")
    other = redbridge.Redis.from_url(url)
    r.set_response_callback("GET", lambda reply, **options: int(reply) + 1)
    assert r.get("cb:k") == 42
    assert other.get("cb:k") == b"41", "only this client's replies"
    # A command with a built-in conversion: the client's callback wins.
    r.set_response_callback("hgetall", lambda reply, **options: sorted(reply))
    r.delete("cb:h")
    r.hset("cb:h", mapping={"b": "2", "a": "1"})
    assert r.hgetall("cb:h") == [b"a", b"b"]
    with r.pipeline(transaction=False) as p:
        assert p.get("cb:k").hgetall("cb:h").execute() == [42, [b"a", b"b"]]


def test_set_response_callback_asyncio(url: str) -> None:
    async def main() -> Any:
        r = redbridge.asyncio.Redis.from_url(url)
        await r.set("cb:a", "7")
        r.set_response_callback("GET", lambda reply, **options: reply.decode() * 2)
        got = await r.get("cb:a")
        await r.aclose()
        return got

    assert asyncio.run(main()) == "77"


def test_pipeline_close_and_discard(r: redbridge.Redis) -> None:
    r.delete("pd:k")
    p = r.pipeline()
    p.set("pd:k", "queued")
    p.close()
    assert p.execute() == []
    assert r.get("pd:k") is None
    # discard() queues DISCARD, as redis-py's: the server drops what MULTI queued, so
    # EXEC fails and nothing was written.
    p = r.pipeline()
    p.watch("pd:k")
    p.multi()
    p.set("pd:k", "dropped")
    p.discard()
    with pytest.raises(redbridge.ResponseError):
        p.execute()
    assert r.get("pd:k") is None
    # The pipeline is usable again after a discard.
    assert p.set("pd:k", "kept").execute() == [True]
    assert r.get("pd:k") == b"kept"
