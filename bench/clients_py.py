"""One Python client through the workloads W1-W7 of docs/architecture.md, "Bench workloads"; prints one JSON line.

Run by bench/run.py (not by hand): `python clients_py.py <client>`, with REDIS_URL (db 0
holds the GET keys, db 1 the 100k keys W4 scans) and QUICK=1 for a tiny run. Each client is
measured in its own process so imports, threads and memory never leak into the next one.
BENCH_WORKLOADS says what to run: "W1-W6" (the default), "W7", "OTEL" (redbridge's W1 and W3
with OpenTelemetry metrics off and on), or several. W7 (pub/sub) needs
run.py's publisher: each round is asked for with a `W7 PUB ...` line on stdout.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import threading
import time
from importlib.util import find_spec
from typing import Any, Callable

QUICK = os.environ.get("QUICK") == "1"
# BENCH_CLUSTER=1: REDIS_URL is a seed node of a cluster; W1-W4 only, W4 over all keys.
CLUSTER = os.environ.get("BENCH_CLUSTER") == "1"
URL = os.environ["REDIS_URL"]
SCAN_URL = URL if CLUSTER else (URL.rsplit("/", 1)[0] + "/1" if URL.count("/") > 2 else URL + "/1")
HOST, PORT = URL.split("//", 1)[1].split("/")[0].rsplit(":", 1)

N1 = 1_000 if QUICK else 20_000  # W1 sequential GETs
BATCHES = 10 if QUICK else 200  # W2 batches of 100 GETs
N3 = 2_000 if QUICK else 40_000  # W3 total GETs (8 threads, or 64 tasks)
N5 = 2_000 if QUICK else 50_000  # W5 GETs over 100 hot keys
N6 = 100 if QUICK else 2_000  # W6 GETs of 100 KiB
W4_PASSES = 1 if QUICK else 5  # W4: the median pass (one pass of ~50 ms was at the mercy of the moment)
THREADS, TASKS = 8, 64
KEY, BIG = "bench:key", "bench:big"
HOT = [f"w5:{i}" for i in range(100)]
WANT = os.environ.get("BENCH_WORKLOADS", "W1-W6").split(",")
# W7: rounds of messages per subscriber (each round within the default queue bounds).
W7A_ROUNDS, W7A_N = (1, 2_000) if QUICK else (4, 50_000)
W7B_ROUNDS, W7B_N = (1, 300) if QUICK else (6, 20_000)
W7_SUBS = 10
IDLE = 5.0  # seconds without a message: the round is over, short


def rss_mb(field: str = "VmRSS") -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def pct(samples: list[int], p: float) -> float:
    s = sorted(samples)
    return s[min(len(s) - 1, int(len(s) * p))] / 1000


# --- sync workloads -------------------------------------------------------------------


def sync_w1(get: Callable[[str], Any]) -> dict:
    lat = []
    clock = time.perf_counter_ns
    t = clock()
    for _ in range(N1):
        a = clock()
        get(KEY)
        lat.append(clock() - a)
    secs = (clock() - t) / 1e9
    return {"ops": N1 / secs, "p50_us": pct(lat, 0.5), "p99_us": pct(lat, 0.99)}


def sync_w2(batch: Callable[[int], list]) -> dict:
    t = time.perf_counter()
    for _ in range(BATCHES):
        assert len(batch(100)) == 100
    return {"ops": BATCHES * 100 / (time.perf_counter() - t)}


def sync_w3(get: Callable[[str], Any]) -> dict:
    each = N3 // THREADS
    start = threading.Barrier(THREADS + 1)

    def work() -> None:
        start.wait()
        for _ in range(each):
            get(KEY)

    threads = [threading.Thread(target=work) for _ in range(THREADS)]
    for th in threads:
        th.start()
    start.wait()
    t = time.perf_counter()
    for th in threads:
        th.join()
    return {"ops": each * THREADS / (time.perf_counter() - t), "in_flight": f"{THREADS} threads"}


def sync_w4(scan: Callable[[], int]) -> dict:
    passes = []
    for _ in range(W4_PASSES):
        t = time.perf_counter()
        n = scan()
        passes.append(time.perf_counter() - t)
    return {"secs": statistics.median(passes), "keys": n, "passes": len(passes)}


def sync_w5(get: Callable[[str], Any]) -> dict:
    for k in HOT:
        get(k)
    t = time.perf_counter()
    for i in range(N5):
        get(HOT[i % 100])
    return {"ops": N5 / (time.perf_counter() - t)}


def sync_w6(get: Callable[[str], Any]) -> dict:
    t = time.perf_counter()
    total = 0
    for _ in range(N6):
        total += len(get(BIG))
    return {"mb_s": total / 1e6 / (time.perf_counter() - t)}


# --- async workloads ------------------------------------------------------------------


async def async_w1(get: Callable[[str], Any]) -> dict:
    lat = []
    clock = time.perf_counter_ns
    t = clock()
    for _ in range(N1):
        a = clock()
        await get(KEY)
        lat.append(clock() - a)
    secs = (clock() - t) / 1e9
    return {"ops": N1 / secs, "p50_us": pct(lat, 0.5), "p99_us": pct(lat, 0.99)}


async def async_w2(batch: Callable[[int], Any]) -> dict:
    t = time.perf_counter()
    for _ in range(BATCHES):
        assert len(await batch(100)) == 100
    return {"ops": BATCHES * 100 / (time.perf_counter() - t)}


async def async_w3(get: Callable[[str], Any]) -> dict:
    each = N3 // TASKS

    async def work() -> None:
        for _ in range(each):
            await get(KEY)

    t = time.perf_counter()
    await asyncio.gather(*(work() for _ in range(TASKS)))
    return {"ops": each * TASKS / (time.perf_counter() - t), "in_flight": f"{TASKS} tasks"}


async def async_w4(scan: Callable[[], Any]) -> dict:
    passes = []
    for _ in range(W4_PASSES):
        t = time.perf_counter()
        n = await scan()
        passes.append(time.perf_counter() - t)
    return {"secs": statistics.median(passes), "keys": n, "passes": len(passes)}


async def async_w5(get: Callable[[str], Any]) -> dict:
    for k in HOT:
        await get(k)
    t = time.perf_counter()
    for i in range(N5):
        await get(HOT[i % 100])
    return {"ops": N5 / (time.perf_counter() - t)}


async def async_w6(get: Callable[[str], Any]) -> dict:
    t = time.perf_counter()
    total = 0
    for _ in range(N6):
        total += len(await get(BIG))
    return {"mb_s": total / 1e6 / (time.perf_counter() - t)}


# --- OpenTelemetry metrics on and off (issue #21) ----------------------------------------
# redbridge and, beside it, redis-py 8.x with its own OpenTelemetry (redis.observability,
# the same SDK and in-memory reader): W1 and W3 with metrics off (what every other run
# measures) and with every metric group recorded (on), alternated in one process,
# OTEL_ROUNDS rounds each, medians. A redbridge figure "on" includes recording what is
# still queued when the workload ends (drain), so nothing is left out of the time;
# redis-py records on the caller's thread. The reader collects between rounds, untimed.

OTEL_ROUNDS = 2 if QUICK else 5


class _Otel:
    """Metrics of redbridge (``anchor`` False) or of redis-py (True) switched on and off."""

    def __init__(self, anchor: bool = False) -> None:
        from opentelemetry import metrics
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader

        if anchor:
            from redis import observability
            from redis.observability import providers, recorder

            # redis-py's own reset for tests and benchmarks; its recorder keeps the
            # collector it resolved until reset_collector().
            self.reset: Callable[[], None] = lambda: (providers.reset_observability_instance(), recorder.reset_collector())
        else:
            from redbridge import observability

            self.reset = observability.reset_observability_instance
        self.o: Any = observability
        self.reader = InMemoryMetricReader()
        metrics.set_meter_provider(MeterProvider(metric_readers=[self.reader]))
        groups = list(observability.MetricGroup)  # every group (redis-py takes a list)
        self.groups: Any = groups if anchor else observability.MetricGroup(sum(groups))

    def switch(self, on: bool) -> None:
        self.reset()
        self.reader.get_metrics_data()
        if on:
            self.o.get_observability_instance().init(self.o.OTelConfig(metric_groups=self.groups))

    def drain(self) -> None:
        m = self.o.get_observability_instance().get_provider_manager()
        if m is not None and hasattr(m, "drain"):  # redis-py has nothing queued
            m.drain()

    def version(self) -> str:
        return version("opentelemetry-sdk")


def otel_plan(otel: _Otel, rounds: list[dict]) -> Any:
    """The measurements to make, in order, as (round's figures, key, workload): off then
    on in even rounds, on then off in odd ones, W1 and W3 each time."""
    for i in range(OTEL_ROUNDS):
        got: dict = {}
        rounds.append(got)
        for on in (False, True) if i % 2 == 0 else (True, False):
            otel.switch(on)
            for w in ("W1", "W3"):
                yield got, f"OTEL-{w}-{'on' if on else 'off'}", w
    otel.switch(False)


def otel_medians(otel: _Otel, rounds: list[dict]) -> dict:
    """The medians of each OTEL-* figure and of each round's on/off over the rounds, and
    the SDK's version."""
    import statistics

    out = {k: {"ops": statistics.median(r[k] for r in rounds)} for k in rounds[0]}
    for w in ("W1", "W3"):  # on/off of each round (both measured side by side), then the median
        out[f"OTEL-{w}-ratio"] = {"ratio": statistics.median(r[f"OTEL-{w}-on"] / r[f"OTEL-{w}-off"] for r in rounds)}
    return out | {"OTEL-sdk": {"version": otel.version()}}


def sync_otel(get: Callable[[str], Any], anchor: bool = False) -> dict:
    otel = _Otel(anchor)
    rounds: list[dict] = []
    for got, key, w in otel_plan(otel, rounds):
        t = time.perf_counter()
        if w == "W1":
            sync_w1(get)
        else:
            sync_w3(get)
        otel.drain()
        n = N1 if w == "W1" else N3 // THREADS * THREADS
        got[key] = n / (time.perf_counter() - t)
    return otel_medians(otel, rounds)


async def async_otel(get: Callable[[str], Any]) -> dict:
    otel = _Otel()
    rounds: list[dict] = []
    for got, key, w in otel_plan(otel, rounds):
        t = time.perf_counter()
        if w == "W1":
            await async_w1(get)
        else:
            await async_w3(get)
        otel.drain()
        n = N1 if w == "W1" else N3 // TASKS * TASKS
        got[key] = n / (time.perf_counter() - t)
    return otel_medians(otel, rounds)


# --- W7: pub/sub ------------------------------------------------------------------------
# A subscriber kit: sub(channel) subscribes one new subscriber connection and gives
# (next, close), next() being the client's own way to take one message (None when none
# came); is_msg(m) tells a published message from anything else; troubles() counts what
# would make a run invalid on the client's side (redbridge: dropped by the bounded queue,
# and gaps).


def ask(tag: str, channel: str, subscribers: int, n: int) -> None:
    print(f"W7 PUB {tag} {channel} {subscribers} {n}", flush=True)


def consume(nxt: Callable[[], Any], is_msg: Callable[[Any], bool], n: int) -> tuple[int, float, float]:
    """Takes up to n messages: (received, time of the first, time of the last)."""
    tally = _Tally(is_msg)
    while tally.got < n and tally.see(nxt()):
        pass
    return tally.got, tally.first, tally.last


async def consume_async(nxt: Callable[[], Any], is_msg: Callable[[Any], bool], n: int) -> tuple[int, float, float]:
    tally = _Tally(is_msg)
    while tally.got < n and tally.see(await nxt()):
        pass
    return tally.got, tally.first, tally.last


class _Tally:
    """Messages counted with the times of the first and the last (sync and asyncio
    consumers alike); `see` is False once nothing came for IDLE seconds."""

    def __init__(self, is_msg: Callable[[Any], bool]) -> None:
        self.is_msg = is_msg
        self.got, self.first, self.last, self.since = 0, 0.0, 0.0, time.perf_counter()

    def see(self, m: Any) -> bool:
        now = time.perf_counter()
        if m is None or not self.is_msg(m):
            return now - (self.last or self.since) <= IDLE
        self.got += 1
        if self.got == 1:
            self.first = now
        self.last = now
        return True


def w7_verdict(kit: dict, before: tuple[int, int], rounds: list[tuple[int, float, float]], n: int, subs: int) -> dict:
    """msg/s over the rounds (n messages to each of subs subscribers per round), or why
    the run is not a figure."""
    dropped, gaps = (a - b for a, b in zip(kit["troubles"](), before))
    got, want = sum(r[0] for r in rounds), len(rounds) * n * subs
    if got < want:
        return {"error": f"invalid: received {got:,} of {want:,} messages in round {len(rounds)} (dropped {dropped:,}, gaps {gaps})"}
    if dropped or gaps:
        return {"error": f"invalid: {dropped:,} dropped by the bounded queue (pubsub_dropped), {gaps} gap(s)"}
    secs = sum(r[2] - r[1] for r in rounds)
    # W7a: the rate between the first and the last message; W7b: all 10 subscribers' messages
    # between the first any of them got and the last all of them got.
    counted = got - (len(rounds) if subs == 1 else 0)
    return {"msgs": counted / secs, "messages": got, "rounds": len(rounds), "subscribers": subs}


def sync_w7(kit: dict) -> dict:
    out = {}
    try:
        before = kit["troubles"]()
        nxt, close = kit["sub"]("bench:w7a")
        rounds = []
        for _ in range(W7A_ROUNDS):
            ask("W7a", "bench:w7a", 1, W7A_N)
            rounds.append(consume(nxt, kit["is_msg"], W7A_N))
            if rounds[-1][0] < W7A_N:
                break
        close()
        out["W7a"] = w7_verdict(kit, before, rounds, W7A_N, 1)
    except Exception as e:  # noqa: BLE001 - reported, not fatal
        out["W7a"] = {"error": f"{type(e).__name__}: {e}"[:160]}
    try:
        before = kit["troubles"]()
        subs = [kit["sub"]("bench:w7b") for _ in range(W7_SUBS)]
        rounds = []
        for _ in range(W7B_ROUNDS):
            ask("W7b", "bench:w7b", W7_SUBS, W7B_N)
            res: list = [None] * W7_SUBS

            def work(i: int) -> None:
                res[i] = consume(subs[i][0], kit["is_msg"], W7B_N)

            threads = [threading.Thread(target=work, args=(i,)) for i in range(W7_SUBS)]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            rounds.append((sum(r[0] for r in res), min(r[1] for r in res), max(r[2] for r in res)))
            if rounds[-1][0] < W7_SUBS * W7B_N:
                break
        for _, close in subs:
            close()
        out["W7b"] = w7_verdict(kit, before, rounds, W7B_N, W7_SUBS)
    except Exception as e:  # noqa: BLE001
        out["W7b"] = {"error": f"{type(e).__name__}: {e}"[:160]}
    return out


async def async_w7(kit: dict) -> dict:
    async def closing(close: Callable[[], Any]) -> None:
        r = close()
        if asyncio.iscoroutine(r):
            await r

    out = {}
    try:
        before = kit["troubles"]()
        nxt, close = await kit["sub"]("bench:w7a")
        rounds = []
        for _ in range(W7A_ROUNDS):
            ask("W7a", "bench:w7a", 1, W7A_N)
            rounds.append(await consume_async(nxt, kit["is_msg"], W7A_N))
            if rounds[-1][0] < W7A_N:
                break
        await closing(close)
        out["W7a"] = w7_verdict(kit, before, rounds, W7A_N, 1)
    except Exception as e:  # noqa: BLE001
        out["W7a"] = {"error": f"{type(e).__name__}: {e}"[:160]}
    try:
        before = kit["troubles"]()
        subs = [await kit["sub"]("bench:w7b") for _ in range(W7_SUBS)]
        rounds = []
        for _ in range(W7B_ROUNDS):
            ask("W7b", "bench:w7b", W7_SUBS, W7B_N)
            res = await asyncio.gather(*(consume_async(nxt, kit["is_msg"], W7B_N) for nxt, _ in subs))
            rounds.append((sum(r[0] for r in res), min(r[1] for r in res), max(r[2] for r in res)))
            if rounds[-1][0] < W7_SUBS * W7B_N:
                break
        for _, close in subs:
            await closing(close)
        out["W7b"] = w7_verdict(kit, before, rounds, W7B_N, W7_SUBS)
    except Exception as e:  # noqa: BLE001
        out["W7b"] = {"error": f"{type(e).__name__}: {e}"[:160]}
    return out


def is_message(m: Any) -> bool:
    return m["type"] == "message"


def w7_redbridge() -> dict:
    import redbridge

    r = redbridge.Redis.from_url(URL)
    subs: list = []

    def sub(channel: str) -> tuple:
        p = r.pubsub(ignore_subscribe_messages=True)
        p.subscribe(channel)
        subs.append(p)
        return (lambda: p.get_message(ignore_subscribe_messages=True, timeout=IDLE)), p.close

    def troubles() -> tuple[int, int]:
        return r.stats().get("pubsub_dropped", 0), sum(p.gaps for p in subs)

    return {"sub": sub, "is_msg": is_message, "troubles": troubles}


def w7_redis_py() -> dict:
    import redis

    r = redis.Redis.from_url(URL)

    def sub(channel: str) -> tuple:
        p = r.pubsub(ignore_subscribe_messages=True)
        p.subscribe(channel)
        return (lambda: p.get_message(ignore_subscribe_messages=True, timeout=IDLE)), p.close

    return {"sub": sub, "is_msg": is_message, "troubles": lambda: (0, 0)}


def glide_pubsub_config(glide: Any, channel: str) -> Any:
    conf = glide.GlideClientConfiguration
    subs = conf.PubSubSubscriptions(channels_and_patterns={conf.PubSubChannelModes.Exact: {channel}}, callback=None, context=None)
    return conf([glide.NodeAddress(HOST, int(PORT))], request_timeout=5000, pubsub_subscriptions=subs)


def w7_glide_sync() -> dict:
    import glide_sync as glide

    def sub(channel: str) -> tuple:
        c = glide.GlideClient.create(glide_pubsub_config(glide, channel))

        def nxt() -> Any:
            # get_pubsub_message() has no timeout (a lost message would hang the run): poll.
            m = c.try_get_pubsub_message()
            if m is None:
                time.sleep(0.0001)
            return m

        return nxt, c.close

    return {"sub": sub, "is_msg": lambda m: True, "troubles": lambda: (0, 0),
            "note": "valkey-glide-sync: try_get_pubsub_message() polled, 0.1 ms sleep when its queue is empty "
                    "(get_pubsub_message() waits without a timeout)"}


async def w7_redbridge_async() -> dict:
    import redbridge.asyncio

    r = redbridge.asyncio.Redis.from_url(URL)
    subs: list = []

    async def sub(channel: str) -> tuple:
        p = r.pubsub(ignore_subscribe_messages=True)
        await p.subscribe(channel)
        subs.append(p)
        return (lambda: p.get_message(ignore_subscribe_messages=True, timeout=IDLE)), p.aclose

    def troubles() -> tuple[int, int]:
        return r.stats().get("pubsub_dropped", 0), sum(p.gaps for p in subs)

    return {"sub": sub, "is_msg": is_message, "troubles": troubles}


async def w7_redis_py_async() -> dict:
    import redis.asyncio

    r = redis.asyncio.Redis.from_url(URL)

    async def sub(channel: str) -> tuple:
        p = r.pubsub(ignore_subscribe_messages=True)
        await p.subscribe(channel)
        return (lambda: p.get_message(ignore_subscribe_messages=True, timeout=IDLE)), p.aclose

    return {"sub": sub, "is_msg": is_message, "troubles": lambda: (0, 0)}


async def w7_glide_async() -> dict:
    import glide

    async def sub(channel: str) -> tuple:
        c = await glide.GlideClient.create(glide_pubsub_config(glide, channel))
        pending: Any = None

        async def nxt() -> Any:
            # What is queued without a wait; else one get_pubsub_message() kept across
            # waits (never cancelled, so no message is lost to a timeout).
            nonlocal pending
            if pending is None:
                m = c.try_get_pubsub_message()
                if m is not None:
                    return m
                pending = asyncio.ensure_future(c.get_pubsub_message())
            done, _ = await asyncio.wait({pending}, timeout=IDLE)
            if not done:
                return None
            m, pending = pending.result(), None
            return m

        return nxt, c.close

    return {"sub": sub, "is_msg": lambda m: True, "troubles": lambda: (0, 0)}


def version(*dists: str) -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as v

    out = []
    for d in dists:
        try:
            out.append(f"{d} {v(d)}")
        except PackageNotFoundError:
            pass
    return ", ".join(out)


VERSIONS = {"redbridge": ("redbridge",), "redis-py": ("redis", "hiredis"), "glide-sync": ("valkey-glide-sync",),
            "redbridge.asyncio": ("redbridge",), "redis.asyncio": ("redis", "hiredis"), "glide": ("valkey-glide",)}


# --- clients --------------------------------------------------------------------------
# Each opener imports its library (timed), connects (timed, one PING) and returns the
# callables the workloads need; "cached" is a second client with its client-side cache on,
# or None where the library has none that runs here.


def open_redbridge() -> dict:
    import redbridge

    c = redbridge.Redis.from_url(URL)
    c.ping()
    scan_c = redbridge.Redis.from_url(SCAN_URL)

    def batch(n: int) -> list:
        p = c.pipeline(transaction=False)
        for _ in range(n):
            p.get(KEY)
        return p.execute()

    def cached() -> Callable[[str], Any]:
        return redbridge.Redis.from_url(URL, cache_config=redbridge.CacheConfig()).get

    return {"get": c.get, "batch": batch, "scan": lambda: sum(1 for _ in scan_c.scan_iter(count=1000)), "cached": cached}


def open_redis_py() -> dict:
    import redis

    c = redis.Redis.from_url(URL, max_connections=64)
    c.ping()
    scan_c = redis.Redis.from_url(SCAN_URL)

    def batch(n: int) -> list:
        p = c.pipeline(transaction=False)
        for _ in range(n):
            p.get(KEY)
        return p.execute()

    def cached() -> Callable[[str], Any]:
        from redis.cache import CacheConfig

        cc = redis.Redis.from_url(URL, protocol=3, cache_config=CacheConfig())
        cc.ping()
        return cc.get

    return {"get": c.get, "batch": batch, "scan": lambda: sum(1 for _ in scan_c.scan_iter(count=1000)), "cached": cached}


def glide_config(glide: Any, db: int, cache: bool = False) -> Any:
    extra = {}
    if cache:
        extra["client_side_cache"] = glide.ClientSideCache(
            cache_id="bench", max_cache_kb=1024, entry_ttl_ms=0, server_assisted=True
        )
    return glide.GlideClientConfiguration(
        [glide.NodeAddress(HOST, int(PORT))], database_id=db, request_timeout=5000, **extra
    )


def open_glide_sync() -> dict:
    import glide_sync as glide

    c = glide.GlideClient.create(glide_config(glide, 0))
    c.ping()
    scan_c = glide.GlideClient.create(glide_config(glide, 1))

    def batch(n: int) -> list:
        b = glide.Batch(is_atomic=False)
        for _ in range(n):
            b.get(KEY)
        return c.exec(b, raise_on_error=True) or []

    def scan() -> int:
        cursor, n = b"0", 0
        while True:
            cursor, keys = scan_c.scan(cursor, count=1000)
            n += len(keys)
            if cursor in (b"0", "0"):
                return n

    def cached() -> Callable[[str], Any]:
        return glide.GlideClient.create(glide_config(glide, 0, cache=True)).get

    return {"get": c.get, "batch": batch, "scan": scan, "cached": cached}


async def open_redbridge_async() -> dict:
    import redbridge.asyncio

    c = redbridge.asyncio.Redis.from_url(URL)
    await c.ping()
    scan_c = redbridge.asyncio.Redis.from_url(SCAN_URL)

    async def batch(n: int) -> list:
        p = c.pipeline(transaction=False)
        for _ in range(n):
            p.get(KEY)
        return await p.execute()

    async def scan() -> int:
        return len([k async for k in scan_c.scan_iter(count=1000)])

    async def cached() -> Callable[[str], Any]:
        return redbridge.asyncio.Redis.from_url(URL, cache_config=redbridge.CacheConfig()).get

    return {"get": c.get, "batch": batch, "scan": scan, "cached": cached}


async def open_redis_py_async() -> dict:
    import redis.asyncio

    c = redis.asyncio.Redis.from_url(URL, max_connections=64)
    await c.ping()
    scan_c = redis.asyncio.Redis.from_url(SCAN_URL)

    async def batch(n: int) -> list:
        p = c.pipeline(transaction=False)
        for _ in range(n):
            p.get(KEY)
        return await p.execute()

    async def scan() -> int:
        return len([k async for k in scan_c.scan_iter(count=1000)])

    return {"get": c.get, "batch": batch, "scan": scan, "cached": None}


async def open_glide_async() -> dict:
    import glide

    c = await glide.GlideClient.create(glide_config(glide, 0))
    await c.ping()
    scan_c = await glide.GlideClient.create(glide_config(glide, 1))

    async def batch(n: int) -> list:
        b = glide.Batch(is_atomic=False)
        for _ in range(n):
            b.get(KEY)
        return await c.exec(b, raise_on_error=True) or []

    async def scan() -> int:
        cursor, n = b"0", 0
        while True:
            cursor, keys = await scan_c.scan(cursor, count=1000)
            n += len(keys)
            if cursor in (b"0", "0"):
                return n

    async def cached() -> Callable[[str], Any]:
        return (await glide.GlideClient.create(glide_config(glide, 0, cache=True))).get

    return {"get": c.get, "batch": batch, "scan": scan, "cached": cached}


def open_redbridge_cluster() -> dict:
    import redbridge

    c = redbridge.RedisCluster.from_url(URL)
    c.ping()

    def batch(n: int) -> list:
        p = c.pipeline()
        for _ in range(n):
            p.get(KEY)
        return p.execute()

    return {"get": c.get, "batch": batch, "scan": lambda: sum(1 for _ in c.scan_iter(count=1000))}


def open_redis_py_cluster() -> dict:
    import redis.cluster

    c = redis.cluster.RedisCluster.from_url(URL, max_connections=64)
    c.ping()

    def batch(n: int) -> list:
        p = c.pipeline()
        for _ in range(n):
            p.get(KEY)
        return p.execute()

    return {"get": c.get, "batch": batch, "scan": lambda: sum(1 for _ in c.scan_iter(count=1000))}


def glide_cluster_config(glide: Any) -> Any:
    return glide.GlideClusterClientConfiguration([glide.NodeAddress(HOST, int(PORT))], request_timeout=5000)


def open_glide_sync_cluster() -> dict:
    import glide_sync as glide

    c = glide.GlideClusterClient.create(glide_cluster_config(glide))
    c.ping()

    def batch(n: int) -> list:
        b = glide.ClusterBatch(is_atomic=False)
        for _ in range(n):
            b.get(KEY)
        return c.exec(b, raise_on_error=True) or []

    def scan() -> int:
        cursor, n = glide.ClusterScanCursor(), 0
        while not cursor.is_finished():
            cursor, keys = c.scan(cursor, count=1000)
            n += len(keys)
        return n

    return {"get": c.get, "batch": batch, "scan": scan}


async def open_redbridge_async_cluster() -> dict:
    import redbridge.asyncio

    c = redbridge.asyncio.RedisCluster.from_url(URL)
    await c.ping()

    async def batch(n: int) -> list:
        p = c.pipeline()
        for _ in range(n):
            p.get(KEY)
        return await p.execute()

    async def scan() -> int:
        return len([k async for k in c.scan_iter(count=1000)])

    return {"get": c.get, "batch": batch, "scan": scan}


async def open_redis_py_async_cluster() -> dict:
    import redis.asyncio.cluster

    c = redis.asyncio.cluster.RedisCluster.from_url(URL)
    await c.ping()

    async def batch(n: int) -> list:
        p = c.pipeline()
        for _ in range(n):
            p.get(KEY)
        return await p.execute()

    async def scan() -> int:
        return len([k async for k in c.scan_iter(count=1000)])

    return {"get": c.get, "batch": batch, "scan": scan}


async def open_glide_async_cluster() -> dict:
    import glide

    c = await glide.GlideClusterClient.create(glide_cluster_config(glide))
    await c.ping()

    async def batch(n: int) -> list:
        b = glide.ClusterBatch(is_atomic=False)
        for _ in range(n):
            b.get(KEY)
        return await c.exec(b, raise_on_error=True) or []

    async def scan() -> int:
        cursor, n = glide.ClusterScanCursor(), 0
        while not cursor.is_finished():
            cursor, keys = await c.scan(cursor, count=1000)
            n += len(keys)
        return n

    return {"get": c.get, "batch": batch, "scan": scan}


SYNC = {"redbridge": open_redbridge, "redis-py": open_redis_py, "glide-sync": open_glide_sync}
if CLUSTER:
    SYNC = {"redbridge": open_redbridge_cluster, "redis-py": open_redis_py_cluster, "glide-sync": open_glide_sync_cluster}
ASYNC = {"redbridge.asyncio": open_redbridge_async, "redis.asyncio": open_redis_py_async, "glide": open_glide_async}
if CLUSTER:
    ASYNC = {"redbridge.asyncio": open_redbridge_async_cluster, "redis.asyncio": open_redis_py_async_cluster, "glide": open_glide_async_cluster}


W7_SYNC = {"redbridge": w7_redbridge, "redis-py": w7_redis_py, "glide-sync": w7_glide_sync}
W7_ASYNC = {"redbridge.asyncio": w7_redbridge_async, "redis.asyncio": w7_redis_py_async, "glide": w7_glide_async}


def run_sync(name: str) -> dict:
    t0 = time.perf_counter()
    c = SYNC[name]()
    connected = time.perf_counter()
    out: dict = {"startup_ms": (connected - t0) * 1000, "rss_mb": rss_mb(), "version": version(*VERSIONS[name])}
    res: dict = {}
    out["results"] = res
    if "W1-W6" in WANT:
        res |= {"W1": sync_w1(c["get"]), "W2": sync_w2(c["batch"]), "W3": sync_w3(c["get"]), "W4": sync_w4(c["scan"])}
        if CLUSTER:
            return out
        try:
            res["W5"] = sync_w5(c["cached"]())
        except Exception as e:  # noqa: BLE001 - the anchor's cache does not run here; say why
            res["W5"] = {"error": f"{type(e).__name__}: {e}"[:160]}
        res["W6"] = sync_w6(c["get"])
    out["peak_rss_mb"] = rss_mb("VmHWM")  # W1-W6's peak; W7's subscribers come after
    # redis-py's own OpenTelemetry is measured once, in the venv with hiredis (the one
    # without it has no OpenTelemetry SDK).
    anchor_otel = name == "redis-py" and find_spec("opentelemetry") is not None
    if "OTEL" in WANT and (name == "redbridge" or anchor_otel) and not CLUSTER:
        res |= sync_otel(c["get"], anchor=name == "redis-py")
    if "W7" in WANT and not CLUSTER:
        kit = W7_SYNC[name]()
        res |= sync_w7(kit)
        if "note" in kit:
            out["w7_note"] = kit["note"]
    return out


async def run_async(name: str) -> dict:
    t0 = time.perf_counter()
    c = await ASYNC[name]()
    connected = time.perf_counter()
    out: dict = {"startup_ms": (connected - t0) * 1000, "rss_mb": rss_mb(), "version": version(*VERSIONS[name])}
    res: dict = {}
    out["results"] = res
    if "W1-W6" in WANT:
        res |= {
            "W1": await async_w1(c["get"]),
            "W2": await async_w2(c["batch"]),
            "W3": await async_w3(c["get"]),
            "W4": await async_w4(c["scan"]),
        }
        if CLUSTER:
            return out
        if c["cached"] is None:
            res["W5"] = {"error": "no client-side cache in this client"}
        else:
            try:
                res["W5"] = await async_w5(await c["cached"]())
            except Exception as e:  # noqa: BLE001
                res["W5"] = {"error": f"{type(e).__name__}: {e}"[:160]}
        res["W6"] = await async_w6(c["get"])
    out["peak_rss_mb"] = rss_mb("VmHWM")
    if "OTEL" in WANT and name == "redbridge.asyncio" and not CLUSTER:
        res |= await async_otel(c["get"])
    if "W7" in WANT and not CLUSTER:
        kit = await W7_ASYNC[name]()
        res |= await async_w7(kit)
        if "note" in kit:
            out["w7_note"] = kit["note"]
    return out


def main() -> None:
    name = sys.argv[1]
    out = asyncio.run(run_async(name)) if name in ASYNC else run_sync(name)
    out.setdefault("peak_rss_mb", rss_mb("VmHWM"))
    print(json.dumps(out))
    sys.stdout.flush()
    os._exit(0)  # some anchors keep non-daemon threads; the figures are out


if __name__ == "__main__":
    main()
