"""redbridge.observability through the OpenTelemetry SDK's in-memory reader, against real
servers: redis-py 8.1's metric and attribute names with the right values for GETs, a
failing command, a retry, a timeout, a reconnect, the cache, a pool wait and pub/sub;
never a password, key or argument value in an attribute."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from typing import Any, Dict, Iterator, List, Tuple

import pytest

pytest.importorskip("opentelemetry.sdk.metrics")

from opentelemetry import metrics  # noqa: E402
from opentelemetry.sdk.metrics import (  # noqa: E402
    Counter,
    Histogram,
    MeterProvider,
    ObservableGauge,
    UpDownCounter,
)
from opentelemetry.sdk.metrics.export import AggregationTemporality, InMemoryMetricReader  # noqa: E402
from opentelemetry import trace  # noqa: E402
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter  # noqa: E402

import redbridge  # noqa: E402
import redbridge.asyncio  # noqa: E402
from redbridge import exceptions  # noqa: E402
from redbridge.observability import (  # noqa: E402
    MetricGroup,
    ObservabilityInstance,
    OTelConfig,
    TelemetryOption,
    get_observability_instance,
    reset_observability_instance,
)

from .conftest import start_server, stop_server  # noqa: E402

DELTA = AggregationTemporality.DELTA
READER = InMemoryMetricReader(
    preferred_temporality={Counter: DELTA, Histogram: DELTA, UpDownCounter: DELTA, ObservableGauge: DELTA}
)
ALL = (
    MetricGroup.COMMAND
    | MetricGroup.RESILIENCY
    | MetricGroup.CONNECTION_BASIC
    | MetricGroup.CONNECTION_ADVANCED
    | MetricGroup.CSC
    | MetricGroup.PUBSUB
)

Point = Tuple[Dict[str, Any], Any]
SPANS = InMemorySpanExporter()


@pytest.fixture(scope="module", autouse=True)
def otel() -> Iterator[None]:
    metrics.set_meter_provider(MeterProvider(metric_readers=[READER]))
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(SPANS))
    trace.set_tracer_provider(provider)
    get_observability_instance().init(OTelConfig(metric_groups=ALL))
    yield
    reset_observability_instance()


def collect() -> Dict[str, List[Point]]:
    """Every data point recorded since the last collection, by metric name."""
    out: Dict[str, List[Point]] = {}
    data = READER.get_metrics_data()
    for rm in data.resource_metrics if data else []:
        for sm in rm.scope_metrics:
            for m in sm.metrics:
                for p in m.data.data_points:
                    out.setdefault(m.name, []).append((dict(p.attributes or {}), p))
    return out


def only(points: Dict[str, List[Point]], name: str, **match: Any) -> List[Point]:
    """The points of `name` whose attributes include `match` (dots as `__`)."""
    want = {k.replace("__", "."): v for k, v in match.items()}
    return [(a, p) for a, p in points.get(name, []) if all(a.get(k) == v for k, v in want.items())]


def total(points: List[Point]) -> float:
    return sum(p.count if hasattr(p, "count") else p.value for _, p in points)


@pytest.fixture
def srv() -> Iterator[Dict[str, Any]]:
    info = start_server("--requirepass", "hunter2-secret")
    yield info
    stop_server(info)


def client(srv: Dict[str, Any], **kw: Any) -> redbridge.Redis:
    return redbridge.Redis(host="127.0.0.1", port=srv["port"], password="hunter2-secret", **kw)


def control(srv: Dict[str, Any]) -> redbridge.Redis:
    return client(srv, client_name="control")


def test_gets_record_operation_duration_with_semantic_attributes(srv: Dict[str, Any]) -> None:
    r = client(srv, db=2)
    r.set("obs:k", "argument-value-42")
    collect()
    for _ in range(3):
        assert r.get("obs:k") == b"argument-value-42"
    pts = only(collect(), "db.client.operation.duration", db__operation__name="GET")
    assert len(pts) == 1, pts
    attrs, p = pts[0]
    assert p.count == 3 and 0 < p.sum < 1
    assert attrs == {
        "db.system": "redis",
        "redis.client.library": f"redbridge:v{redbridge.__version__}",
        "server.address": "127.0.0.1",
        "server.port": srv["port"],
        "db.namespace": "2",
        "db.operation.name": "GET",
        "network.peer.address": "127.0.0.1",
        "network.peer.port": srv["port"],
    }


def test_asyncio_operations_and_cache_hits(srv: Dict[str, Any]) -> None:
    async def main() -> None:
        r = redbridge.asyncio.Redis(
            host="127.0.0.1", port=srv["port"], password="hunter2-secret",
            cache_config=redbridge.CacheConfig(max_size=10),
        )
        await r.set("obs:a", "v")
        collect()
        await asyncio.gather(*(r.get("obs:a") for _ in range(5)))
        await r.aclose()

    asyncio.run(main())
    pts = collect()
    (attrs, p), = only(pts, "db.client.operation.duration", db__operation__name="GET")
    assert p.count == 5 and attrs["server.port"] == srv["port"]
    hits = total(only(pts, "redis.client.csc.requests", redis__client__csc__result="hit"))
    misses = total(only(pts, "redis.client.csc.requests", redis__client__csc__result="miss"))
    assert hits + misses == 5 and misses >= 1, (hits, misses)


def test_a_failing_command_records_error_type(srv: Dict[str, Any]) -> None:
    r = client(srv)
    r.set("obs:s", "text")
    collect()
    with pytest.raises(exceptions.ResponseError):
        r.incr("obs:s")
    pts = collect()
    (attrs, p), = only(pts, "db.client.operation.duration", db__operation__name="INCRBY")  # redis-py sends INCRBY
    assert p.count == 1
    assert attrs["error.type"] == "ResponseError"
    assert attrs["db.response.status_code"] == "ERR"
    assert attrs["redis.client.errors.category"] == "server"
    errs = only(pts, "redis.client.errors", error__type="ResponseError")
    assert total(errs) == 1 and errs[0][0]["redis.client.errors.internal"] is False


def test_a_retried_command_and_the_reconnect(srv: Dict[str, Any]) -> None:
    r = client(srv, client_name="obs-retry", protocol=2)
    r.set("obs:r", "v")
    collect()
    killed = control(srv).execute_command("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")
    assert killed >= 1
    assert r.get("obs:r") == b"v"
    pts = collect()
    (attrs, p), = only(pts, "db.client.operation.duration", db__operation__name="GET")
    assert attrs["redis.client.operation.retry_attempts"] >= 1
    assert "error.type" not in attrs, "it succeeded in the end"
    assert attrs["redis.client.operation.retry_attempts"] == r.stats()["retries"]
    # The direct connection died under the GET and was opened again.
    closed = only(pts, "redis.client.connection.closed", redis__client__connection__close__reason="error")
    assert total(closed) >= 1 and closed[0][0]["error.type"] == "ConnectionError"
    created = pts["db.client.connection.create_time"]
    assert total(created) >= 1 and all(0 < p.sum < 1 for _, p in created)
    assert all(a["db.client.connection.pool.name"].startswith(f"127.0.0.1:{srv['port']}_") for a, _ in created)


def test_a_timeout(srv: Dict[str, Any]) -> None:
    r = client(srv, socket_timeout=0.1)
    r.ping()
    collect()
    with pytest.raises(exceptions.TimeoutError):
        r.execute_command("DEBUG", "SLEEP", 0.3)
    time.sleep(0.3)
    pts = collect()
    (attrs, p), = only(pts, "db.client.operation.duration", db__operation__name="DEBUG")
    assert attrs["error.type"] == "TimeoutError"
    assert attrs["redis.client.errors.category"] == "network"
    assert 0.1 <= p.sum < 0.3
    assert total(only(pts, "redis.client.errors", error__type="TimeoutError")) == 1
    assert total(only(pts, "redis.client.connection.closed", error__type="TimeoutError")) == 1


def _asyncio_timeout(srv: Dict[str, Any]) -> Dict[str, List[Point]]:
    """What an asyncio client records when DEBUG SLEEP outlasts its 100 ms timeout."""

    async def main() -> None:
        r = redbridge.asyncio.Redis(
            host="127.0.0.1", port=srv["port"], password="hunter2-secret", socket_timeout=0.1
        )
        await r.ping()
        # The loop's own connection opens with the first request, which waits for it:
        # the DEBUG SLEEP must go on it (at most 5 s of PINGs until one did).
        deadline = time.monotonic() + 5
        while r.stats()["direct_requests"] == 0:
            assert time.monotonic() < deadline, "no request went on the loop's connection"
            await r.ping()
        collect()
        with pytest.raises(exceptions.TimeoutError):
            await r.execute_command("DEBUG", "SLEEP", 0.3)
        await asyncio.sleep(0.3)
        await r.aclose()

    asyncio.run(main())
    return collect()


def test_an_asyncio_timeout(srv: Dict[str, Any]) -> None:
    pts = _asyncio_timeout(srv)
    (attrs, p), = only(pts, "db.client.operation.duration", db__operation__name="DEBUG")
    assert attrs["error.type"] == "TimeoutError"
    assert attrs["redis.client.errors.category"] == "network"
    assert 0.1 <= p.sum < 0.3
    assert total(only(pts, "redis.client.errors", error__type="TimeoutError")) == 1


def test_the_connection_an_asyncio_timeout_closes_is_reported(srv: Dict[str, Any]) -> None:
    pts = _asyncio_timeout(srv)
    assert total(only(pts, "redis.client.connection.closed", error__type="TimeoutError")) == 1


def test_a_cache_hit(srv: Dict[str, Any]) -> None:
    r = client(srv, cache_config=redbridge.CacheConfig(max_size=100))
    ctl = control(srv)
    ctl.set("obs:warm", "v")
    ctl.set("obs:c", "v")
    # Until the tracked connection is up, reads are misses that are not stored.
    deadline = time.monotonic() + 5
    while r.stats()["cache_entries"] == 0 and time.monotonic() < deadline:
        r.get("obs:warm")
    collect()
    assert r.get("obs:c") == b"v"
    assert r.get("obs:c") == b"v"
    pts = collect()
    assert total(only(pts, "redis.client.csc.requests", redis__client__csc__result="miss")) == 1
    assert total(only(pts, "redis.client.csc.requests", redis__client__csc__result="hit")) == 1
    (_, p), = only(pts, "db.client.operation.duration", db__operation__name="GET")
    assert p.count == 2, "the hit is an operation too"
    ctl.set("obs:c", "w")
    deadline = time.monotonic() + 5
    evicted = 0.0
    while evicted < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
        evicted += total(only(collect(), "redis.client.csc.evictions", redis__client__csc__reason="invalidation"))
    assert evicted == 1


def test_a_pool_wait(srv: Dict[str, Any]) -> None:
    r = client(srv, mode="pooled", max_connections=1, pool_timeout=0.2)
    r.ping()
    made = collect()["db.client.connection.create_time"]
    assert total(made) == 1, "the pool's one connection (pooled mode has no other)"
    with r.pipeline() as pipe:
        pipe.watch("obs:w")  # holds the pool's one connection
        with pytest.raises(exceptions.PoolTimeoutError):
            r.get("obs:w")
    pts = collect()
    waits = pts["db.client.connection.wait_time"]
    assert max(p.max for _, p in waits) >= 0.2
    assert total(pts["db.client.connection.timeouts"]) == 1
    (attrs, _), = only(pts, "db.client.operation.duration", db__operation__name="GET")
    assert attrs["error.type"] == "PoolTimeoutError"


def test_pubsub_messages(srv: Dict[str, Any]) -> None:
    r = client(srv)
    p = r.pubsub()
    p.subscribe("obs:chan")
    assert p.get_message(timeout=1.0) is not None  # the confirmation
    collect()
    for _ in range(3):
        r.publish("obs:chan", "payload-secret")
    got = [p.get_message(timeout=1.0) for _ in range(3)]
    assert all(m is not None and m["data"] == b"payload-secret" for m in got)
    p.close()
    pts = collect()
    assert total(only(pts, "redis.client.pubsub.messages", redis__client__pubsub__message__direction="receive")) == 3
    pub = only(pts, "redis.client.pubsub.messages", redis__client__pubsub__message__direction="publish")
    assert total(pub) == 3 and pub[0][0]["redis.client.pubsub.sharded"] is False


def test_a_forked_child_records_too(srv: Dict[str, Any]) -> None:
    r = client(srv)
    r.ping()
    collect()
    pid = os.fork()
    if pid == 0:  # the child: its own recording thread records its GETs
        code = 1
        try:
            child = client(srv)
            child.get("obs:fork")
            deadline = time.monotonic() + 5
            while _redbridge_queued():  # until the child's recording thread takes them
                if time.monotonic() > deadline:
                    os._exit(2)
                time.sleep(0.01)
            pts = collect()
            code = 0 if only(pts, "db.client.operation.duration", db__operation__name="GET") else 3
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    r.ping()
    (_, p), = only(collect(), "db.client.operation.duration", db__operation__name="PING")
    assert p.count == 1, "the parent records on"


def _redbridge_queued() -> bool:
    """Whether events wait in the core's queue (the recording thread empties it)."""
    from redbridge import _redbridge

    return _redbridge.observe_wait(0.0)


def test_no_password_key_or_argument_in_any_attribute(srv: Dict[str, Any]) -> None:
    r = client(srv, cache_config=redbridge.CacheConfig(max_size=10))
    r.set("obs:secret-key", "argument-value-42")
    r.get("obs:secret-key")
    r.get("obs:secret-key")
    with pytest.raises(exceptions.ResponseError):
        r.incr("obs:secret-key")
    r.publish("obs:secret-chan", "argument-value-42")
    with pytest.raises(exceptions.AuthenticationError):
        redbridge.Redis(host="127.0.0.1", port=srv["port"], password="wrong-hunter3").ping()
    with pytest.raises(exceptions.ResponseError):
        r.execute_command("NOTACMD/argument-value-in-name")
    pts = collect()
    assert pts, "something was recorded"
    text = repr([(name, a) for name, ps in pts.items() for a, _ in ps])
    for secret in ("hunter2", "hunter3", "argument-value", "secret-key", "secret-chan"):
        assert secret.lower() not in text.lower(), (secret, text)


def test_missing_opentelemetry_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "opentelemetry", None)
    with pytest.raises(ImportError, match="pip install opentelemetry-api"):
        ObservabilityInstance().init(OTelConfig())


def test_config_follows_redis_py() -> None:
    assert OTelConfig().metric_groups == MetricGroup.CONNECTION_BASIC | MetricGroup.RESILIENCY
    assert OTelConfig(metric_groups=[MetricGroup.COMMAND, MetricGroup.CSC]).metric_groups == (
        MetricGroup.COMMAND | MetricGroup.CSC
    )
    cfg = OTelConfig(exclude_commands=["ping"])
    assert not cfg.should_track_command("PING") and cfg.should_track_command("GET")
    assert OTelConfig(include_commands=["GET"]).should_track_command("get")
    assert get_observability_instance().is_enabled()


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Spans on (TRACES next to METRICS) for one test, then back to metrics only."""
    get_observability_instance().init(
        OTelConfig(enabled_telemetry=[TelemetryOption.METRICS, TelemetryOption.TRACES], metric_groups=ALL)
    )
    SPANS.clear()
    yield SPANS
    get_observability_instance().init(OTelConfig(metric_groups=ALL))


def test_spans_are_off_by_default(srv: Dict[str, Any]) -> None:
    SPANS.clear()
    r = client(srv)
    r.set("obs:k", "v")
    r.get("obs:k")
    assert SPANS.get_finished_spans() == ()
    assert OTelConfig().enabled_telemetry == TelemetryOption.METRICS


def test_a_get_makes_a_client_span_named_by_the_command(srv: Dict[str, Any], spans: InMemorySpanExporter) -> None:
    r = client(srv, db=3)
    tracer = trace.get_tracer("test")
    with tracer.start_as_current_span("request") as parent:
        r.set("obs:k", "argument-value-42")
        assert r.get("obs:k") == b"argument-value-42"
    got = [s for s in spans.get_finished_spans() if s.name != "request"]
    assert [s.name for s in got] == ["SET", "GET"]
    span = got[1]
    assert span.kind == trace.SpanKind.CLIENT
    assert span.parent is not None and span.parent.span_id == parent.get_span_context().span_id
    assert dict(span.attributes) == {
        "db.system": "redis",
        "db.namespace": "3",
        "server.address": "127.0.0.1",
        "server.port": srv["port"],
        "db.operation.name": "GET",
    }
    assert span.status.status_code == trace.StatusCode.UNSET
    assert span.end_time > span.start_time


def test_a_failing_command_span_has_error_type(srv: Dict[str, Any], spans: InMemorySpanExporter) -> None:
    r = client(srv)
    r.set("obs:s", "text")
    with pytest.raises(exceptions.ResponseError):
        r.incr("obs:s")
    span = spans.get_finished_spans()[-1]
    assert span.name == "INCRBY"
    assert span.status.status_code == trace.StatusCode.ERROR
    assert span.attributes["error.type"] == "ResponseError"
    assert span.attributes["db.response.status_code"] == "ERR"
    assert not span.events, "no exception event: its message may quote arguments"


def test_asyncio_and_pipeline_spans(srv: Dict[str, Any], spans: InMemorySpanExporter) -> None:
    async def main() -> None:
        r = redbridge.asyncio.Redis.from_url(f"redis://:hunter2-secret@127.0.0.1:{srv['port']}/4")
        await r.set("obs:a", "v")
        async with r.pipeline(transaction=False) as p:
            p.get("obs:a").get("obs:a")
            await p.execute()
        await r.aclose()

    asyncio.run(main())
    r = client(srv)
    with r.pipeline() as p:
        p.set("obs:b", "argument-value-42").get("obs:b")
        p.execute()
    by_name = {s.name: s for s in spans.get_finished_spans()}
    assert set(by_name) >= {"SET", "PIPELINE", "MULTI"}, by_name
    assert by_name["PIPELINE"].attributes["db.operation.batch.size"] == 2
    assert by_name["PIPELINE"].attributes["db.namespace"] == "4"
    assert by_name["PIPELINE"].attributes["server.port"] == srv["port"]
    assert by_name["MULTI"].attributes["db.operation.batch.size"] == 2


def test_no_password_or_argument_in_any_span(srv: Dict[str, Any], spans: InMemorySpanExporter) -> None:
    r = redbridge.Redis.from_url(f"redis://default:hunter2-secret@127.0.0.1:{srv['port']}/0")
    r.set("obs:secret-key", "argument-value-42")
    r.get("obs:secret-key")
    with pytest.raises(exceptions.ResponseError):
        r.execute_command("SET", "obs:secret-key", "argument-value-42", "argument-value-bad")
    with pytest.raises(exceptions.AuthenticationError):
        redbridge.Redis(host="127.0.0.1", port=srv["port"], password="wrong-hunter3").ping()
    # An argument passed inside the command name: the span is named UNKNOWN, not by it.
    with pytest.raises(exceptions.ResponseError):
        r.execute_command("NOTACMD/argument-value-in-name")
    got = spans.get_finished_spans()
    assert len(got) >= 5
    assert "UNKNOWN" in [s.name for s in got]
    text = repr([(s.name, dict(s.attributes), s.status.description, list(s.events)) for s in got])
    for secret in ("hunter2", "hunter3", "argument-value", "secret-key"):
        assert secret.lower() not in text.lower(), (secret, text)


def pool_name(r: Any, srv: Dict[str, Any]) -> str:
    return f"127.0.0.1:{srv['port']}_{r.stats()['client_id']}"


def test_connection_counts_idle_and_used_are_observed(srv: Dict[str, Any]) -> None:
    r = client(srv, mode="pooled", max_connections=2)
    r.ping()
    name = pool_name(r, srv)

    def counts() -> Dict[str, float]:
        pts = only(collect(), "db.client.connection.count", db__client__connection__pool__name=name)
        return {a["db.client.connection.state"]: p.value for a, p in pts}

    assert counts() == {"idle": 1, "used": 0}, "pooled mode: its one connection, idle"
    with r.pipeline() as pipe:
        pipe.watch("obs:w")  # leases it
        assert counts() == {"idle": 0, "used": 1}
    deadline = time.monotonic() + 5
    while counts() != {"idle": 1, "used": 0} and time.monotonic() < deadline:
        time.sleep(0.05)  # the lease goes back on the runtime, a moment later
    assert counts() == {"idle": 1, "used": 0}, "given back"
    m = client(srv)
    m.get("obs:w")
    name, r_name = pool_name(m, srv), name
    deadline = time.monotonic() + 5
    while counts() != {"idle": 0, "used": 1} and time.monotonic() < deadline:
        time.sleep(0.05)  # its connection's event comes from the runtime
    assert counts() == {"idle": 0, "used": 1}, "the multiplexed client's connection"
    name = r_name
    r.close()
    m.close()
    left = only(collect(), "db.client.connection.count", db__client__connection__pool__name=name)
    assert left == [], "a closed client is no longer observed"


def test_cache_items_are_observed(srv: Dict[str, Any]) -> None:
    r = client(srv, cache_config=redbridge.CacheConfig(max_size=10))
    keys = ("obs:i1", "obs:i2", "obs:i3")
    for k in keys:
        r.set(k, "argument-value-42")
    deadline = time.monotonic() + 5
    while r.stats()["cache_entries"] < 3 and time.monotonic() < deadline:
        for k in keys:  # a read is cached once the tracked connection is up
            r.get(k)
    pts = only(collect(), "redis.client.csc.items", db__client__connection__pool__name=pool_name(r, srv))
    assert [p.value for _, p in pts] == [3]
    assert pts[0][0]["db.system"] == "redis"
    plain = client(srv)
    plain.ping()
    assert only(collect(), "redis.client.csc.items", db__client__connection__pool__name=pool_name(plain, srv)) == []
