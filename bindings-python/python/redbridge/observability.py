"""OpenTelemetry metrics for every redbridge client, with redis-py 8.1's API and names.

    from opentelemetry import metrics
    from opentelemetry.sdk.metrics import MeterProvider
    metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))

    from redbridge.observability import MetricGroup, OTelConfig, get_observability_instance
    get_observability_instance().init(OTelConfig(metric_groups=MetricGroup.COMMAND | MetricGroup.CSC))

The core reports what happens (operations, connections, pool waits, the client-side
cache, pub/sub) into a queue without taking the GIL; a thread of this module records
them through the application's global MeterProvider, so its SDK, views and exporters
apply. A reader's collection and ``force_flush()`` record what is queued first.

Metric and attribute names are redis-py's (``db.client.operation.duration`` with
``db.system``, ``db.operation.name``, ``db.namespace``, ``server.address``,
``server.port``, ``error.type``...), so its dashboards work unchanged. Commands are named,
never their arguments; channel and stream names are never recorded.

Spans are optional and off by default: ``OTelConfig(enabled_telemetry=[TelemetryOption.METRICS,
TelemetryOption.TRACES])`` (redis-py 8.1 has only METRICS and announces traces as a later
telemetry option; TRACES is that option here) makes one CLIENT span per command or pipeline
through the global TracerProvider, in the caller's current context, named by the command
(``GET``, ``PIPELINE``, ``MULTI``) with the database client semantic conventions
(``db.system``, ``db.operation.name``, ``db.namespace``, ``server.address``,
``server.port``, ``error.type``; ``db.operation.batch.size`` for a pipeline). No argument,
key, error message or password is ever put on a span. While TRACES is off nothing is
wrapped: the command path is the same as without this module.

``opentelemetry-api`` is an optional dependency: ``pip install opentelemetry-api``.
"""

from __future__ import annotations

import functools
import os
import threading
from enum import IntFlag
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Set, Tuple, Union
from urllib.parse import urlsplit

from . import _redbridge
from ._redbridge import __version__

__all__ = [
    "MetricGroup",
    "ObservabilityInstance",
    "OTelConfig",
    "OTelProviderManager",
    "TelemetryOption",
    "get_observability_instance",
    "reset_observability_instance",
]

_LIBRARY = f"redbridge:v{__version__}"
_METER_NAME = "redbridge"
# Events queued at most between two drains (then dropped and counted).
_QUEUE_CAPACITY = 100_000
_BATCH = 4096
# How long the recording thread lets events gather before recording them.
_DRAIN_INTERVAL = 0.1


class MetricGroup(IntFlag):
    """Groups of metrics that can be enabled, with redis-py's values."""

    RESILIENCY = 1
    CONNECTION_BASIC = 2
    CONNECTION_ADVANCED = 4
    COMMAND = 8
    CSC = 16
    STREAMING = 32
    PUBSUB = 64


class TelemetryOption(IntFlag):
    """What to export: METRICS (redis-py's value), TRACES (spans; not in redis-py 8.1)."""

    METRICS = 1
    TRACES = 2


def _operation_buckets() -> List[float]:
    return [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]


def _histogram_buckets() -> List[float]:
    return [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10]


def _flags(
    value: Union[None, IntFlag, Iterable[IntFlag]], default: IntFlag, kind: Any
) -> Any:
    if value is None:
        return default
    if isinstance(value, IntFlag):
        return kind(value)
    out = kind(0)
    for v in value:
        out |= v
    return out


class OTelConfig:
    """What to record. ``metric_groups`` takes a flag (``MetricGroup.COMMAND | ...``)
    or a list of flags, as redis-py does; the default is CONNECTION_BASIC | RESILIENCY.
    ``include_commands`` / ``exclude_commands`` filter ``db.client.operation.duration``
    by command name. Channel and stream names are never recorded, whatever
    ``hide_pubsub_channel_names`` / ``hide_stream_names`` say."""

    DEFAULT_TELEMETRY = TelemetryOption.METRICS
    DEFAULT_METRIC_GROUPS = MetricGroup.CONNECTION_BASIC | MetricGroup.RESILIENCY

    def __init__(
        self,
        enabled_telemetry: Union[None, TelemetryOption, Iterable[TelemetryOption]] = None,
        metric_groups: Union[None, MetricGroup, Iterable[MetricGroup]] = None,
        include_commands: Optional[Iterable[str]] = None,
        exclude_commands: Optional[Iterable[str]] = None,
        hide_pubsub_channel_names: bool = False,
        hide_stream_names: bool = False,
        buckets_operation_duration: Sequence[float] = _operation_buckets(),
        buckets_stream_processing_duration: Sequence[float] = _histogram_buckets(),
        buckets_connection_create_time: Sequence[float] = _histogram_buckets(),
        buckets_connection_wait_time: Sequence[float] = _histogram_buckets(),
    ) -> None:
        self.enabled_telemetry: TelemetryOption = _flags(
            enabled_telemetry, self.DEFAULT_TELEMETRY, TelemetryOption
        )
        self.metric_groups: MetricGroup = _flags(
            metric_groups, self.DEFAULT_METRIC_GROUPS, MetricGroup
        )
        self.include_commands: Optional[Set[str]] = (
            {c.upper() for c in include_commands} if include_commands else None
        )
        self.exclude_commands: Set[str] = {c.upper() for c in exclude_commands or ()}
        self.hide_pubsub_channel_names = hide_pubsub_channel_names
        self.hide_stream_names = hide_stream_names
        self.buckets_operation_duration = buckets_operation_duration
        self.buckets_stream_processing_duration = buckets_stream_processing_duration
        self.buckets_connection_create_time = buckets_connection_create_time
        self.buckets_connection_wait_time = buckets_connection_wait_time

    def is_enabled(self) -> bool:
        """Whether anything is to be exported."""
        return bool(self.enabled_telemetry)

    def should_track_command(self, command_name: str) -> bool:
        """Whether the operation duration of ``command_name`` is recorded."""
        name = command_name.upper()
        if self.include_commands is not None:
            return name in self.include_commands
        return name not in self.exclude_commands

    def __repr__(self) -> str:
        return f"OTelConfig(enabled_telemetry={self.enabled_telemetry!r}, metric_groups={self.metric_groups!r})"


def _import_metrics() -> Any:
    try:
        from opentelemetry import metrics
    except ImportError:
        raise ImportError(
            "redbridge.observability needs the OpenTelemetry API: pip install opentelemetry-api "
            "(and an SDK with an exporter, e.g. opentelemetry-sdk)"
        ) from None
    return metrics


# Error categories as redis-py's exceptions report them (redis.client.errors.category).
_CATEGORY = {"connection": "network", "timeout": "network", "authentication": "auth"}
# redis-py's close reasons; a pooled connection reaped after idle_timeout is the client's
# own intended close.
_CLOSE_REASON = {
    "application_close": "application_close", "idle": "application_close",
    "error": "error", "timeout": "error",
}


# Every instrument: its group, kind, name, unit, description, and for a histogram the
# OTelConfig attribute holding its buckets. Names and units are redis-py's, except
# redbridge.client.pubsub.dropped (redis-py drops nothing).
_INSTRUMENTS = [
    (MetricGroup.COMMAND, "histogram", "db.client.operation.duration", "s",
     "Command execution duration", "buckets_operation_duration"),
    (MetricGroup.RESILIENCY, "counter", "redis.client.errors", "{error}",
     "Errors returned to the application or handled inside the client", None),
    (MetricGroup.CONNECTION_BASIC, "histogram", "db.client.connection.create_time", "s",
     "Time to create a new connection", "buckets_connection_create_time"),
    (MetricGroup.CONNECTION_ADVANCED, "histogram", "db.client.connection.wait_time", "s",
     "Time to obtain a connection from the pool", "buckets_connection_wait_time"),
    (MetricGroup.CONNECTION_ADVANCED, "counter", "db.client.connection.timeouts", "{timeout}",
     "Leases from the pool that gave up waiting", None),
    (MetricGroup.CONNECTION_ADVANCED, "counter", "redis.client.connection.closed", "{connection}",
     "Connections closed", None),
    (MetricGroup.PUBSUB, "counter", "redis.client.pubsub.messages", "{message}",
     "Pub/sub messages published and received", None),
    (MetricGroup.PUBSUB, "counter", "redbridge.client.pubsub.dropped", "{message}",
     "Pub/sub messages received but dropped: a subscriber's queue was full", None),
    (MetricGroup.CSC, "counter", "redis.client.csc.requests", "{request}",
     "Reads the client-side cache was asked for", None),
    (MetricGroup.CSC, "counter", "redis.client.csc.evictions", "{eviction}",
     "Entries the client-side cache dropped", None),
]


def _observe(method: str) -> Callable[[Any], List[Any]]:
    """An observable instrument's callback: the current recorder's ``method`` (after
    recording what is queued), nothing while none records."""

    def callback(options: Any) -> List[Any]:
        instance = _instance
        manager = instance.get_provider_manager() if instance is not None else None
        recorder = manager._recorder if manager is not None else None
        if manager is None or recorder is None:
            return []
        manager.drain()
        result: List[Any] = getattr(recorder, method)(options)
        return result

    return callback


class _Recorder:
    """Turns the core's event tuples into OpenTelemetry measurements."""

    def __init__(self, meter: Any, config: OTelConfig) -> None:
        self.config = config
        # The enabled instruments by name; a disabled one is simply absent.
        self.m: Dict[str, Any] = {}
        # Per operation key number (see record_batch), what to record.
        self._keys: Dict[int, Tuple[Any, ...]] = {}
        # Per client number, its shared and direct connections open now (the pool's own
        # are read from the client at each collection).
        self._open: Dict[int, int] = {}
        self._observable(meter, config)
        for group, kind, name, unit, description, buckets in _INSTRUMENTS:
            if group not in config.metric_groups:
                continue
            make = getattr(meter, f"create_{kind}")
            if buckets is None:
                self.m[name] = make(name, unit=unit, description=description)
                continue
            try:
                self.m[name] = make(
                    name, unit=unit, description=description,
                    explicit_bucket_boundaries_advisory=list(getattr(config, buckets)),
                )
            except TypeError:  # an API older than the bucket advisory
                self.m[name] = make(name, unit=unit, description=description)

    def _observable(self, meter: Any, config: OTelConfig) -> None:
        """redis-py's observed instruments: ``db.client.connection.count`` by state (idle:
        the pool's idle connections; used: those leased plus the shared and direct ones)
        and ``redis.client.csc.items`` (entries in the client-side cache)."""
        # The callbacks find the current recorder when called: a second init's instruments
        # of the same name are the first's (the SDK keeps one per name), with its callbacks.
        if MetricGroup.CONNECTION_BASIC in config.metric_groups:
            meter.create_observable_up_down_counter(
                "db.client.connection.count", callbacks=[_observe("_observe_connections")],
                unit="{connection}", description="Number of connections currently in the pool by state",
            )
        if MetricGroup.CSC in config.metric_groups:
            meter.create_observable_gauge(
                "redis.client.csc.items", callbacks=[_observe("_observe_cache")],
                unit="{item}", description="The total number of cached responses currently stored",
            )

    @staticmethod
    def _live() -> Iterable[Tuple[Dict[str, int], Tuple[str, int, int]]]:
        """Each open client's counters and (host, port, db); closed ones are skipped
        (reading them would open them again)."""
        from . import _base

        for client in list(getattr(_base, "_tracked", ())):  # every client made, weakly
            native = getattr(client, "_native", None)
            if native is None or isinstance(native, _base._Reopen):
                continue
            try:
                stats = dict(native.stats())
            except Exception:  # closed meanwhile
                continue
            server = _server_attributes(client)
            place = (server["server.address"], int(server.get("server.port", 0)), int(server["db.namespace"]))
            yield stats, place

    def _observe_connections(self, _options: Any) -> List[Any]:
        from opentelemetry.metrics import Observation

        out = []
        for stats, place in self._live():
            pool = self._pool(stats["client_id"], place)
            used = stats.get("pool_in_use", 0) + self._open.get(stats["client_id"], 0)
            out.append(Observation(stats.get("pool_idle", 0), {**pool, "db.client.connection.state": "idle"}))
            out.append(Observation(used, {**pool, "db.client.connection.state": "used"}))
        return out

    def _observe_cache(self, _options: Any) -> List[Any]:
        from opentelemetry.metrics import Observation

        return [
            Observation(stats["cache_entries"], self._pool(stats["client_id"], place))
            for stats, place in self._live()
            if "cache_entries" in stats
        ]

    def _add(self, name: str, value: float, attrs: Dict[str, Any]) -> None:
        """Adds to (or records in) the instrument `name`, if its group is enabled."""
        instrument = self.m.get(name)
        if instrument is None:
            return
        if hasattr(instrument, "record"):
            instrument.record(value, attributes=attrs)
        else:
            instrument.add(value, attributes=attrs)

    @staticmethod
    def _base(place: Optional[Tuple[str, int, int]] = None) -> Dict[str, Any]:
        attrs: Dict[str, Any] = {"db.system": "redis", "redis.client.library": _LIBRARY}
        if place is not None:
            attrs["server.address"], attrs["server.port"] = place[0], place[1]
        return attrs

    @staticmethod
    def _pool(client: int, place: Tuple[str, int, int]) -> Dict[str, Any]:
        attrs = _Recorder._base()
        attrs["db.client.connection.pool.name"] = f"{place[0]}:{place[1]}_{client}"
        return attrs

    @staticmethod
    def _error(attrs: Dict[str, Any], error_type: str, kind: str, code: Optional[str]) -> None:
        attrs["error.type"] = error_type
        attrs["db.response.status_code"] = code or "error"
        attrs["redis.client.errors.category"] = _CATEGORY.get(kind, "server")

    def record_batch(self, batch: Tuple[List[Any], List[Any], List[Any], List[Any]]) -> int:
        """Records one batch of ``_redbridge.observe_take`` (see bindings-python/src/observe.rs);
        returns how many events it held."""
        new_keys, ops, others, counts = batch
        for key in new_keys:
            self._keys[key[0]] = self._operation_key(*key[1:])
        done = 0
        for key_id, seconds in ops:
            done += len(seconds)
            plan = self._keys.get(key_id)
            if plan is None:
                continue
            duration, attrs, errors, error_attrs, published, publish_attrs = plan
            if duration is not None:
                record = duration.record
                for value in seconds:
                    record(value, attrs)
            if errors is not None:
                errors.add(len(seconds), error_attrs)
            if published is not None:
                published.add(len(seconds), publish_attrs)
        for event in others:
            self._other(event)
        for event in counts:
            self._count(event)
        return done + len(others) + len(counts)

    def _other(self, event: Tuple[Any, ...]) -> None:
        if event[0] == "connection":
            self._connection(*event[1:])
        else:
            _, client, place, seconds, timed_out = event
            self._add("db.client.connection.wait_time", seconds, self._pool(client, place))
            if timed_out:
                self._add("db.client.connection.timeouts", 1, self._pool(client, place))

    def _count(self, event: Tuple[Any, ...]) -> None:
        what, _client, outcome, count = event
        if what == "cache":
            if outcome == "invalidation":
                attrs = {**self._base(), "redis.client.csc.reason": "invalidation"}
                self._add("redis.client.csc.evictions", count, attrs)
            else:
                attrs = {**self._base(), "redis.client.csc.result": outcome}
                self._add("redis.client.csc.requests", count, attrs)
        elif outcome == "received":
            attrs = {**self._base(), "redis.client.pubsub.message.direction": "receive"}
            self._add("redis.client.pubsub.messages", count, attrs)
        else:
            self._add("redbridge.client.pubsub.dropped", count, self._base())

    def _operation_key(
        self, client: int, name: str, place: Tuple[str, int, int], error_type: Optional[str],
        kind: Optional[str], code: Optional[str], retries: int, served: str, blocking: bool,
    ) -> Tuple[Any, ...]:
        """What to record for each operation of one key, built once: the duration
        histogram and its attributes, the error counter and its attributes, the pub/sub
        counter and its attributes (each None when not recorded)."""
        # What redis-py puts on both the duration and the error counter.
        common = self._base(place)
        common["network.peer.address"], common["network.peer.port"] = place[0], place[1]
        if retries > 0:
            common["redis.client.operation.retry_attempts"] = retries
        errors = error_attrs = None
        if error_type is not None and kind is not None:
            self._error(common, error_type, kind, code)
            errors = self.m.get("redis.client.errors")
            error_attrs = {**common, "redis.client.errors.internal": False}
        duration = attrs = None
        if self.config.should_track_command(name):
            duration = self.m.get("db.client.operation.duration")
            attrs = {**common, "db.namespace": str(place[2]), "db.operation.name": name}
            if blocking:
                attrs["redis.client.operation.blocking"] = True
        published = publish_attrs = None
        if error_type is None and name in ("PUBLISH", "SPUBLISH"):
            published = self.m.get("redis.client.pubsub.messages")
            publish_attrs = {
                **self._base(),
                "redis.client.pubsub.message.direction": "publish",
                "redis.client.pubsub.sharded": name == "SPUBLISH",
            }
        return duration, attrs, errors, error_attrs, published, publish_attrs

    def _connection(
        self, client: int, what: str, role: str, place: Tuple[str, int, int], seconds: float,
        detail: Optional[str],
    ) -> None:
        pool = self._pool(client, place)
        counted = role != "pooled"  # the pool's own are read from the client
        if what == "created":
            self._add("db.client.connection.create_time", seconds, pool)
            if counted:
                self._open[client] = self._open.get(client, 0) + 1
        elif what == "closed":
            if counted:
                left = self._open.get(client, 0) - 1
                if left > 0:
                    self._open[client] = left
                else:
                    self._open.pop(client, None)
            attrs = self._base()
            attrs["redis.client.connection.close.reason"] = _CLOSE_REASON.get(detail or "", "error")
            if detail in ("timeout", "error"):
                attrs["error.type"] = "TimeoutError" if detail == "timeout" else "ConnectionError"
            self._add("redis.client.connection.closed", 1, attrs)
        elif what == "failed":
            attrs = self._base(place)
            attrs["error.type"] = detail or "ConnectionError"
            attrs["db.response.status_code"] = "error"
            attrs["redis.client.errors.category"] = "network"
            attrs["redis.client.errors.internal"] = True
            self._add("redis.client.errors", 1, attrs)


def _import_trace() -> Any:
    try:
        from opentelemetry import trace
    except ImportError:
        raise ImportError(
            "redbridge.observability needs the OpenTelemetry API for traces: pip install opentelemetry-api "
            "(and an SDK with an exporter, e.g. opentelemetry-sdk)"
        ) from None
    return trace


_SERVER_ATTR = "_redbridge_span_server"


def _server_attributes(client: Any) -> Dict[str, Any]:
    """A client's span attributes that never change (system, namespace, server), from the
    options it was made with; kept on the client. Never its password: a URL's user
    part is not read."""
    attrs: Optional[Dict[str, Any]] = client.__dict__.get(_SERVER_ATTR)
    if attrs is not None:
        return attrs
    made: Tuple[Any, Dict[str, Any]] = getattr(client, "_make", (None, {}))
    url, options = made
    host, port = options.get("host") or "localhost", options.get("port") or 6379
    db, path = options.get("db"), options.get("unix_socket_path")
    if isinstance(url, bytes):
        url = url.decode("utf-8", "replace")
    if isinstance(url, str):
        u = urlsplit(url)
        if u.scheme == "unix":
            path = u.path
        else:
            host, port = u.hostname or host, u.port or port
            if db is None and u.path.strip("/").isdigit():
                db = int(u.path.strip("/"))
    attrs = {"db.system": "redis", "db.namespace": str(db or 0)}
    if path:
        attrs["server.address"] = str(path)
    else:
        attrs["server.address"], attrs["server.port"] = str(host), int(port)
    try:
        client.__dict__[_SERVER_ATTR] = attrs
    except (AttributeError, TypeError):
        pass
    return attrs


def _span_name(args: Tuple[Any, ...]) -> str:
    """A command's span name: the core's name for its first word (an unknown command's
    only when it looks like a command name, so an argument passed inside it is not shown)."""
    if not args:
        return ""
    first = args[0]
    if isinstance(first, str):
        first = first.encode("utf-8", "surrogatepass")
    elif not isinstance(first, (bytes, bytearray, memoryview)):
        first = str(first).encode()
    return str(_redbridge.command_word(bytes(first)))


class _Tracing:
    """Spans around commands and pipelines: the wrappers ``_install`` puts on the
    clients' classes while TRACES is on, and takes off again."""

    def __init__(self, tracer: Any, config: OTelConfig) -> None:
        trace = _import_trace()
        self.tracer = tracer
        self.config = config
        self.kind = trace.SpanKind.CLIENT
        self.error_status = trace.Status(trace.StatusCode.ERROR)
        # (class, attribute, what its class dict held before)
        self._replaced: List[Tuple[type, str, Any]] = []

    def start(self, client: Any, name: str, batch: int = 0) -> Any:
        """A started span (not current yet) for ``name`` on ``client``."""
        attrs = dict(_server_attributes(client))
        attrs["db.operation.name"] = name
        if batch:
            attrs["db.operation.batch.size"] = batch
        return self.tracer.start_span(name, kind=self.kind, attributes=attrs)

    def failed(self, span: Any, error: BaseException) -> None:
        """Marks ``span`` failed by ``error``'s class (and the server's error code);
        its message may quote arguments, so it is never recorded."""
        from .exceptions import ResponseError

        span.set_attribute("error.type", type(error).__name__)
        if isinstance(error, ResponseError) and error.args:
            code = str(error.args[0]).split(" ", 1)[0]
            if code.isupper() and code.isalpha():
                span.set_attribute("db.response.status_code", code)
        span.set_status(self.error_status)

    def _command(self, original: Callable[..., Any], is_async: bool) -> Callable[..., Any]:
        trace = _import_trace()
        use_span = trace.use_span
        tracks = self.config.should_track_command

        if is_async:
            @functools.wraps(original)
            async def execute_command(client: Any, *args: Any, **options: Any) -> Any:
                name = _span_name(args)
                if not tracks(name):
                    return await original(client, *args, **options)
                span = self.start(client, name)
                with use_span(span, end_on_exit=True, record_exception=False, set_status_on_exception=False):
                    try:
                        return await original(client, *args, **options)
                    except BaseException as error:
                        self.failed(span, error)
                        raise
            return execute_command

        @functools.wraps(original)
        def execute_command_sync(client: Any, *args: Any, **options: Any) -> Any:
            name = _span_name(args)
            if not tracks(name):
                return original(client, *args, **options)
            span = self.start(client, name)
            with use_span(span, end_on_exit=True, record_exception=False, set_status_on_exception=False):
                try:
                    return original(client, *args, **options)
                except BaseException as error:
                    self.failed(span, error)
                    raise
        return execute_command_sync

    def _pipeline(self, original: Callable[..., Any], is_async: bool) -> Callable[..., Any]:
        trace = _import_trace()
        use_span = trace.use_span
        tracks = self.config.should_track_command

        def begin(pipe: Any) -> Any:
            size = len(pipe._stack)
            name = "MULTI" if pipe.transaction or pipe._explicit else "PIPELINE"
            if not size or not tracks(name):
                return None
            return self.start(pipe._client, name, size)

        if is_async:
            @functools.wraps(original)
            async def execute(pipe: Any, *args: Any, **kwargs: Any) -> Any:
                span = begin(pipe)
                if span is None:
                    return await original(pipe, *args, **kwargs)
                with use_span(span, end_on_exit=True, record_exception=False, set_status_on_exception=False):
                    try:
                        return await original(pipe, *args, **kwargs)
                    except BaseException as error:
                        self.failed(span, error)
                        raise
            return execute

        @functools.wraps(original)
        def execute_sync(pipe: Any, *args: Any, **kwargs: Any) -> Any:
            span = begin(pipe)
            if span is None:
                return original(pipe, *args, **kwargs)
            with use_span(span, end_on_exit=True, record_exception=False, set_status_on_exception=False):
                try:
                    return original(pipe, *args, **kwargs)
                except BaseException as error:
                    self.failed(span, error)
                    raise
        return execute_sync

    def install(self) -> None:
        """Wraps the sync and asyncio clients' ``execute_command`` and pipelines'
        ``execute`` (subclasses, the cluster clients among them, inherit them)."""
        from . import client as sync_client
        from .asyncio import client as async_client

        for module, is_async in ((sync_client, False), (async_client, True)):
            for cls, attr, wrap in (
                (module.Redis, "execute_command", self._command),
                (module.Pipeline, "execute", self._pipeline),
            ):
                original = cls.__dict__[attr]
                setattr(cls, attr, wrap(original, is_async))
                self._replaced.append((cls, attr, original))

    def uninstall(self) -> None:
        """Puts the clients' own methods back."""
        while self._replaced:
            cls, attr, original = self._replaced.pop()
            setattr(cls, attr, original)


class OTelProviderManager:
    """The MeterProvider redbridge records into (the application's global one) and the
    thread that records the core's events."""

    def __init__(self, config: OTelConfig) -> None:
        self.config = config
        self._meter_provider: Any = None
        self._recorder: Optional[_Recorder] = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._tracing: Optional[_Tracing] = None

    def get_meter_provider(self) -> Any:
        """The global MeterProvider (``opentelemetry.metrics.get_meter_provider()``), or
        None when nothing is to be exported."""
        if not self.config.is_enabled():
            return None
        if self._meter_provider is None:
            self._meter_provider = _import_metrics().get_meter_provider()
        return self._meter_provider

    def start(self) -> None:
        """Creates the instruments and starts recording every client's events; with
        TRACES, wraps the clients' commands in spans."""
        if TelemetryOption.TRACES in self.config.enabled_telemetry:
            tracer = _import_trace().get_tracer(_METER_NAME, __version__)
            self._tracing = _Tracing(tracer, self.config)
            self._tracing.install()
        if TelemetryOption.METRICS not in self.config.enabled_telemetry:
            return
        provider = self.get_meter_provider()
        if provider is None:
            return
        meter = provider.get_meter(_METER_NAME, __version__)
        # A reader's collection records what is queued first (callbacks run in the order
        # they were made, before the synchronous instruments are read, so also before the
        # recorder's observed ones); the gauge itself reports nothing.
        meter.create_observable_gauge(
            "redbridge.observability.drain", callbacks=[self._drain_callback],
            description="(internal: records queued events before each collection)",
        )
        self._recorder = _Recorder(meter, self.config)
        _redbridge.observe_start(_QUEUE_CAPACITY)
        self._start_thread()

    def _start_thread(self) -> None:
        self._thread = threading.Thread(
            target=self._run, name="redbridge-observability", daemon=True
        )
        self._thread.start()

    def _after_fork_in_child(self) -> None:
        """A forked child has no recording thread, and its lock may have been held by
        the parent's: a new lock, a new thread (the core's queue carries on)."""
        self._lock = threading.Lock()
        if self._recorder is not None and not self._stop.is_set():
            self._start_thread()

    def _drain_callback(self, _options: Any) -> List[Any]:
        self.drain()
        return []

    def _run(self) -> None:
        while not self._stop.is_set():
            if _redbridge.observe_wait(_DRAIN_INTERVAL):
                self.drain()
                self._stop.wait(_DRAIN_INTERVAL)  # let the next batch gather

    def drain(self) -> int:
        """Records every gathered event now; returns how many. Taking and recording happen
        under one lock, so a drain that returns has seen everything gathered before it."""
        recorder = self._recorder
        if recorder is None:
            return 0
        done = 0
        with self._lock:
            while True:
                batch = _redbridge.observe_take(_BATCH)
                if batch is None:
                    return done
                try:
                    done += recorder.record_batch(batch)
                except Exception:  # never let telemetry break the application
                    done += 1

    def dropped(self) -> int:
        """Events dropped because the queue was full (none were lost otherwise)."""
        return _redbridge.observe_dropped()

    def shutdown(self, timeout_millis: int = 30000) -> bool:
        """Records what is queued, stops listening (and tracing) and flushes the provider."""
        if self._tracing is not None:
            self._tracing.uninstall()
            self._tracing = None
        self.drain()
        self._stop.set()
        _redbridge.observe_stop()
        if self._thread is not None:
            self._thread.join(timeout_millis / 1000)
        self._recorder = None
        return self.force_flush(timeout_millis)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Records what is queued and asks the provider to export now."""
        self.drain()
        flush = getattr(self._meter_provider, "force_flush", None)
        if flush is None:
            return True
        try:
            return bool(flush(timeout_millis))
        except Exception:
            return False


class ObservabilityInstance:
    """The process-wide switch: ``init`` once, every client (made before or after)
    records."""

    def __init__(self) -> None:
        self._provider_manager: Optional[OTelProviderManager] = None

    def init(self, config: OTelConfig) -> "ObservabilityInstance":
        """Starts recording with ``config``; a second call replaces the first."""
        if TelemetryOption.METRICS in config.enabled_telemetry:
            _import_metrics()
        if TelemetryOption.TRACES in config.enabled_telemetry:
            _import_trace()
        if self._provider_manager is not None:
            self._provider_manager.shutdown()
        manager = OTelProviderManager(config)
        manager.start()
        self._provider_manager = manager
        return self

    def is_enabled(self) -> bool:
        """Whether ``init`` ran with something to export."""
        m = self._provider_manager
        return m is not None and m.config.is_enabled()

    def get_provider_manager(self) -> Optional[OTelProviderManager]:
        """The manager ``init`` made, or None."""
        return self._provider_manager

    def shutdown(self, timeout_millis: int = 30000) -> bool:
        """Stops recording (what is queued is recorded first) and flushes."""
        m, self._provider_manager = self._provider_manager, None
        return True if m is None else m.shutdown(timeout_millis)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Records what is queued and asks the MeterProvider to export now."""
        m = self._provider_manager
        return True if m is None else m.force_flush(timeout_millis)


_instance: Optional[ObservabilityInstance] = None
_instance_lock = threading.Lock()


def get_observability_instance() -> ObservabilityInstance:
    """The process's ObservabilityInstance."""
    global _instance
    with _instance_lock:
        if _instance is None:
            _instance = ObservabilityInstance()
        return _instance


def _after_fork_in_child() -> None:
    global _instance_lock
    _instance_lock = threading.Lock()
    manager = _instance.get_provider_manager() if _instance is not None else None
    if manager is not None:
        manager._after_fork_in_child()


os.register_at_fork(after_in_child=_after_fork_in_child)


def reset_observability_instance() -> None:
    """Shuts the instance down and forgets it (tests, benchmarks)."""
    global _instance
    with _instance_lock:
        if _instance is not None:
            _instance.shutdown()
        _instance = None
