"""r.monitor(): redis-py's Monitor on a connection of its own, sync and asyncio — the dict
of each command, quoting as redis-py shows it, the client's db and credentials, listen(),
timeouts, the connection closed on exit, and errors once it is gone."""

from __future__ import annotations

import asyncio
import time
from typing import Any, Dict, List

import pytest

import redbridge
import redbridge.asyncio
from redbridge.monitor import MonitorCommandInfo


def _until(m: Any, word: str) -> MonitorCommandInfo:
    """The first command whose text contains ``word`` (5 s at most)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        c = m.next_command(timeout=1.0)
        if c is not None and word in c["command"]:
            return c  # type: ignore[no-any-return]
    raise AssertionError(f"{word} not seen")


def _monitor_ids(r: redbridge.Redis) -> List[str]:
    """Client ids of the server's monitor connections (flag O)."""
    return [c["id"] for c in r.client_list() if "O" in c["flags"]]


def _wait_for(what: str, ok: Any) -> None:
    deadline = time.monotonic() + 5
    while not ok():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def test_another_clients_command_with_its_arguments(url: str) -> None:
    r = redbridge.Redis.from_url(url, db=3)
    other = redbridge.Redis.from_url(url)
    with r.monitor() as m:
        other.set('mon:k "q"', b"v\x92\\")
        c = _until(m, "mon:k")
        assert c["command"] == 'SET mon:k "q" v\\x92\\\\'
        assert c["db"] == 0
        assert c["client_type"] == "tcp"
        assert c["client_address"] == "127.0.0.1"
        assert c["client_port"].isdigit()
        assert isinstance(c["time"], float) and c["time"] > 1.6e9
        assert set(c) == {"time", "db", "client_address", "client_port", "client_type", "command"}
        r.get("mon:own")
        c = _until(m, "mon:own")
        assert (c["db"], c["command"]) == (3, "GET mon:own")
        # A Lua script's own calls.
        r.eval("return redis.call('GET', 'mon:lua')", 0)
        c = _until(m, "GET mon:lua")
        assert (c["client_type"], c["client_address"], c["client_port"]) == ("lua", "lua", "")
    r.close()
    other.close()


def test_listen_timeout_and_close(url: str) -> None:
    r = redbridge.Redis.from_url(url, decode_responses=True)
    before = set(_monitor_ids(r))
    m = r.monitor()
    m.__enter__()
    mine = set(_monitor_ids(r)) - before
    assert len(mine) == 1
    seen: List[str] = []
    r.set("mon:a", "1")
    r.set("mon:b", "2")
    for c in m.listen():
        if c["command"].startswith("SET mon:"):
            seen.append(c["command"])
        if len(seen) == 2:
            break
    assert seen == ["SET mon:a 1", "SET mon:b 2"]
    # Nothing runs meanwhile: the timeout passes and says so with None.
    start = time.monotonic()
    if m.next_command(timeout=0.2) is None:
        assert time.monotonic() - start >= 0.2
    m.__exit__(None, None, None)
    _wait_for("the monitor connection to close", lambda: not (set(_monitor_ids(r)) & mine))
    m.close()  # idempotent
    # A new monitor of the same client.
    with r.monitor() as again:
        r.ping()
        assert _until(again, "PING")["command"] == "PING"
    r.close()


def test_killed_connection_is_a_connection_error(own_server: Dict[str, Any]) -> None:
    r = redbridge.Redis.from_url(own_server["url"])
    with r.monitor() as m:
        [mid] = _monitor_ids(r)
        r.client_kill_filter(_id=mid)
        with pytest.raises(redbridge.ConnectionError):
            while True:
                m.next_command(timeout=5)
    r.close()


def test_password_and_refusals(own_server: Dict[str, Any]) -> None:
    r = redbridge.Redis.from_url(own_server["url"])
    r.config_set("requirepass", "s3cret")
    try:
        good = redbridge.Redis.from_url(own_server["url"], password="s3cret", protocol=2)
        with good.monitor() as m:
            good.incr("mon:n", 2)
            assert _until(m, "INCRBY")["command"] == "INCRBY mon:n 2"
        with pytest.raises(redbridge.AuthenticationError) as err:
            with redbridge.Redis.from_url(own_server["url"], password="nope").monitor():
                pass
        assert "nope" not in str(err.value)
        good.config_set("requirepass", "")
        good.close()
    finally:
        r.close()
    with pytest.raises(redbridge.ConnectionError):
        with redbridge.Redis(port=1, socket_connect_timeout=0.5).monitor():
            pass
    # MONITOR on the shared connection stays refused.
    with pytest.raises(redbridge.RedisError):
        redbridge.Redis.from_url(own_server["url"]).execute_command("MONITOR")


def test_asyncio(url: str) -> None:
    async def main() -> None:
        r = redbridge.asyncio.Redis.from_url(url, db=2)
        async with r.monitor() as m:
            await r.set("mon:async", 'x"y')
            while True:
                c = await m.next_command()
                if "mon:async" in c["command"]:
                    break
            assert (c["db"], c["command"]) == (2, 'SET mon:async x"y')
            # A cancelled wait loses no command.
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(m.next_command(), 0.05)
            await r.get("mon:after-cancel")
            async for c in m.listen():
                if "mon:after-cancel" in c["command"]:
                    break
            assert c["command"] == "GET mon:after-cancel"
        with pytest.raises(redbridge.ConnectionError):
            await m.next_command()
        await r.aclose()

    asyncio.run(main())
