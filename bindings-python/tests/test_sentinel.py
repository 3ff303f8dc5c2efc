"""redbridge.sentinel: redis-py's Sentinel API on the core's Sentinel support, against a
real deployment from the harness (a primary, 2 replicas, 3 sentinels): discovery answers
as redis-py's own Sentinel does, a client from master_for follows a failover, slave_for
reads from a replica, the asyncio flavour the same, errors and reprs say what they should
and show no password."""

from __future__ import annotations

import asyncio
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

from .conftest import HARNESS, sentinel_deployment


@pytest.fixture
def deployment() -> Iterator[Dict[str, Any]]:
    yield from sentinel_deployment()


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


# ---- Issue #18's test list, with redis-py's Sentinel measured beside ours in the same run.

def _dead_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_discovery_skips_a_dead_sentinel_lists_each_answer_and_believes_role(deployment: Dict[str, Any]) -> None:
    s0, s1 = deployment["sentinels"][:2]
    dead = _dead_port()
    sentinel = Sentinel([("127.0.0.1", dead), ("127.0.0.1", s0)], socket_timeout=0.5)
    assert sentinel.discover_master("mymaster") == ("127.0.0.1", deployment["primary"])
    assert sentinel.master_for("mymaster").set("dead-first", "1") is True

    many = Sentinel([("127.0.0.1", dead), ("127.0.0.1", s0), ("127.0.0.1", s1)], socket_timeout=0.5)
    with pytest.raises(MasterNotFoundError) as e:
        many.discover_master("nosuch")
    said = str(e.value)
    assert f"sentinel 127.0.0.1:{dead}: " in said and "refused" in said.lower(), said
    assert f"sentinels 127.0.0.1:{s0}, 127.0.0.1:{s1}: does not know service `nosuch`" in said, said
    with pytest.raises(redbridge.ConnectionError, match="does not know service `nosuch`"):
        many.master_for("nosuch", socket_connect_timeout=0.5).ping()

    # A sentinel watching a replica's address as another service's primary: refused by ROLE.
    replica = deployment["replicas"][0]
    admin = redis_py.Redis(port=s0)
    admin.execute_command("SENTINEL", "MONITOR", "fake", "127.0.0.1", replica, 2)
    try:
        with pytest.raises(MasterNotFoundError) as e:
            Sentinel([("127.0.0.1", s0)], socket_timeout=0.5).discover_master("fake")
        assert f"named 127.0.0.1:{replica}, which says it is a slave (ROLE)" in str(e.value), str(e.value)
    finally:
        admin.execute_command("SENTINEL", "REMOVE", "fake")


class _Writer:
    """A thread sending INCR every 5 ms (~200/s) through `incr` until stopped (≤ 60 s):
    (sent, done, reply or exception) for each."""

    def __init__(self, incr: Any) -> None:
        import threading
        self.shots: list = []
        self._stop = threading.Event()

        def loop() -> None:
            t0 = time.monotonic()
            while not self._stop.is_set() and time.monotonic() - t0 < 60:
                sent = time.monotonic()
                try:
                    reply: Any = int(incr())
                except Exception as e:  # the outcome is what we record
                    reply = e
                self.shots.append((sent, time.monotonic(), reply))
                time.sleep(max(0.0, 0.005 - (time.monotonic() - sent)))

        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()

    def finish(self) -> list:
        self._stop.set()
        self._thread.join(5)
        return self.shots

    def outage(self, since: float) -> Tuple[float, float]:
        """(last success before `since`, first success after it)."""
        before = max(d for s, d, r in self.shots if d <= since and isinstance(r, int))
        after = min(d for s, d, r in self.shots if s > since and isinstance(r, int))
        return before, after


def _promoted(d: Dict[str, Any], within: float) -> Tuple[int, float]:
    deadline = time.monotonic() + within
    while True:
        for p in d["replicas"]:
            if _role(p) == "master":
                return p, time.monotonic()
        assert time.monotonic() < deadline, "no replica was promoted"
        time.sleep(0.005)


def _named(port: int, name: str) -> int:
    try:
        return sum(1 for c in redis_py.Redis(port=port, socket_timeout=0.3).client_list() if c.get("name") == name)
    except redis_py.RedisError:
        return 0


def test_sigkill_under_writers_ours_beside_redis_py(deployment: Dict[str, Any]) -> None:
    """The primary SIGKILLed under ~200 INCR/s from ours and from redis-py's Sentinel at
    once: both outages printed; ours resumes within 1 s of the promotion and is no longer
    than redis-py's (0.5 s margin: a busy 2-core machine). When the old primary's process
    returns on its port (empty, a primary until the sentinels demote it), none of our
    connections go there and our INCR replies run on without a restart from 1."""
    sentinels = [("127.0.0.1", p) for p in deployment["sentinels"]]
    ours = Sentinel(sentinels[:1], socket_timeout=0.5).master_for("mymaster", client_name="rb-py-writer")
    theirs = redis.sentinel.Sentinel(sentinels, socket_timeout=0.5).master_for("mymaster")
    assert ours.ping() and theirs.ping()
    w_ours = _Writer(lambda: ours.incr("w:ours"))
    w_theirs = _Writer(lambda: theirs.incr("w:theirs"))
    time.sleep(0.5)
    old = deployment["primary"]
    with open(deployment["pidfiles"][0]) as f:
        os.kill(int(f.read().strip()), signal.SIGKILL)
    killed = time.monotonic()
    new, promoted_at = _promoted(deployment, 20)
    deadline = time.monotonic() + 10
    while not (any(s > killed and isinstance(r, int) for s, _, r in list(w_ours.shots))
               and any(s > killed and isinstance(r, int) for s, _, r in list(w_theirs.shots))):
        assert time.monotonic() < deadline, "writes did not resume within 10 s of the promotion"
        time.sleep(0.01)
    subprocess.check_output([sys.executable, str(HARNESS), "start", "--port", str(old), "--dir",
                             os.path.dirname(deployment["pidfiles"][0])])
    back = time.monotonic()
    seen, demoted = 0, None
    while time.monotonic() - back < 20:
        seen = max(seen, _named(old, "rb-py-writer"))
        if demoted is None and _role(old) == "slave":
            demoted = time.monotonic() - back
        if demoted is not None and time.monotonic() - back > demoted + 0.5:
            break
        time.sleep(0.01)
    shots, _ = w_ours.finish(), w_theirs.finish()
    assert demoted is not None, "the returned old primary was not made a replica within 20 s"
    assert seen == 0, "our client had connections on the returned old primary"
    b, a = w_ours.outage(killed)
    tb, ta = w_theirs.outage(killed)
    print(f"\nSIGKILL under ~200 INCR/s: promoted {promoted_at - killed:.3f} s after the kill; outage ours "
          f"{a - b:.3f} s (resumed {a - promoted_at:+.3f} s after ROLE master), redis-py {ta - tb:.3f} s "
          f"(resumed {ta - promoted_at:+.3f} s); old primary demoted {demoted:.2f} s after it returned")
    assert a - promoted_at < 1.0
    assert a - b <= (ta - tb) + 0.5, (a - b, ta - tb)
    replies = [r for s, _, r in shots if s > killed]
    replies = replies[next(i for i, r in enumerate(replies) if isinstance(r, int)):]
    assert all(isinstance(r, int) for r in replies), [r for r in replies if not isinstance(r, int)][:3]
    assert len(replies) > 100
    assert all(y == x + 1 for x, y in zip(replies, replies[1:])), "an INCR reply did not count on"
    assert int(redis_py.Redis(port=new).get("w:ours")) == replies[-1]


def test_failover_under_get_incr_ours_beside_redis_py(deployment: Dict[str, Any]) -> None:
    """SENTINEL FAILOVER with the old primary alive, under a GET/INCR loop from ours and
    from redis-py's at once: ours writes to the new primary within 2 s of the promotion,
    its GETs never fail, READONLY reaches its caller at most once per connection it had on
    the old primary, and none of its connections stay there; both outages (longest gap
    between successful INCRs) printed."""
    import threading
    sentinels = [("127.0.0.1", p) for p in deployment["sentinels"]]
    ours = Sentinel(sentinels[:1], socket_timeout=0.5).master_for("mymaster", client_name="rb-py-loop")
    theirs = redis.sentinel.Sentinel(sentinels, socket_timeout=0.5).master_for("mymaster")
    ours.set("loop:k", "v")
    stop = threading.Event()
    results: Dict[str, Any] = {}

    def loop(tag: str, client: Any) -> None:
        get_errors, incr_errors, ok = [], [], []
        t0 = time.monotonic()
        while not stop.is_set() and time.monotonic() - t0 < 30:
            try:
                client.get("loop:k")
            except Exception as e:  # recorded
                get_errors.append(repr(e))
            try:
                client.incr(f"loop:{tag}")
                ok.append(time.monotonic())
            except Exception as e:  # recorded
                incr_errors.append(repr(e))
            time.sleep(0.005)
        results[tag] = (get_errors, incr_errors, ok)

    threads = [threading.Thread(target=loop, args=(t, c), daemon=True) for t, c in (("ours", ours), ("theirs", theirs))]
    for t in threads:
        t.start()
    time.sleep(0.3)
    on_old = _named(deployment["primary"], "rb-py-loop")
    assert on_old >= 1
    asked = time.monotonic()
    redis_py.Redis(port=deployment["sentinels"][0]).execute_command("SENTINEL", "FAILOVER", "mymaster")
    new, promoted_at = _promoted(deployment, 10)
    # When each client's INCRs land on the new primary (its counter moves there); the
    # old primary takes writes until it is demoted, writes the failover then drops.
    direct = redis_py.Redis(port=new)
    moved: Dict[str, float] = {}
    last = {tag: direct.get(f"loop:{tag}") for tag in ("ours", "theirs")}
    demoted = None
    while time.monotonic() - promoted_at < 20 and (len(moved) < 2 or demoted is None):
        time.sleep(0.01)
        for tag in ("ours", "theirs"):
            now = direct.get(f"loop:{tag}")
            if tag not in moved and now != last[tag]:
                moved[tag] = time.monotonic() - promoted_at
        if demoted is None and _role(deployment["primary"]) == "slave":
            demoted = time.monotonic() - promoted_at
    assert "ours" in moved and moved["ours"] < 2, f"our writes did not reach the new primary within 2 s: {moved}"
    time.sleep(1.0)
    stop.set()
    for t in threads:
        t.join(5)
    get_errors, incr_errors, ok = results["ours"]
    t_get_errors, t_incr_errors, t_ok = results["theirs"]

    def gap(times: list) -> float:
        around = [t for t in times if t > asked - 0.5]
        return max(b - a for a, b in zip(around, around[1:]))

    theirs_moved = f"{moved['theirs']:.3f} s" if "theirs" in moved else "not within 20 s"
    print(f"\nSENTINEL FAILOVER under GET/INCR: writes reached the new primary {moved['ours']:.3f} s after it "
          f"reported ROLE master for ours, {theirs_moved} for redis-py (old primary demoted after "
          f"{demoted if demoted is None else round(demoted, 2)} s); longest INCR gap ours {gap(ok):.3f} s, redis-py {gap(t_ok):.3f} s; ours GET errors {get_errors}, "
          f"INCR errors {incr_errors}; redis-py GET errors {len(t_get_errors)}, INCR errors {len(t_incr_errors)}")
    assert get_errors == []
    assert _role(deployment["primary"]) == "slave"
    # Goal: ours no later than redis-py's (robust: redis-py waits for the demotion).
    assert moved["ours"] <= moved.get("theirs", 20.0) + 0.1, moved
    readonly = [e for e in incr_errors if "READONLY" in e or "ReadOnly" in e]
    assert len(readonly) <= on_old, readonly
    assert _named(deployment["primary"], "rb-py-loop") == 0
