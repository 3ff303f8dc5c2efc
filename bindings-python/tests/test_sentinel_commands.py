"""redis-py's sentinel_* methods (SentinelCommands) against a real sentinel of the harness's
deployment (a primary, 2 replicas, 3 sentinels), compared with redis-py's on the same
sentinel: sync, asyncio and pipeline, decode_responses off and on, protocol none, 2 and 3
(redis-py's two families of reply shapes). Also client_list_iter against redis-py's."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest
import redis
import redis.asyncio

import redbridge
import redbridge.asyncio

from .conftest import sentinel_deployment

# A sentinel's reports change from one call to the next (times, offsets, a link's state
# right after start-up): compared are their keys, the types of their values (which fields
# are int, flags a str or a set, the is_* booleans) and these fields' values.
STABLE = ("name", "ip", "port", "quorum", "parallel-syncs", "role-reported")


def steady(v: Any) -> Any:
    """A reply with every report's unstable values replaced by their types."""
    if isinstance(v, dict):
        return {k: (steady(x) if k in STABLE or not isinstance(k, str) or isinstance(x, (dict, list)) else type(x).__name__)
                for k, x in v.items()}
    if isinstance(v, list):
        return sorted((steady(x) for x in v), key=repr)
    if isinstance(v, tuple):
        return tuple(steady(x) for x in v)
    return v


# (method, args): read-only calls first, then ones that change the sentinel (its own
# state only: a second service monitored and removed, a setting changed).
def steps(primary: int) -> List[Tuple[str, Tuple[Any, ...]]]:
    return [
        ("sentinel_get_master_addr_by_name", ("mymaster",)),
        ("sentinel_get_master_addr_by_name", ("nosuch",)),
        ("sentinel_master", ("mymaster",)),
        ("sentinel_master", ("nosuch",)),
        ("sentinel_masters", ()),
        ("sentinel_slaves", ("mymaster",)),
        ("sentinel_sentinels", ("mymaster",)),
        ("sentinel_ckquorum", ("mymaster",)),
        ("sentinel_flushconfig", ()),
        ("sentinel_set", ("mymaster", "quorum", 2)),
        ("sentinel_set", ("mymaster", "no-such-option", 1)),
        ("sentinel_monitor", ("other", "127.0.0.1", primary, 2)),
        ("sentinel_monitor", ("other", "127.0.0.1", primary, 2)),
        ("sentinel_reset", ("other",)),
        ("sentinel_remove", ("other",)),
        ("sentinel_remove", ("other",)),
        ("sentinel_failover", ("nosuch",)),
    ]


@pytest.fixture(scope="module")
def deployment() -> Iterator[Dict[str, Any]]:
    yield from sentinel_deployment()


def outcome(call: Any) -> Any:
    try:
        return ("ok", steady(call()))
    except redis.RedisError as e:  # redbridge's errors are redis-py's classes' namesakes
        return ("error", type(e).__name__)
    except redbridge.RedisError as e:
        return ("error", type(e).__name__)


def kwargs(protocol: Optional[int], decode: bool) -> Dict[str, Any]:
    return {"decode_responses": decode, **({} if protocol is None else {"protocol": protocol})}


@pytest.mark.parametrize("decode", [False, True])
@pytest.mark.parametrize("protocol", [None, 2, 3])
def test_sentinel_methods_match_redis_py(deployment: Dict[str, Any], protocol: Optional[int], decode: bool) -> None:
    port = deployment["sentinels"][0]
    theirs = redis.Redis(port=port, **kwargs(protocol, decode))
    ours = redbridge.Redis(port=port, **kwargs(protocol, decode))
    # The whole sequence with redis-py, then with redbridge: it leaves the sentinel as it
    # found it (the second service removed again).
    todo = steps(deployment["primary"])
    expected = [outcome(lambda: getattr(theirs, m)(*a)) for m, a in todo]
    got = [outcome(lambda: getattr(ours, m)(*a)) for m, a in todo]
    for (m, a), e, g in zip(todo, expected, got):
        assert g == e, f"{m}{a} protocol={protocol} decode={decode}"
    ours.close()


@pytest.mark.parametrize("protocol", [None, 3])
def test_sentinel_methods_asyncio_and_pipeline(deployment: Dict[str, Any], protocol: Optional[int]) -> None:
    port = deployment["sentinels"][1]
    reads = [s for s in steps(deployment["primary"]) if not s[0].startswith(("sentinel_set", "sentinel_monitor", "sentinel_re", "sentinel_fail"))]
    theirs = redis.Redis(port=port, **kwargs(protocol, True))
    expected = [outcome(lambda: getattr(theirs, m)(*a)) for m, a in reads]

    async def run() -> List[Any]:
        ours = redbridge.asyncio.Redis(port=port, **kwargs(protocol, True))
        out = []
        for m, a in reads:
            try:
                out.append(("ok", steady(await getattr(ours, m)(*a))))
            except redbridge.RedisError as e:
                out.append(("error", type(e).__name__))
        await ours.aclose()
        return out

    assert asyncio.run(run()) == expected
    ours = redbridge.Redis(port=port, **kwargs(protocol, True))
    pipe = ours.pipeline(transaction=False)
    for m, a in reads:
        getattr(pipe, m)(*a)
    got = [("ok", steady(v)) if not isinstance(v, Exception) else ("error", type(v).__name__)
           for v in pipe.execute(raise_on_error=False)]
    assert got == expected
    ours.close()


def test_client_list_iter_matches_redis_py(url: str) -> None:
    theirs = redis.Redis.from_url(url, decode_responses=True)
    ours = redbridge.Redis.from_url(url, decode_responses=True)
    ours.ping()
    mine = ours.client_list_iter()
    assert iter(mine) is mine  # an iterator, as redis-py's
    rows = list(mine)
    theirs_rows = list(theirs.client_list_iter())
    assert {type(r).__name__ for r in rows} == {type(r).__name__ for r in theirs_rows} == {"dict"}
    assert {r["id"] for r in theirs_rows} <= {r["id"] for r in ours.client_list()} | {r["id"] for r in theirs_rows}
    assert sorted(rows[0]) == sorted(theirs_rows[0])
    me = ours.client_id()
    assert [r["id"] for r in ours.client_list_iter(client_id=[me])] == [str(me)] == [r["id"] for r in theirs.client_list_iter(client_id=[me])]
    assert list(ours.client_list_iter(_type="pubsub")) == list(theirs.client_list_iter(_type="pubsub")) == []
    with pytest.raises(redbridge.DataError):
        ours.client_list_iter(_type="nosuch")

    async def run() -> List[Any]:
        a = redbridge.asyncio.Redis.from_url(url, decode_responses=True)
        out = list(await a.client_list_iter(client_id=[await a.client_id()]))
        await a.aclose()
        return out

    assert len(asyncio.run(run())) == 1
    ours.close()
