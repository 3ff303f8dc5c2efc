"""Redis Cluster with redis-py's RedisCluster surface, on a local 3+3 cluster."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from typing import Any, Dict, List

import pytest
import redis.cluster
import redis.crc

import redbridge
import redbridge.asyncio
from redbridge.cluster import ClusterNode, RedisCluster
from redbridge.exceptions import RedisClusterException


def test_rediscluster_like_redis_py(cluster: Dict[str, Any]) -> None:
    port = cluster["ports"][0]
    rc = RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", port), ClusterNode("127.0.0.1", cluster["ports"][1])], decode_responses=True)
    # 10k keys written (pipelined across slots) and read back.
    with rc.pipeline() as p:
        for i in range(10_000):
            p.set(f"py:{i}", i)
        assert p.execute() == [True] * 10_000
    assert [rc.get(f"py:{i}") for i in range(0, 10_000, 250)] == [str(i) for i in range(0, 10_000, 250)]
    # A cross-slot pipeline of 1000 commands: every reply, in order.
    with rc.pipeline() as p:
        for i in range(1000):
            p.get(f"py:{i}")
        assert p.execute() == [str(i) for i in range(1000)]
    # Multi-key commands across slots.
    assert rc.mget([f"py:{i}" for i in range(100)]) == [str(i) for i in range(100)]
    assert rc.exists(*[f"py:{i}" for i in range(100)]) == 100
    assert rc.mset({"a": "1", "b": "2", "c": "3"}) is True
    assert rc.delete("a", "b", "c") == 3
    # Transactions keep to one slot, and say how when they do not.
    with rc.pipeline(transaction=True) as p:
        assert p.incr("{u1}:n").incr("{u1}:n").execute() == [1, 2]
    with pytest.raises(RedisClusterException, match=r"hash tag.*\{user1\}"):
        rc.pipeline(transaction=True).set("x", 1).set("y", 2).execute()
    # SCAN walks every primary: each key once.
    keys = list(rc.scan_iter(match="py:*", count=500))
    assert len(keys) == 10_000 and len(set(keys)) == 10_000
    rc.hset("py:hash", "f", "v")
    assert list(rc.scan_iter(match="py:*", _type="hash")) == ["py:hash"]
    rc.delete("py:hash")
    # redis-py's own cluster client sees the same data.
    other = redis.cluster.RedisCluster(host="127.0.0.1", port=port, decode_responses=True)
    assert other.get("py:42") == "42"
    other.close()
    # A blocking pop has a connection of its own.
    assert rc.blpop(["py:list"], timeout=0.1) is None
    rc.close()


def test_from_url_asyncio_and_bad_input(cluster: Dict[str, Any]) -> None:
    url = cluster["url"]

    async def main() -> Any:
        rc = redbridge.asyncio.RedisCluster.from_url(url)
        await asyncio.gather(*(rc.set(f"as:{i}", i) for i in range(500)))
        got = await asyncio.gather(*(rc.get(f"as:{i}") for i in range(500)))
        async with rc.pipeline() as p:
            for i in range(200):
                p.incr(f"as:{i}")
            slots = await p.execute()
        n = len([k async for k in rc.scan_iter(match="as:*")])
        await rc.aclose()
        return got, slots, n

    got, slots, n = asyncio.run(main())
    assert got == [str(i).encode() for i in range(500)]
    assert slots == [i + 1 for i in range(200)]
    assert n == 500
    assert redbridge.RedisCluster.from_url(url).get("as:7") == b"8"
    with pytest.raises(RedisClusterException, match="at least one node"):
        RedisCluster()
    with pytest.raises(RedisClusterException, match="only database 0"):
        RedisCluster(host="127.0.0.1", port=cluster["ports"][0], db=2)
    with pytest.raises(TypeError, match="startup_nodes"):
        RedisCluster(startup_nodes=["127.0.0.1:7000"])  # type: ignore[list-item]


def test_failover_keeps_serving(own_cluster: Dict[str, Any]) -> None:
    """A primary stopped mid-run: its replica takes over, the client keeps serving, and
    every acknowledged write is there afterwards."""
    rc = RedisCluster.from_url(own_cluster["url"], decode_responses=True)
    slot = rc.execute_command("CLUSTER", "KEYSLOT", "fo:0")
    owner = next(r[2][1] for r in rc.execute_command("CLUSTER", "SLOTS") if r[0] <= slot <= r[1])
    pidfile = own_cluster["pidfiles"][own_cluster["ports"].index(owner)]
    with open(pidfile) as f:
        os.kill(int(f.read()), signal.SIGKILL)  # killed, by its PID: no graceful shutdown
    acked: Dict[str, str] = {}
    failures = 0
    deadline = time.monotonic() + 20
    i = 0
    while time.monotonic() < deadline and len(acked) < 300:
        key, value = f"fo:{i % 100}", f"v{i}"
        try:
            rc.set(key, value)
            acked[key] = value
        except redbridge.RedisError:
            failures += 1
        i += 1
    assert len(acked) >= 100, f"the cluster came back ({failures} failures)"
    assert {k: rc.get(k) for k in acked} == acked
    rc.close()


def test_cache_on_a_cluster(cluster: Dict[str, Any]) -> None:
    """The client-side cache on a cluster: the writer/reader test over keys on every
    primary (versions never go down, the last one is seen within 100 ms), each node's
    part of the cache counted in node_stats(), and asyncio serving hits too."""
    keys = [f"pyc:version:{i}" for i in range(12)]
    reader = RedisCluster.from_url(cluster["url"], cache_config=redbridge.CacheConfig())
    writer = RedisCluster.from_url(cluster["url"])
    for k in keys:
        writer.set(k, 0)
    done = threading.Event()
    errors: List[str] = []

    def read() -> None:
        last = dict.fromkeys(keys, 0)
        finished = None
        while True:
            for k in keys:
                v = int(reader.get(k))
                if v < last[k]:
                    errors.append(f"{k} went down: {last[k]} -> {v}")
                    return
                last[k] = v
            if done.is_set():
                finished = finished or time.monotonic()
                if all(v == 200 for v in last.values()):
                    return
                if time.monotonic() - finished > 0.1:
                    errors.append(f"last versions not seen within 100 ms: {last}")
                    return

    t = threading.Thread(target=read)
    t.start()
    for i in range(1, 201):
        for k in keys:
            writer.set(k, i)
    done.set()
    t.join()
    assert errors == []
    for k in keys:  # the writer is done: a second read of each key is a hit on its node's part
        assert reader.get(k) == reader.get(k) == b"200"
    nodes = reader.node_stats()
    primaries = {addr: n for addr, n in nodes.items() if n["primary"]}
    assert len(primaries) == 3, nodes
    for addr, n in primaries.items():
        assert n["requests"] > 0 and n["cache_hits"] > 0 and n["cache_invalidations"] > 0, (addr, n)
    assert sum(n["cache_hits"] for n in nodes.values()) == reader.stats()["cache_hits"]
    assert redbridge.Redis.from_url(cluster["url"]).node_stats() == {}, "standalone-style use of a node: no cluster"

    async def main() -> Any:
        rc = redbridge.asyncio.RedisCluster.from_url(cluster["url"], cache_config=redbridge.CacheConfig())
        first = [await rc.get(k) for k in keys]
        again = [await rc.get(k) for k in keys]
        while rc.stats()["cache_hits"] < 12:  # each node's part serves once its tracking is on
            again = [await rc.get(k) for k in keys]
        hits = rc.stats()["cache_hits"]
        await writer_set()
        fresh = await rc.get(keys[0])
        while fresh != b"201":  # the invalidation is on its way
            await asyncio.sleep(0.005)
            fresh = await rc.get(keys[0])
        await rc.aclose()
        return first, again, hits

    async def writer_set() -> None:
        writer.set(keys[0], 201)

    first, again, hits = asyncio.run(asyncio.wait_for(main(), 10))
    assert first == again == [b"200"] * 12 and hits >= 12
    reader.close()
    writer.close()


def _migrate(ports: List[int], slot: int, src: int, dst: int, finish: bool = True) -> None:
    """Moves a slot as ``redis-cli --cluster reshard`` does (half its keys when not ``finish``)."""
    a, b = redis.Redis(port=src), redis.Redis(port=dst)
    a_id, b_id = a.execute_command("CLUSTER", "MYID"), b.execute_command("CLUSTER", "MYID")
    b.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", a_id)
    a.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", b_id)
    keys = a.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 100000)
    moving = keys if finish else keys[: len(keys) // 2]
    if moving:
        a.execute_command("MIGRATE", "127.0.0.1", dst, "", 0, 5000, "KEYS", *moving)
    if finish:
        for port in ports:
            try:
                redis.Redis(port=port).execute_command("CLUSTER", "SETSLOT", slot, "NODE", b_id)
            except redis.RedisError:
                pass  # replicas refuse SETSLOT; they learn it from their primary
    for c in (a, b):
        c.close()


def test_scan_each_key_once_while_slots_migrate(own_cluster: Dict[str, Any]) -> None:
    """scan_iter over 10k keys while slots ahead of the walk move to another primary and
    one slot stays half-migrated: every key exactly once."""
    rc = RedisCluster.from_url(own_cluster["url"], decode_responses=True)
    with rc.pipeline() as p:
        for i in range(10_000):
            p.set(f"mig:{i}", "x")
        p.execute()
    slots = rc.execute_command("CLUSTER", "SLOTS")
    last_range = max(slots, key=lambda r: r[0])
    first_port, last_port = min(slots, key=lambda r: r[0])[2][1], last_range[2][1]
    # Slots of the last primary (walked last) that hold keys move onto the first primary
    # mid-walk; the last of them stays half-migrated (half its keys on each node: read
    # only at its owner, those would be missed).
    node = redis.Redis(port=last_port)
    ahead = [s for s in range(last_range[0], last_range[1] + 1) if node.execute_command("CLUSTER", "COUNTKEYSINSLOT", s)][:6]
    node.close()
    assert len(ahead) == 6
    seen: List[str] = []
    it = rc.scan_iter(match="mig:*")
    for _ in range(100):
        seen.append(next(it))
    for s in ahead[:5]:
        _migrate(own_cluster["ports"], s, last_port, first_port)
    _migrate(own_cluster["ports"], ahead[5], last_port, first_port, finish=False)
    seen.extend(it)
    assert len(seen) == 10_000 and len(set(seen)) == 10_000, (len(seen), len(set(seen)))
    rc.close()


def test_pubsub_on_a_cluster(cluster: Dict[str, Any]) -> None:
    """RedisCluster.pubsub(): shard channels at the node of their slot (one SSUBSCRIBE
    each, no CROSSSLOT), channels and patterns heard whichever node a message is
    published on; get_sharded_message as in redis-py's ClusterPubSub."""
    rc = RedisCluster.from_url(cluster["url"], decode_responses=True)
    shards = [f"ps:{i}" for i in range(200)]
    slots = {redis.crc.key_slot(s.encode()) for s in shards}
    assert len(slots) > 100, "the shard channels span many slots"
    with rc.pubsub(ignore_subscribe_messages=True) as p:
        p.ssubscribe(*shards)
        p.subscribe("ps-news")
        p.psubscribe("ps-n*")
        for s in shards:
            assert rc.spublish(s, f"to {s}") == 1
        for port in cluster["ports"][:3]:
            redbridge.Redis(port=port).publish("ps-news", f"via {port}")
        got: Dict[str, List[str]] = {}
        deadline = time.monotonic() + 10
        while sum(len(v) for v in got.values()) < len(shards) + 6 and time.monotonic() < deadline:
            m = p.get_sharded_message(timeout=0.5)
            if m is not None:
                got.setdefault(m["type"], []).append(m["data"])
        assert sorted(got["smessage"]) == sorted(f"to {s}" for s in shards)
        want = sorted(f"via {port}" for port in cluster["ports"][:3])
        assert sorted(got["message"]) == want and sorted(got["pmessage"]) == want
        assert p.get_message(timeout=0.2) is None, "each message once"
        p.sunsubscribe()
        assert rc.pubsub_shardnumsub(shards[0]) == [(shards[0], 0)]
