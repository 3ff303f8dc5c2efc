"""redbridge.sentinel over TLS, against a real deployment from the harness
(`redis_server.py sentinel --tls`): the sentinels speak TLS only, with a CA of their own
and a client certificate required (mutual TLS); the data nodes speak TLS only with
another CA. The sentinels' TLS comes from ``sentinel_kwargs`` and the data nodes' from
the connection keyword arguments, as redis-py takes them: discovery, the failover
subscriptions and the sentinels learned all go over the sentinels' TLS, and a wrong CA
or a missing client certificate is an error that names the sentinel and TLS, never a
password."""

from __future__ import annotations

import asyncio
import time
from typing import Any, Dict, Iterator, List, Tuple

import pytest
import redis as redis_py
import redis.sentinel

import redbridge
import redbridge.asyncio.sentinel
from redbridge.sentinel import MasterNotFoundError, Sentinel

from .conftest import sentinel_deployment

SECRET = "s3ntinel-tls-pw"


@pytest.fixture(scope="module")
def deployment() -> Iterator[Dict[str, Any]]:
    yield from sentinel_deployment("--tls")


def _sentinels(d: Dict[str, Any]) -> List[Tuple[str, int]]:
    return [("127.0.0.1", p) for p in d["sentinels"]]


def _sentinel_tls(d: Dict[str, Any], **over: Any) -> Dict[str, Any]:
    kw = {"ssl": True, "ssl_ca_certs": d["sentinel_ca"], "ssl_certfile": d["sentinel_cert"],
          "ssl_keyfile": d["sentinel_key"], "ssl_cert_reqs": "required"}
    kw.update(over)
    return {k: v for k, v in kw.items() if v is not None}


def _node_tls(d: Dict[str, Any]) -> Dict[str, Any]:
    return {"ssl": True, "ssl_ca_certs": d["ca"]}


def _sentinel_py(d: Dict[str, Any], port: int) -> "redis_py.Redis[bytes]":
    """redis-py to one sentinel (for the test's own questions)."""
    return redis_py.Redis(host="127.0.0.1", port=port, socket_timeout=2, **_sentinel_tls(d))


def _role(d: Dict[str, Any], port: int) -> str:
    try:
        return str(redis_py.Redis(host="127.0.0.1", port=port, socket_timeout=0.3, **_node_tls(d)).execute_command("ROLE")[0].decode())
    except redis_py.RedisError:
        return "down"


def test_discovery_and_commands_through_tls_sentinels(deployment: Dict[str, Any]) -> None:
    d = deployment
    ours = Sentinel(_sentinels(d)[:1], socket_timeout=1, sentinel_kwargs=_sentinel_tls(d), **_node_tls(d))
    theirs = redis.sentinel.Sentinel(_sentinels(d)[:1], socket_timeout=1, sentinel_kwargs=_sentinel_tls(d))
    primary = ("127.0.0.1", d["primary"])
    assert ours.discover_master("mymaster") == theirs.discover_master("mymaster") == primary
    assert sorted(ours.discover_slaves("mymaster")) == sorted(theirs.discover_slaves("mymaster"))
    assert sorted(p for _, p in ours.discover_slaves("mymaster")) == sorted(d["replicas"])
    master = ours.master_for("mymaster", decode_responses=True)
    assert master.set("tls:k", "v") is True
    assert master.get("tls:k") == "v"
    assert master.execute_command("ROLE")[0] == "master"
    replica = ours.slave_for("mymaster", decode_responses=True)
    assert replica.execute_command("ROLE")[0] == "slave"
    # The failover subscription is a TLS connection of its own on the sentinel, subscribed
    # to four channels (redis-py's Sentinel subscribes to none).
    deadline = time.monotonic() + 5
    while True:
        listed = _sentinel_py(d, d["sentinels"][0]).execute_command("CLIENT", "LIST").decode()
        if any(" sub=4 " in c and "cmd=subscribe" in c for c in listed.splitlines()):
            break
        assert time.monotonic() < deadline, f"no redbridge subscription on the sentinel:\n{listed}"
        time.sleep(0.05)
    master.close()
    replica.close()


def test_wrong_ca_or_no_client_certificate_names_the_sentinel_and_tls(deployment: Dict[str, Any]) -> None:
    d = deployment
    port = d["sentinels"][0]
    # The data nodes' CA is not the sentinels'.
    wrong = Sentinel(_sentinels(d)[:1], socket_timeout=1,
                     sentinel_kwargs=_sentinel_tls(d, ssl_ca_certs=d["ca"], password=SECRET), **_node_tls(d))
    with pytest.raises(MasterNotFoundError) as e:
        wrong.discover_master("mymaster")
    text = str(e.value)
    assert f"TLS handshake with sentinel 127.0.0.1:{port} failed" in text, text
    assert "not signed by a CA this client trusts" in text and "ssl_ca_certs" in text, text
    assert SECRET not in text and SECRET not in repr(wrong)
    # A client made with it says the same on its first command, not only "none answered".
    client = wrong.master_for("mymaster", socket_timeout=0.5, socket_connect_timeout=0.5)
    with pytest.raises(redbridge.ConnectionError) as e2:
        client.ping()
    assert "TLS handshake with sentinel" in str(e2.value) and SECRET not in str(e2.value), str(e2.value)
    assert SECRET not in repr(client)
    client.close()
    # The sentinels ask for a client certificate (tls-auth-clients yes).
    no_cert = Sentinel(_sentinels(d)[:1], socket_timeout=1,
                       sentinel_kwargs=_sentinel_tls(d, ssl_certfile=None, ssl_keyfile=None), **_node_tls(d))
    with pytest.raises(MasterNotFoundError) as e3:
        no_cert.discover_master("mymaster")
    assert f"TLS handshake with sentinel 127.0.0.1:{port} failed" in str(e3.value), str(e3.value)
    assert "asks for a client certificate" in str(e3.value) and "ssl_certfile" in str(e3.value), str(e3.value)
    # Half a client certificate is refused where it is set.
    with pytest.raises(ValueError, match="sentinel_tls_key_file"):
        Sentinel(_sentinels(d)[:1], sentinel_kwargs=_sentinel_tls(d, ssl_keyfile=None)).discover_master("mymaster")
    # Without TLS to the sentinels, their TLS-only ports do not answer: an error naming them.
    plain = Sentinel(_sentinels(d)[:1], socket_timeout=0.5, sentinel_kwargs={"socket_connect_timeout": 0.5},
                     **_node_tls(d))
    with pytest.raises(MasterNotFoundError, match=f"sentinel 127.0.0.1:{port}") as e4:
        plain.discover_master("mymaster")
    assert "set the sentinels' own TLS" in str(e4.value), str(e4.value)


def test_follows_a_failover_through_learned_tls_sentinels(deployment: Dict[str, Any]) -> None:
    d = deployment
    first, second, third = d["sentinels"]
    sentinel = Sentinel([("127.0.0.1", first)], socket_timeout=1, sentinel_kwargs=_sentinel_tls(d),
                        decode_responses=True, **_node_tls(d))
    master = sentinel.master_for("mymaster")
    assert master.set("tls:before", "1") is True
    old = sentinel.discover_master("mymaster")[1]
    # Given one sentinel, the client learns the others (SENTINEL SENTINELS over TLS) and
    # subscribes on them: wait until every sentinel lists its subscription.
    deadline = time.monotonic() + 10
    while True:
        subscribed = [p for p in (first, second, third)
                      if any(" sub=4 " in c and "cmd=subscribe" in c for c in
                             _sentinel_py(d, p).execute_command("CLIENT", "LIST").decode().splitlines())]
        if len(subscribed) == 3:
            break
        assert time.monotonic() < deadline, f"subscribed on {subscribed} only"
        time.sleep(0.05)
    # The failover is asked of another sentinel; the client follows through its TLS
    # sentinels (events, polling, rediscovery).
    _sentinel_py(d, second).execute_command("SENTINEL", "FAILOVER", "mymaster")
    deadline = time.monotonic() + 20
    while True:
        promoted = [p for p in d["replicas"] + [d["primary"]] if p != old and _role(d, p) == "master"]
        if promoted:
            break
        assert time.monotonic() < deadline, "no replica was promoted"
        time.sleep(0.01)
    new = promoted[0]
    at = time.monotonic()
    while True:
        master.set("tls:after", str(new))
        if redis_py.Redis(host="127.0.0.1", port=new, **_node_tls(d)).get("tls:after") == str(new).encode():
            break
        assert time.monotonic() - at < 5, "writes did not reach the new primary"
        time.sleep(0.01)
    assert master.stats()["sentinel_switches"] == 1
    master.close()


def test_asyncio_through_tls_sentinels(deployment: Dict[str, Any]) -> None:
    d = deployment

    async def main() -> None:
        sentinel = redbridge.asyncio.sentinel.Sentinel(_sentinels(d)[2:], socket_timeout=1,
                                                       sentinel_kwargs=_sentinel_tls(d), **_node_tls(d))
        primary = await sentinel.discover_master("mymaster")
        assert primary[1] in d["replicas"] + [d["primary"]]
        master = sentinel.master_for("mymaster")
        assert await master.set("atls:k", b"\x00\xff") is True
        assert await master.get("atls:k") == b"\x00\xff"
        await master.aclose()
        wrong = redbridge.asyncio.sentinel.Sentinel(_sentinels(d)[2:], socket_timeout=1,
                                                    sentinel_kwargs=_sentinel_tls(d, ssl_ca_certs=d["other_ca"]))
        with pytest.raises(MasterNotFoundError, match="TLS handshake with sentinel"):
            await wrong.discover_master("mymaster")

    asyncio.run(main())
