"""pytest plugin for redis-py's own test suite (issue #16): the fixture switch and the
per-test record that tests/redis-py-suite/run.py counts.

Loaded with ``-p redbridge_switch`` (this folder on PYTHONPATH) in both runs:

REDBRIDGE_SWITCH=1
    The suite's client factories build redbridge clients instead of redis-py ones. Two
    seams, both in the suite's conftests and nowhere else:

    * tests/conftest.py ``_get_client(cls, request, ...)`` (behind the sync ``r``,
      ``decoded_r``, ``r2``, ``r_timeout``… fixtures and the tests that call it): when
      ``cls`` is redis-py's ``Redis``, it gets a factory instead; the suite's own code still
      parses the URL, merges the keyword arguments and builds its ``ConnectionPool``
      (which never connects), then calls ``cls(connection_pool=pool)``: the factory makes a
      ``redbridge.Redis`` from ``pool.connection_kwargs``.
    * tests/test_asyncio/conftest.py ``create_redis`` (behind the asyncio ``r``,
      ``decoded_r``, ``r2`` and the tests that call ``create_redis``): its default
      ``cls=redis.Redis`` is read from the conftest's global ``redis`` (``redis.asyncio``)
      each time; that global becomes a view of ``redis.asyncio`` whose ``Redis`` is the
      factory of ``redbridge.asyncio.Redis``.

    The fixtures' own lifecycle calls that redbridge has no counterpart for (``client()``
    for a single-connection client: redbridge's one client is that already;
    ``initialize()``; ``connection_pool.disconnect()`` after ``close()``) are answered
    only when the caller is one of those two conftests; anywhere else (a test) they raise
    AttributeError as redbridge does. What redis-py's ConnectionPool adds to
    connection_kwargs by itself (orig_host_address, maint_notifications_*, …) is not passed
    on. Keyword arguments redbridge refuses with TypeError ("unexpected keyword argument")
    are dropped and counted; any other refusal (e.g. ValueError for encoding='utf-16')
    fails the test. Nothing else is patched: tests that build redis-py objects themselves
    (``redis.Redis(...)``, ``Pipeline(connection_pool=mock)``) still use redis-py, and the
    record says which tests never built a redbridge client. Exceptions are switched as
    a user switching imports switches them (``redis.exceptions`` → ``redbridge.exceptions``):
    every class both packages name (but the lock errors, which redis-py's own Lock class,
    used by the lock tests, raises) is redbridge's in ``redis.exceptions`` and ``redis``,
    so the suite's ``pytest.raises(ResponseError)`` expects what redbridge raises.

REDBRIDGE_SWITCH_OUT=DIR
    Writes DIR/results.jsonl (one line per test: file, nodeid, outcome, phase, reason,
    switched: redbridge clients it built; in_raises: a redbridge exception escaped a test
    that uses pytest.raises) and DIR/meta.json (versions, collected count, seams
    installed, kwargs dropped, shims used).
"""

from __future__ import annotations

import inspect
import json
import os
import re
import sys
import time
import types
from collections import Counter
from typing import Any, Dict, List, Optional

import pytest

SWITCH = os.environ.get("REDBRIDGE_SWITCH") == "1"
OUT = os.environ.get("REDBRIDGE_SWITCH_OUT")
SYNC_CONFTEST = "tests.conftest"
ASYNC_CONFTEST = "tests.test_asyncio.conftest"
SEAM_CALLERS = (SYNC_CONFTEST, ASYNC_CONFTEST)

def _switch_exceptions() -> List[str]:
    """redis.exceptions' classes that redbridge.exceptions also names become redbridge's
    (in ``redis`` and ``redis.asyncio`` too), for the test modules imported after this."""
    import redis
    import redis.asyncio
    import redis.exceptions
    import redbridge.exceptions as ours

    switched = []
    # The lock tests pass redis-py's own Lock class (lock_class=), which raises redis-py's
    # lock errors: those two stay redis-py's.
    keep = {"LockError", "LockNotOwnedError"}
    for name in ours.__all__:
        if hasattr(redis.exceptions, name) and name not in keep:
            setattr(redis.exceptions, name, getattr(ours, name))
            # The asyncio tests import redis.asyncio as redis and name redis.ResponseError.
            for module in (redis, redis.asyncio):
                if hasattr(module, name):
                    setattr(module, name, getattr(ours, name))
            switched.append(name)
    return switched


_built = 0  # redbridge clients made by the factories
_dropped: Counter = Counter()  # keyword argument name -> times dropped
_shims: Counter = Counter()  # lifecycle shim -> times answered to a conftest
_not_switched: Counter = Counter()  # _get_client classes left to redis-py
_seams: List[str] = []
_pool_internal: set = set()  # redis-py pool internals never passed on
_meta: Dict[str, Any] = {"switch": SWITCH, "started": time.time()}
_reports: Dict[str, Dict[str, Any]] = {}
_out_file = None


# ---------------------------------------------------------------- the factories

_UNEXPECTED = (
    re.compile(r"unexpected keyword argument\(s\): (.+)$"),  # redbridge's own message
    re.compile(r"unexpected keyword argument '([^']+)'"),  # Python's
)


def _unexpected(message: str) -> List[str]:
    for pattern in _UNEXPECTED:
        m = pattern.search(message)
        if m:
            return [n.strip() for n in m.group(1).split(",")]
    return []


def _build(cls: type, kwargs: Dict[str, Any]) -> Any:
    """cls(**kwargs), dropping (and counting) what it refuses as an unknown argument."""
    global _built
    kwargs = dict(kwargs)
    while True:
        try:
            client = cls(**kwargs)
        except TypeError as e:
            names = [n for n in _unexpected(str(e)) if n in kwargs]
            if not names:
                raise
            for n in names:
                _dropped[n] += 1
                del kwargs[n]
            continue
        _built += 1
        return client


_internal: Dict[type, frozenset] = {}


def _pool_internals(pool: Any) -> frozenset:
    """What redis-py's ConnectionPool adds to connection_kwargs on its own (orig_host_address,
    maint_notifications_*, …): its internals, not arguments a caller gave."""
    kind = type(pool)
    if kind not in _internal:
        _internal[kind] = frozenset(kind(host="localhost", port=6379).connection_kwargs) - {"host", "port"}
        _pool_internal.update(_internal[kind])
    return _internal[kind]


def _kwargs_of(pool: Any, kwargs: Dict[str, Any]) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    if pool is not None:
        skip = _pool_internals(pool)
        out.update((k, v) for k, v in pool.connection_kwargs.items() if k not in skip)
        if "SSL" in getattr(pool, "connection_class", type).__name__:
            out["ssl"] = True
    out.update(kwargs)
    return out


class _SyncPoolStub:
    def disconnect(self, *args: Any, **kwargs: Any) -> None:
        return None


class _AsyncPoolStub:
    async def disconnect(self, *args: Any, **kwargs: Any) -> None:
        return None


def _switched_class(base: type, is_async: bool) -> type:
    """base with the conftests' lifecycle calls answered (only to them). Named "Redis",
    so failure messages read as they would for redbridge.Redis."""

    def shim(self: Any, name: str) -> Any:
        if name == "client":
            return lambda: self
        if name == "initialize" and is_async:
            async def initialize() -> Any:
                return self
            return initialize
        if name == "connection_pool":
            return _AsyncPoolStub() if is_async else _SyncPoolStub()
        return None

    def __getattr__(self: Any, name: str) -> Any:
        # Reached only when redbridge itself has no such attribute.
        if sys._getframe(1).f_globals.get("__name__") in SEAM_CALLERS:
            value = shim(self, name)
            if value is not None:
                _shims[name] += 1
                return value
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    return type("Redis", (base,), {"__getattr__": __getattr__, "__module__": base.__module__,
                                   "__qualname__": "Redis"})


_sync_cls: Optional[type] = None
_async_cls: Optional[type] = None


def sync_factory(connection_pool: Any = None, **kwargs: Any) -> Any:
    global _sync_cls
    if _sync_cls is None:
        import redbridge
        _sync_cls = _switched_class(redbridge.Redis, is_async=False)
    return _build(_sync_cls, _kwargs_of(connection_pool, kwargs))


def async_factory(connection_pool: Any = None, **kwargs: Any) -> Any:
    global _async_cls
    if _async_cls is None:
        import redbridge.asyncio
        _async_cls = _switched_class(redbridge.asyncio.Redis, is_async=True)
    return _build(_async_cls, _kwargs_of(connection_pool, kwargs))


# ---------------------------------------------------------------- the seams

def _is_redbridge(r: Any) -> bool:
    return any(cls is not None and isinstance(r, cls) for cls in (_sync_cls, _async_cls))


def _install_sync(mod: types.ModuleType) -> None:
    import redis.client

    original = mod._get_client
    real = redis.client.Redis

    def _get_client(cls: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        if cls is real or cls is sync_factory:
            if not mod.REDIS_INFO.get("cluster_enabled"):
                cls = sync_factory
        else:
            _not_switched[getattr(cls, "__qualname__", repr(cls))] += 1
        return original(cls, request, *args, **kwargs)

    _get_client.__wrapped__ = original  # type: ignore[attr-defined]
    mod._get_client = _get_client
    _seams.append(f"{SYNC_CONFTEST}._get_client")

    # Which reply shapes a test expects depends on the protocol the client was made with,
    # which the conftest reads from redis-py's pool; a redbridge client says it itself.
    raw_protocol = mod._get_raw_protocol

    def _get_raw_protocol(r: Any) -> Any:
        if _is_redbridge(r):
            return r._make[1].get("protocol")
        return raw_protocol(r)

    mod._get_raw_protocol = _get_raw_protocol
    _seams.append(f"{SYNC_CONFTEST}._get_raw_protocol")


class _AsyncRedisView(types.ModuleType):
    """redis.asyncio, but Redis is the redbridge factory (for the asyncio conftest only)."""

    def __init__(self, real: types.ModuleType) -> None:
        super().__init__(real.__name__, real.__doc__)
        self.__dict__["_real"] = real
        self.__dict__["Redis"] = async_factory

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__dict__["_real"], name)


def _install_async(mod: types.ModuleType) -> None:
    import redis.asyncio

    if getattr(mod, "redis", None) is not redis.asyncio:
        raise pytest.UsageError(
            f"redbridge switch: {ASYNC_CONFTEST} has no global `redis` bound to redis.asyncio; "
            "the suite changed, the asyncio seam needs a new look")
    mod.redis = _AsyncRedisView(redis.asyncio)
    _seams.append(f"{ASYNC_CONFTEST}.redis.Redis (create_redis)")


@pytest.hookimpl(tryfirst=True)
def pytest_plugin_registered(plugin: Any, manager: Any) -> None:
    if not SWITCH:
        return
    name = getattr(plugin, "__name__", None)
    if name == SYNC_CONFTEST and not getattr(plugin._get_client, "__wrapped__", None):
        _install_sync(plugin)
    elif name == ASYNC_CONFTEST and not isinstance(getattr(plugin, "redis", None), _AsyncRedisView):
        _install_async(plugin)


# ---------------------------------------------------------------- the record

@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: Any) -> None:
    global _out_file
    import redis

    _meta["redis_py"] = {"version": redis.__version__, "file": redis.__file__}
    try:
        import redbridge
        _meta["redbridge"] = {"version": redbridge.__version__, "file": redbridge.__file__}
    except Exception as e:  # the baseline does not need it
        _meta["redbridge"] = {"error": f"{type(e).__name__}: {e}"}
    info = getattr(session.config, "REDIS_INFO", {}) or {}
    _meta["server_version"] = info.get("version")
    if SWITCH:
        # After the conftests' own session set-up (which runs redis-py's client and catches
        # its classes), before the test modules are imported.
        _meta["exceptions_switched"] = _switch_exceptions()
    if OUT:
        os.makedirs(OUT, exist_ok=True)
        _out_file = open(os.path.join(OUT, "results.jsonl"), "w", buffering=1)


def pytest_collection_finish(session: Any) -> None:
    _meta["collected"] = len(session.items)
    if SWITCH:
        wanted = {SYNC_CONFTEST: any("test_asyncio" not in i.nodeid for i in session.items),
                  ASYNC_CONFTEST: any("test_asyncio" in i.nodeid for i in session.items)}
        missing = [m for m, used in wanted.items() if used and not any(s.startswith(m + ".") for s in _seams)]
        if missing:
            pytest.exit(f"redbridge switch: no seam installed in {', '.join(missing)}", returncode=3)
    _write_meta()


def pytest_runtest_logreport(report: Any) -> None:
    _reports.setdefault(report.nodeid, {})[report.when] = report


def _reason(report: Any) -> str:
    longrepr = report.longrepr
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None:
        text = crash.message
    elif isinstance(longrepr, tuple) and len(longrepr) == 3:
        text = str(longrepr[2])
    else:
        text = str(longrepr)
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first[:240]


def _classify(phases: Dict[str, Any]):
    setup, call, teardown = phases.get("setup"), phases.get("call"), phases.get("teardown")
    if setup is not None and setup.skipped:
        return "skipped", "setup", _reason(setup)
    if setup is not None and setup.failed:
        return "error", "setup", _reason(setup)
    if call is not None:
        if hasattr(call, "wasxfail"):
            return ("xfailed" if call.skipped else "xpassed"), "call", ""
        if call.skipped:
            return "skipped", "call", _reason(call)
        if call.failed:
            return "failed", "call", _reason(call)
    if teardown is not None and teardown.failed:
        return "error", "teardown", _reason(teardown)
    if call is None:
        return "error", "setup", "no call phase"
    return "passed", "call", ""


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: Any, nextitem: Any):
    before = _built
    yield
    phases = _reports.pop(item.nodeid, {})
    outcome, phase, reason = _classify(phases)
    record = {"file": item.nodeid.split("::", 1)[0], "nodeid": item.nodeid, "outcome": outcome,
              "phase": phase, "reason": reason, "switched": _built - before}
    if outcome in ("failed", "error") and reason.startswith("redbridge.exceptions."):
        # A redbridge error escaping a test that uses pytest.raises: most likely the test
        # expected redis-py's class (redbridge's exceptions are not subclasses of redis-py's).
        try:
            record["in_raises"] = "raises(" in inspect.getsource(item.function)
        except (OSError, TypeError, AttributeError):
            pass
    if _out_file is not None:
        _out_file.write(json.dumps(record) + "\n")


def _write_meta() -> None:
    if not OUT:
        return
    _meta.update(seams=_seams, clients_built=_built, dropped_kwargs=dict(_dropped),
                 shims_used=dict(_shims), not_switched=dict(_not_switched),
                 pool_internal_kwargs=sorted(_pool_internal))
    with open(os.path.join(OUT, "meta.json"), "w") as f:
        json.dump(_meta, f, indent=1, sort_keys=True)


def pytest_sessionfinish(session: Any, exitstatus: Any) -> None:
    _meta["exitstatus"] = int(exitstatus)
    _meta["finished"] = time.time()
    _write_meta()
    if _out_file is not None:
        _out_file.close()
