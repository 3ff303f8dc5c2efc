"""redbridge.sentinel: redis-py's Sentinel API on the core's Sentinel support, against a
real deployment from the harness (a primary, 2 replicas, 3 sentinels): discovery answers
as redis-py's own Sentinel does, a client from master_for follows a failover, slave_for
reads from a replica, the asyncio flavour the same, errors and reprs say what they should
and show no password."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from typing import Any, Dict, Iterator

import pytest
import redis as redis_py
import redis.sentinel

import redbridge
import redbridge.asyncio.sentinel
from redbridge.sentinel import MasterNotFoundError, Sentinel

from .conftest import HARNESS


@pytest.fixture
def deployment() -> Iterator[Dict[str, Any]]:
    info: Dict[str, Any] = json.loads(subprocess.check_output([sys.executable, str(HARNESS), "sentinel"]))
    yield info
    for pidfile in info["pidfiles"]:
        subprocess.run([sys.executable, str(HARNESS), "stop", pidfile], check=False)


def _role(port: int) -> str:
    try:
        return str(redis_py.Redis(port=port, socket_timeout=0.2).execute_command("ROLE")[0].decode())
    except redis_py.RedisError:
        return "down"


def test_discovery_matches_redis_py(deployment: Dict[str, Any]) -> None:
    sentinels = [("127.0.0.1", p) for p in deployment["sentinels"]]
    ours = Sentinel(sentinels[:1], socket_timeout=0.5)
    theirs = redis.sentinel.Sentinel(sentinels[:1], socket_timeout=0.5)
    assert ours.discover_master("mymaster") == theirs.discover_master("mymaster") == ("127.0.0.1", deployment["primary"])
    assert sorted(ours.discover_slaves("mymaster")) == sorted(theirs.discover_slaves("mymaster"))
    assert sorted(p for _, p in ours.discover_slaves("mymaster")) == sorted(deployment["replicas"])
    with pytest.raises(MasterNotFoundError, match="nosuch"):
        ours.discover_master("nosuch")
    assert ours.discover_slaves("nosuch") == []
    assert isinstance(MasterNotFoundError("x"), redbridge.ConnectionError)


def test_master_for_follows_a_failover_and_slave_for_reads_a_replica(deployment: Dict[str, Any]) -> None:
    sentinel = Sentinel([("127.0.0.1", deployment["sentinels"][0])], socket_timeout=0.5, decode_responses=True)
    master = sentinel.master_for("mymaster")
    assert master.set("s:k", "v") is True
    assert master.execute_command("ROLE")[0] == "master"
    replica = sentinel.slave_for("mymaster")
    assert replica.execute_command("ROLE")[0] == "slave"
    with pytest.raises(redbridge.exceptions.ReadOnlyError):
        replica.set("s:k", "w")
    # A failover asked of a sentinel: writes reach the new primary soon after it takes the role.
    redis_py.Redis(port=deployment["sentinels"][1]).execute_command("SENTINEL", "FAILOVER", "mymaster")
    deadline = time.monotonic() + 15
    while not any(_role(p) == "master" for p in deployment["replicas"]):
        assert time.monotonic() < deadline, "no replica was promoted"
        time.sleep(0.005)
    promoted_at = time.monotonic()
    new = next(p for p in deployment["replicas"] if _role(p) == "master")
    while True:
        master.set("s:after", str(new))
        if redis_py.Redis(port=new).get("s:after") == str(new).encode():
            break
        assert time.monotonic() - promoted_at < 3, "writes did not reach the new primary"
        time.sleep(0.005)
    assert master.stats()["sentinel_switches"] == 1


def test_asyncio_sentinel(deployment: Dict[str, Any]) -> None:
    async def main() -> None:
        sentinel = redbridge.asyncio.sentinel.Sentinel([("127.0.0.1", deployment["sentinels"][2])], socket_timeout=0.5)
        assert await sentinel.discover_master("mymaster") == ("127.0.0.1", deployment["primary"])
        assert len(await sentinel.discover_slaves("mymaster")) == 2
        with pytest.raises(MasterNotFoundError):
            await sentinel.discover_master("nosuch")
        master = sentinel.master_for("mymaster")
        assert await master.set("a:k", b"\x00\xff") is True
        assert await master.get("a:k") == b"\x00\xff"
        replica = sentinel.slave_for("mymaster")
        assert (await replica.execute_command("ROLE"))[0] == b"slave"
        await master.aclose()
        await replica.aclose()

    asyncio.run(main())


def test_bad_input_and_no_secrets(deployment: Dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="at least one"):
        Sentinel([])
    with pytest.raises(TypeError, match="service_name"):
        Sentinel([("127.0.0.1", 1)]).master_for("")
    secret = "s3cr3t-sentinel-pw"
    sentinel = Sentinel([("127.0.0.1", deployment["sentinels"][0])], sentinel_kwargs={"password": secret},
                        password="data-pw-xyz")
    assert secret not in repr(sentinel) and "data-pw-xyz" not in repr(sentinel)
    client = sentinel.master_for("mymaster", socket_timeout=0.3, socket_connect_timeout=0.3)
    assert secret not in repr(client) and "data-pw-xyz" not in repr(client)
    # The harness's servers keep the default nopass user, which takes any password.
    assert client.ping() is True
    # The sentinels' TLS options without ssl=True are refused, named as the sentinels'.
    with pytest.raises(ValueError, match="sentinel_tls=true"):
        Sentinel([("127.0.0.1", 1)], sentinel_kwargs={"ssl_ca_certs": "ca.crt"}).master_for("mymaster")


def test_a_connection_error_names_the_node_in_use(deployment: Dict[str, Any]) -> None:
    """Between the primary's death and the promotion, errors name the node the client
    found (not the configured address, which a Sentinel client never uses)."""
    master = Sentinel([("127.0.0.1", deployment["sentinels"][0])], socket_timeout=0.3).master_for("mymaster")
    assert master.ping() is True
    with open(deployment["pidfiles"][0]) as f:  # the harness starts the primary first
        os.kill(int(f.read().strip()), signal.SIGKILL)
    errors = []
    for _ in range(40):
        try:
            master.ping()
        except redbridge.ConnectionError as e:
            errors.append(str(e))
            break
        time.sleep(0.05)
    assert errors, "no command failed after the primary was killed"
    assert f"127.0.0.1:{deployment['primary']}" in errors[0], errors[0]
    assert "6379" not in errors[0], errors[0]
