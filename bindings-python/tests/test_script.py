"""register_script / Script / AsyncScript through the core's eval_script: EVALSHA, and EVAL
with the body only on NOSCRIPT (seen in INFO commandstats), one request per call, on the
sync client, the asyncio batched crossing and the asyncio per-request path."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, Tuple

import pytest

import redbridge
import redbridge.asyncio
from redbridge.exceptions import DataError, ResponseError

INCR_BY = "return redis.call('INCRBY', KEYS[1], ARGV[1])"


def calls(r: redbridge.Redis, command: str) -> Tuple[int, int]:
    """``calls`` and ``failed_calls`` of one command in INFO commandstats."""
    stats: Dict[str, Any] = r.info("commandstats").get(f"cmdstat_{command}", {})
    return int(stats.get("calls", 0)), int(stats.get("failed_calls", 0))


def fresh(r: redbridge.Redis) -> None:
    """No script cached on the server, command counters at zero."""
    r.script_flush()
    r.config_resetstat()


def test_first_call_falls_back_then_runs_by_sha(r: redbridge.Redis) -> None:
    fresh(r)
    add = r.register_script(INCR_BY)
    before = r.stats()
    assert add(keys=["ps:n"], args=[5]) == 5
    after = r.stats()
    assert calls(r, "evalsha") == (1, 1)  # NOSCRIPT
    assert calls(r, "eval") == (1, 0)  # cured with the body
    assert r.script_exists(add.sha) == [True]
    assert add(keys=["ps:n"], args=[2]) == 7
    assert calls(r, "evalsha") == (2, 1)
    assert calls(r, "eval") == (1, 0)
    # One request; the NOSCRIPT the fallback cured is no error.
    assert after["requests"] - before["requests"] == 1
    assert after.get("errors_response", 0) == before.get("errors_response", 0)


def test_script_errors_and_bad_arguments(r: redbridge.Redis) -> None:
    r.script_flush()
    raise_ = r.register_script("return redis.error_reply('MYERR no luck')")
    for _ in range(2):  # by the fallback, then by SHA
        with pytest.raises(ResponseError, match="no luck"):
            raise_()
    bad = r.register_script("this is not lua")
    with pytest.raises(ResponseError):
        bad()
    with pytest.raises(DataError):
        r.register_script(INCR_BY)(keys=["ps:n"], args=[None])


def test_replies_decoding_callbacks_and_other_clients(url: str) -> None:
    r = redbridge.Redis.from_url(url, decode_responses=True)
    echo = r.register_script("return {KEYS[1], ARGV[1], ARGV[2]}")
    assert echo(keys=["k"], args=["é", 3]) == ["k", "é", "3"]
    assert echo.get_encoder().encode("x") == b"x"
    # Another client given at call time runs it, with its own reply decoding.
    other = redbridge.Redis.from_url(url)
    assert echo(keys=[b"\xff"], args=[b"a", 1.5], client=other) == [b"\xff", b"a", b"1.5"]
    # A response callback set for EVALSHA shapes a script's reply, as in redis-py.
    r.set_response_callback("EVALSHA", lambda reply, **_: tuple(reply))
    assert echo(keys=["k"], args=["a", "b"]) == ("k", "a", "b")
    with pytest.raises(TypeError):
        echo(keys=["k"], args=["a", "b"], client=object())
    # After close() the client opens again on its next call, as for commands.
    r.close()
    assert echo(keys=["k"], args=["a", "b"]) == ("k", "a", "b")
    other.close()
    r.close()


def test_asyncio_batched_and_per_request(url: str, r: redbridge.Redis) -> None:
    fresh(r)

    async def run(client: redbridge.asyncio.Redis) -> Any:
        add = client.register_script(INCR_BY)
        first = await add(keys=["pa:n"], args=[5])
        # Concurrent with commands: in submission order, each reply in its place.
        rest = await asyncio.gather(client.set("pa:s", "x"), add(keys=["pa:n"], args=[2]), client.get("pa:n"))
        with pytest.raises(ResponseError, match="no luck"):
            await client.register_script("return redis.error_reply('MYERR no luck')")()
        return first, rest

    client = redbridge.asyncio.Redis.from_url(url)
    owner = asyncio.new_event_loop()
    try:
        # The first loop owns the client's batched crossing.
        first, rest = owner.run_until_complete(run(client))
        assert client._batch is not None and client._batch._loop is owner
        assert (first, rest) == (5, [True, 7, b"7"])
        # Two runs of INCR_BY (one fallback) and one of the error script (one fallback).
        assert calls(r, "evalsha") == (3, 2)
        assert calls(r, "eval") == (2, 1)  # the error script failed in EVAL
        # While that loop lives, another loop takes the per-request path.
        r.script_flush()
        first, rest = asyncio.run(run(client))
        # On the per-request path the script's EVAL fallback (after NOSCRIPT) is sent when
        # the NOSCRIPT reply is in, so the GET submitted with it may be answered first.
        assert (first, rest[:2]) == (12, [True, 14]) and rest[2] in (b"12", b"14")
        assert calls(r, "evalsha") == (6, 4)
        assert calls(r, "eval") == (4, 2)
    finally:
        owner.run_until_complete(client.aclose())
        owner.close()


def test_asyncio_pipeline_loads_before_it_runs(url: str) -> None:
    async def main() -> None:
        client = redbridge.asyncio.Redis.from_url(url)
        await client.script_flush()
        add = client.register_script(INCR_BY)
        await client.delete("pp:n")
        async with client.pipeline() as pipe:
            await add(keys=["pp:n"], args=[1], client=pipe)
            pipe.get("pp:n")
            assert await pipe.execute() == [1, b"1"]
        await client.aclose()

    asyncio.run(main())
