"""The side-by-side bench (docs/architecture.md "Bench workloads", issue #8): every redbridge binding and the clients a
user would pick instead, through W1-W7 against one throwaway server, in one run.

    python3 bench/run.py            # the full run (make bench builds the release artefacts first)
    python3 bench/run.py --quick    # a tiny run with whatever is installed (make test)
    python3 bench/run.py --only W7  # pub/sub only (issue #17), written under target/bench-only
    python3 bench/run.py --only OTEL  # redbridge's W1 and W3 with OpenTelemetry metrics off and on (issue #21)

The anchors (redis-py with and without hiredis, valkey-glide, node-redis, ioredis,
@valkey/valkey-glide, hiredis) are installed into scratch environments under
target/bench-env, never into the project's dependencies. Each client runs in its own process
(clients_py.py, clients_node.js, clients_c.c); runs are interleaved client by client and
repeated, and the median is reported. Writes bench/results/{results.md,results.json,chart.png}
(the quick run writes under target/ instead). Never fails on a number.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV = ROOT / "target" / "bench-env"
PY, PY_PLAIN, NODE_MODULES = ENV / "py/bin/python", ENV / "py-nohiredis/bin/python", ENV / "node/node_modules"
WORKLOADS = ["W1", "W2", "W3", "W4", "W5", "W6", "W7a", "W7b"]
TITLES = {
    "W1": "W1 sequential GET (ops/s)",
    "W2": "W2 pipeline of 100 GETs (ops/s)",
    "W3": "W3 concurrent GETs (ops/s)",
    "W4": "W4 SCAN 100k keys (s, lower is better)",
    "W5": "W5 cached GETs, 100 hot keys (ops/s)",
    "W6": "W6 GET 100 KiB (MB/s)",
    "W7a": "W7a pub/sub, 1 subscriber (msg/s)",
    "W7b": "W7b fan-out to 10 subscribers (msg/s received, total)",
}
METRIC = {"W1": "ops", "W2": "ops", "W3": "ops", "W4": "secs", "W5": "ops", "W6": "mb_s", "W7a": "msgs", "W7b": "msgs"}
# W7c (C only, not a column): GETs while a flood of messages goes to the same client.
W7C = ["W7c-idle", "W7c-own", "W7c-raw-idle", "W7c-raw-own", "W7c-raw-shared"]
PY_ANCHORS = ["redis[hiredis]", "valkey-glide", "valkey-glide-sync", "matplotlib", "opentelemetry-sdk"]
# Issue #21: redbridge's W1 and W3 with OpenTelemetry metrics off and on, per binding (the
# clients run them in one process, alternated; see clients_py.py / clients_node.js).
OTEL = [f"OTEL-{w}-{mode}" for w in ("W1", "W3") for mode in ("off", "on", "ratio")]
OTEL_GOAL = 0.95  # on costs at most 5%
NODE_ANCHORS = ["redis", "ioredis", "@valkey/valkey-glide"]


def sh(cmd: list[str], **kw: object) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, **kw)  # type: ignore[call-overload]


# --- scratch environments -------------------------------------------------------------


def setup_envs(quick: bool) -> None:
    """Installs what the full run compares against; the quick run uses what is there."""
    if quick:
        return
    ENV.mkdir(parents=True, exist_ok=True)
    pip = ["-m", "pip", "install", "-q", "--disable-pip-version-check"]
    if not PY.exists():
        sh([sys.executable, "-m", "venv", str(ENV / "py")])
    sh([str(PY), *pip, *PY_ANCHORS])
    if not PY_PLAIN.exists():
        sh([sys.executable, "-m", "venv", str(ENV / "py-nohiredis")])
    sh([str(PY_PLAIN), *pip, "redis"])
    wheels = sorted((ROOT / "target" / "wheels").glob("redbridge-*.whl"), key=lambda p: p.stat().st_mtime)
    if wheels:
        sh([str(PY), *pip, "--force-reinstall", "--no-deps", str(wheels[-1])])
    node = ENV / "node"
    node.mkdir(exist_ok=True)
    if not (node / "package.json").exists():
        (node / "package.json").write_text('{"name": "redbridge-bench-anchors", "private": true}\n')
    sh(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", *NODE_ANCHORS], cwd=node, stdout=subprocess.DEVNULL)
    if not Path("/usr/include/hiredis/hiredis.h").exists() and os.geteuid() == 0:
        sh(["apt-get", "install", "-y", "-q", "libhiredis-dev"], stdout=subprocess.DEVNULL)


def clients(quick: bool, profile: str) -> list[dict]:
    """(language group, label, command) of every client that can run here."""
    # The quick run (make test) uses the test environments: the debug build of redbridge
    # with redis-py+hiredis beside it, and node-redis from the addon's dev dependencies.
    py = ROOT / "target/py-venv/bin/python" if quick else PY
    nm = ROOT / "bindings-node/node_modules" if quick else NODE_MODULES
    cbin = ROOT / "target" / "bench-clients-c"
    out, skipped = [], []

    def add(group: str, label: str, cmd: list, need: Path | None = None, ours: bool = False, full_only: bool = False) -> None:
        if full_only and quick:
            skipped.append(f"{label} ({group}): full run only")
        elif need is not None and not need.exists():
            skipped.append(f"{label} ({group}): {need} is not there")
        else:
            out.append({"group": group, "label": label, "cmd": [str(c) for c in cmd], "ours": ours})

    cp = [py, ROOT / "bench/clients_py.py"]
    add("Python sync", "redbridge", [*cp, "redbridge"], ours=True)
    add("Python sync", "redis-py+hiredis", [*cp, "redis-py"])
    add("Python sync", "redis-py (no hiredis)", [PY_PLAIN, ROOT / "bench/clients_py.py", "redis-py"], PY_PLAIN, full_only=True)
    add("Python sync", "valkey-glide-sync", [*cp, "glide-sync"], full_only=True)
    add("Python asyncio", "redbridge.asyncio", [*cp, "redbridge.asyncio"], ours=True)
    add("Python asyncio", "redis.asyncio+hiredis", [*cp, "redis.asyncio"])
    add("Python asyncio", "valkey-glide", [*cp, "glide"], full_only=True)
    cn = ["node", ROOT / "bench/clients_node.js"]
    add("Node", "redbridge", [*cn, "redbridge"], ours=True)
    add("Node", "node-redis", [*cn, "node-redis"], nm / "redis")
    add("Node", "ioredis", [*cn, "ioredis"], nm / "ioredis")
    add("Node", "valkey-glide", [*cn, "glide"], nm / "@valkey/valkey-glide")
    add("C", "redbridge", [cbin, "redbridge"], cbin, ours=True)
    add("C", "hiredis", [cbin, "hiredis"], cbin)
    for s in skipped:
        print(f"  skipped: {s}")
    return [c | {"env": {"BENCH_NODE_MODULES": str(nm), "LD_LIBRARY_PATH": str(ROOT / "target" / profile)}} for c in out]


# --- the ceiling ----------------------------------------------------------------------


def redis_benchmark(url: str, quick: bool) -> dict:
    """redis-benchmark with the -P/-c that match each workload: what the server allows."""
    host, port = url.split("//", 1)[1].split("/")[0].rsplit(":", 1)
    n = 2000 if quick else 100_000

    def rps(*args: str, test: str = "get", d: int = 100) -> float:
        r = subprocess.run(
            ["redis-benchmark", "-h", host, "-p", port, "-t", test, "-d", str(d), "--csv", "-q", *args],
            capture_output=True, text=True, check=True,
        )
        row = [line for line in r.stdout.splitlines() if line.startswith('"GET')][-1]
        return float(row.split(",")[1].strip('"'))

    # The GETs read redis-benchmark's own key: a 100 B value for W1-W3, then W6 sets it
    # to 100 KiB; it is removed after, for the next run.
    cli = ["redis-cli", "-h", host, "-p", port]
    subprocess.run([*cli, "SET", "key:__rand_int__", "x" * 100], capture_output=True, check=True)
    out = {
        "W1": {"ops": rps("-n", str(n // 2), "-c", "1", "-P", "1"), "note": "-c 1 -P 1"},
        "W2": {"ops": rps("-n", str(n * 5), "-c", "1", "-P", "100"), "note": "-c 1 -P 100"},
        "W3": {"ops": rps("-n", str(n * 2), "-c", "64", "-P", "1"), "note": "-c 64 -P 1"},
        "W3 (8)": {"ops": rps("-n", str(n), "-c", "8", "-P", "1"), "note": "-c 8 -P 1"},
    }
    big = rps("-n", str(n // 50), "-c", "1", test="set,get", d=100 * 1024)
    out["W6"] = {"mb_s": big * 100 * 1024 / 1e6, "note": "-c 1, -d 102400"}
    subprocess.run([*cli, "DEL", "key:__rand_int__"], capture_output=True, check=True)
    return out


# --- data -----------------------------------------------------------------------------


def load_data(url: str) -> None:
    """db 0: the GET key (100 B), the 100 KiB key and W5's 100 hot keys; db 1: 100k keys."""
    host, port = url.split("//", 1)[1].split("/")[0].rsplit(":", 1)

    def resp(*args: bytes) -> bytes:
        return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)

    db0 = resp(b"SET", b"bench:key", b"v" * 100) + resp(b"SET", b"bench:big", b"b" * 100 * 1024)
    db0 += resp(b"SET", b"key:__rand_int__", b"v" * 100)
    db0 += b"".join(resp(b"SET", b"w5:%d" % i, b"h" * 100) for i in range(100))
    db1 = b"".join(resp(b"SET", b"scan:%d" % i, b"s") for i in range(100_000))
    for db, payload in ((0, db0), (1, db1)):
        sh(["redis-cli", "-h", host, "-p", port, "-n", str(db), "--pipe"], input=payload, stdout=subprocess.DEVNULL)


# --- W7: the publisher ----------------------------------------------------------------
# Every W7 subscriber, whatever its client, is fed by this one publisher, so W7 measures
# the subscriber side only: a raw socket that writes prebuilt PUBLISH commands as fast as
# the server takes them (pipelined without a window; a second thread reads the replies).
# A client asks for a flood by printing a line `W7 PUB <tag> <channel> <subscribers>
# <count>` (or `W7 FLOOD <tag> <channel> <subscribers> <seconds> <msgs/s>`) on stdout; the
# publisher waits until PUBSUB NUMSUB shows that many subscribers, then publishes. Each
# PUBLISH reply says how many subscribers it reached, so a subscriber the server cut off
# mid-flood shows here even if the client does not notice.

W7_PAYLOAD = b"m" * 100


def resp(*args: bytes) -> bytes:
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)


class Publisher:
    def __init__(self, url: str) -> None:
        import socket

        host, port = url.split("//", 1)[1].split("/")[0].rsplit(":", 1)
        self.addr = (host, int(port))
        self.socket = socket
        self.ctl = socket.create_connection(self.addr)
        self.ctl_in = self.ctl.makefile("rb")
        self.saved_limit: str | None = None

    def call(self, *args: str) -> object:
        """One command on the control connection, its (RESP2) reply."""
        self.ctl.sendall(resp(*(a.encode() for a in args)))
        return self._read()

    def _read(self) -> object:
        line = self.ctl_in.readline()[:-2]
        kind, rest = line[:1], line[1:]
        if kind in (b"+", b"-"):
            return rest.decode()
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self.ctl_in.read(n + 2)[:-2].decode("latin1")
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._read() for _ in range(n)]
        raise RuntimeError(f"publisher: unexpected reply {line[:40]!r}")

    def raise_pubsub_limit(self) -> str:
        """A subscriber slower than the publisher is measured, not cut off: the pub/sub
        output buffer limit raised to 1 GB (soft and hard) for the run."""
        got = self.call("CONFIG", "GET", "client-output-buffer-limit")
        if not isinstance(got, list) or len(got) < 2:
            return "client-output-buffer-limit left as it is (CONFIG GET refused)"
        self.saved_limit = str(got[1])
        reply = self.call("CONFIG", "SET", "client-output-buffer-limit", "pubsub 1gb 1gb 0")
        if reply != "OK":
            return f"client-output-buffer-limit left as it is ({reply})"
        return "client-output-buffer-limit pubsub raised to 1gb 1gb 0 for the run"

    def restore(self) -> None:
        if self.saved_limit:
            self.call("CONFIG", "SET", "client-output-buffer-limit", self.saved_limit)

    def cut_offs(self) -> int | None:
        """The server's count of clients cut off at their output buffer limit (Redis 7.2+)."""
        info = self.call("INFO", "stats")
        for line in str(info).splitlines():
            if line.startswith("client_output_buffer_limit_disconnections:"):
                return int(line.split(":")[1])
        return None

    def serve(self, line: str) -> dict:
        """Does what a client's `W7 ...` line asks; what was published and reached."""
        try:
            _, how, tag, channel, subs, amount, *rate = line.split()
        except ValueError:
            return {"tag": "?", "error": f"bad request {line.strip()!r}"}
        k = int(subs)
        out: dict = {"tag": tag, "subscribers": k}
        deadline = time.monotonic() + 15
        while True:
            got = self.call("PUBSUB", "NUMSUB", channel)
            have = int(got[1]) if isinstance(got, list) else 0
            if have >= k:
                break
            if time.monotonic() > deadline:
                return out | {"error": f"only {have} of {k} subscribers on {channel} after 15 s"}
            time.sleep(0.002)
        before = self.cut_offs()
        if how == "PUB":
            out |= self.flood(channel.encode(), k, count=int(amount))
        else:
            out |= self.flood(channel.encode(), k, seconds=float(amount), rate=float(rate[0]) if rate else 0.0)
        after = self.cut_offs()
        if before is not None and after is not None and after > before:
            out["cut_off"] = after - before
        return out

    def flood(self, channel: bytes, k: int, count: int = 0, seconds: float = 0.0, rate: float = 0.0) -> dict:
        """PUBLISH `count` messages as fast as the server takes them, or for `seconds` at
        `rate` messages/s (paced every 2 ms; 0: as fast as it goes)."""
        import threading

        sock = self.socket.create_connection(self.addr)
        sock.setsockopt(self.socket.IPPROTO_TCP, self.socket.TCP_NODELAY, 1)
        one = resp(b"PUBLISH", channel, W7_PAYLOAD)
        per = 500
        chunk = one * per
        state = {"sent": 0, "done": False}
        replies: list[bytes] = []

        def read() -> None:
            sock.settimeout(0.2)
            seen = 0
            while not (state["done"] and seen >= state["sent"]):
                try:
                    data = sock.recv(1 << 20)
                except self.socket.timeout:
                    continue
                if not data:
                    break
                replies.append(data)
                seen += data.count(b"\r\n")

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        t = time.perf_counter()
        if count:
            for _ in range(count // per):
                sock.sendall(chunk)
            sock.sendall(one * (count % per))
            state["sent"] = count
        else:
            end = t + seconds
            while (now := time.perf_counter()) < end:
                due = int((now - t) * rate) - state["sent"] if rate else per
                if due <= 0:
                    time.sleep(0.002)
                    continue
                sock.sendall(chunk if due >= per else one * due)
                state["sent"] += min(due, per)
        state["done"] = True
        reader.join(60)
        secs = time.perf_counter() - t
        sock.close()
        data = b"".join(replies)
        full = data.count(b":%d\r\n" % k)
        lines = data.count(b"\r\n")
        reached = full * k
        if full != lines:
            reached = sum(int(x[1:]) for x in data.split(b"\r\n") if x.startswith(b":"))
        return {"published": state["sent"], "replies": lines, "reached": reached, "secs": secs, "rate": state["sent"] / secs}


def w7_verdict(results: dict, floods: list[dict]) -> None:
    """A W7 figure counts only when every message reached every subscriber: a flood whose
    replies show fewer receivers (the server cut a subscriber off), or that could not
    start, makes the workload's result an error, whatever the client measured."""
    by_tag: dict[str, list[dict]] = {}
    for f in floods:
        by_tag.setdefault(f["tag"], []).append(f)
    for tag, fs in by_tag.items():
        r = results.setdefault(tag, {"error": "the client gave no result"})
        bad = [f for f in fs if "error" in f or f["reached"] < f["published"] * f["subscribers"] or f["replies"] < f["published"] or f.get("cut_off")]
        if bad and "error" not in r:
            f = bad[0]
            why = f.get("error") or (f"the server cut {f['cut_off']} subscriber(s) off" if f.get("cut_off") else
                                     f"publisher: {f['reached']:,} deliveries of {f['published'] * f['subscribers']:,} ({f['replies']:,} replies)")
            results[tag] = {"error": f"invalid: {why}"}
        if "error" not in results[tag]:
            rates = [f["rate"] for f in fs if "rate" in f]
            if rates:
                results[tag]["publish_rate"] = statistics.median(rates)


# --- sizes ----------------------------------------------------------------------------


def dir_size(p: Path) -> int:
    return sum(f.stat().st_size for f in p.rglob("*") if f.is_file()) if p.exists() else 0


def npm_closure(nm: Path, name: str, seen: set[str] | None = None) -> set[str]:
    seen = set() if seen is None else seen
    if name in seen or not (nm / name / "package.json").exists():
        return seen
    seen.add(name)
    meta = json.loads((nm / name / "package.json").read_text())
    for dep in list(meta.get("dependencies", {})) + list(meta.get("optionalDependencies", {})):
        npm_closure(nm, dep, seen)
    return seen


def sizes(profile: str) -> list[tuple[str, str, float, str]]:
    """(group, what, MB, note) for the packages a user would install."""
    rows = []
    wheels = sorted((ROOT / "target" / "wheels").glob("redbridge-*.whl"), key=lambda p: p.stat().st_mtime)
    if wheels:
        rows.append(("Python", "redbridge wheel", wheels[-1].stat().st_size / 1e6, wheels[-1].name))
    dl = ENV / "downloads"
    if PY.exists():
        subprocess.run([str(PY), "-m", "pip", "download", "-q", "--no-deps", "-d", str(dl), "redis", "hiredis", "valkey-glide", "valkey-glide-sync"], capture_output=True)
        for w in sorted(dl.glob("*.whl")):
            rows.append(("Python", w.name.split("-")[0] + " wheel", w.stat().st_size / 1e6, w.name))
    tgz = sorted((ROOT / "bindings-node").glob("redbridge-*.tgz"), key=lambda p: p.stat().st_mtime)
    # The package the Node clients measured (make bench: the packed tarball, unpacked).
    pkg = Path(os.environ.get("BENCH_REDBRIDGE_NODE", ROOT / "bindings-node"))
    addon = pkg / "redbridge.linux-x64-gnu.node"
    if addon.exists():
        rows.append(("Node", "redbridge (installed: addon + JS)", (addon.stat().st_size + sum(f.stat().st_size for f in pkg.glob("*.js")) + (pkg / "index.d.ts").stat().st_size) / 1e6, "release .node, index.js, index.d.ts"))
    if tgz:
        rows.append(("Node", "redbridge npm tarball", tgz[-1].stat().st_size / 1e6, tgz[-1].name))
    for pkg in NODE_ANCHORS:
        deps = npm_closure(NODE_MODULES, pkg)
        if deps:
            rows.append(("Node", f"{pkg} (installed, with deps)", sum(dir_size(NODE_MODULES / d) for d in deps) / 1e6, f"{len(deps)} packages"))
    so = ROOT / "target" / profile / "libredbridge.so"
    if so.exists():
        rows.append(("C", "libredbridge.so", so.stat().st_size / 1e6, profile))
    for hi in sorted(Path("/usr/lib/x86_64-linux-gnu").glob("libhiredis.so.*")):
        if not hi.is_symlink():
            rows.append(("C", hi.name, hi.stat().st_size / 1e6, "Debian libhiredis"))
    return rows


# --- the targets of issue #8 ----------------------------------------------------------

TARGETS = [
    ("Python sync", "W1", "redis-py+hiredis", 1.5),
    ("Python sync", "W2", "redis-py+hiredis", 3.0),
    ("Python sync", "W3", "redis-py+hiredis", 4.0),
    ("Python asyncio", "W3", "redis.asyncio+hiredis", 3.0),
    ("Python asyncio", "W3", "valkey-glide", 1.5),
    # Issue #19: against the anchors' latest releases.
    ("Node", "W1", "best of node-redis/ioredis", 1.2),
    ("Node", "W2", "node-redis", 1.5),
    ("Node", "W3", "best of node-redis/ioredis", 1.5),
    ("Node", "W3", "valkey-glide", 1.2),
    ("C", "W1", "hiredis", 0.9),
    ("C", "W2", "hiredis", 0.9),
    ("C", "W2", "redis-benchmark", 0.6),
] + [(g, "W4", "fastest anchor", 1.0) for g in ("Python sync", "Python asyncio", "Node", "C")] + [
    (g, "W6", "best anchor", 0.9) for g in ("Python sync", "Python asyncio", "Node", "C")
]
# Issue #17's W7: ahead of each anchor that subscribes, in its language.
W7_ANCHORS = {
    "Python sync": ["redis-py+hiredis", "redis-py (no hiredis)", "valkey-glide-sync"],
    "Python asyncio": ["redis.asyncio+hiredis", "valkey-glide"],
    "Node": ["node-redis", "ioredis", "valkey-glide"],
    "C": ["hiredis"],
}
TARGETS += [(g, w, a, 1.0) for w in ("W7a", "W7b") for g, names in W7_ANCHORS.items() for a in names]


def value(med: dict, label: str, w: str) -> float | None:
    r = med.get(label, {}).get(w)
    return None if r is None or METRIC[w] not in r else r[METRIC[w]]


def speed_ratio(w: str, ours: float, theirs: float) -> float:
    """redbridge / anchor as 'times as fast' (W4 is seconds: inverted)."""
    return theirs / ours if w == "W4" else ours / theirs


def check_targets(groups: dict[str, list[str]], med: dict, ceiling: dict) -> list[str]:
    lines = []
    for group, w, anchor, goal in TARGETS:
        labels = groups.get(group, [])
        if not labels:
            continue
        ours_label, anchors = labels[0], labels[1:]
        ours = value(med, ours_label, w)
        if anchor == "redis-benchmark":
            theirs = ceiling.get(w, {}).get(METRIC[w])
            names = ["redis-benchmark " + ceiling.get(w, {}).get("note", "")]
        else:
            if anchor in ("best anchor", "fastest anchor"):
                cands = anchors
            elif anchor.startswith("best of"):
                cands = [a for a in anchors if show(a) in anchor]
            else:
                cands = [a for a in anchors if show(a) == anchor]
            vals = [(value(med, a, w), a) for a in cands]
            vals = [(v, a) for v, a in vals if v is not None]
            if not vals:
                continue
            v, a = (min if w == "W4" else max)(vals)
            theirs, names = v, [show(a)]
        if ours is None or not theirs:
            continue
        r = speed_ratio(w, ours, theirs)
        mark = "met" if r >= goal else "MISSED"
        lines.append(f"| {group} | {w} | {names[0]} | {goal:.1f}x | {r:.2f}x | {mark} |")
    return lines


# --- report ---------------------------------------------------------------------------


def show(key: str) -> str:
    """The label of a "group|label" key."""
    return key.split("|", 1)[-1]


def fmt(w: str, r: dict | None) -> str:
    if r is None:
        return "-"
    if "error" in r:
        return "n/a"
    v = r[METRIC[w]]
    s = f"{v:.3f} s" if w == "W4" else (f"{v:,.0f}" if w != "W6" else f"{v:,.0f} MB/s")
    cpu = f", CPU {r['cpu_ms_per_100k']:,.0f} ms/100k" if "cpu_ms_per_100k" in r else ""
    if w == "W1" and "p50_us" in r:
        s += f" (p50 {r['p50_us']:.0f} / p99 {r['p99_us']:.0f} µs{cpu})"
    if w == "W3" and "ctx_per_100k" in r:
        s += f" ({r['ctx_per_100k']:,.0f} cs/100k{cpu})"
    if w.startswith("W7") and cpu:
        s += f" ({cpu[2:]} msgs)"
    return s


def report(meta: dict, groups: dict, med: dict, ceiling: dict, size_rows: list, errors: dict) -> str:
    out = ["# redbridge bench — side by side, one run", ""]
    out.append(f"{meta['when']}, {meta['cpus']} CPUs, redis-server {meta['server']}, {meta['reps']} runs per client, "
               f"interleaved, median shown; values 100 B unless stated. Load average: {meta['load']}.")
    out.append("")
    out.append("Ratios are redbridge / anchor as 'times as fast' (for W4, anchor seconds / redbridge seconds; "
               "W4 is the median of 5 passes of the keyspace in each run).")
    out.append("W3 is 8 threads sharing one client for sync Python and C (hiredis: one context per thread), "
               "64 requests in flight for asyncio and Node. Node's W3 cells add the context switches per 100k "
               "requests of every thread of the client's process (issue #19); Node's W1 and W3 cells the CPU time "
               "of the client's whole process per 100k requests (redbridge's event loop polls for a reply for up to "
               "spin_wait, 100 µs, instead of sleeping: see docs/architecture.md). The C clients' W7 cells add the "
               "CPU time of the subscriber process per 100k messages received (both clients call the clock once a "
               "message to time the round).")
    shown = [w for w in WORKLOADS if any(w in m for m in med.values())]  # what this run measured
    for group, labels in groups.items():
        ours = labels[0]
        out += ["", f"## {group}", "", "| client | " + " | ".join(TITLES[w] for w in shown) + " |",
                "|---|" + "---:|" * len(shown)]
        for label in labels:
            cells = [fmt(w, med.get(label, {}).get(w)) for w in shown]
            out.append(f"| {show(label)} | " + " | ".join(cells) + " |")
        for label in labels[1:]:
            cells = []
            for w in shown:
                a, b = value(med, ours, w), value(med, label, w)
                cells.append(f"{speed_ratio(w, a, b):.2f}x" if a and b else "-")
            out.append(f"| redbridge / {show(label)} | " + " | ".join(cells) + " |")
        notes = [f"{show(label)} {w}: {r['error']}" for label in labels for w, r in med.get(label, {}).items() if isinstance(r, dict) and "error" in r]
        notes += [f"{show(label)} {w}: {r['invalid_runs']:.0f} run(s) not counted, {r['invalid_why']}" for label in labels
                  for w, r in med.get(label, {}).items() if isinstance(r, dict) and "invalid_runs" in r]
        notes += [f"{show(label)} W7: {med[label]['w7_note']}" for label in labels if "w7_note" in med.get(label, {})]
        notes += [f"{label.rsplit(' [', 1)[0]}: {e}" for label, e in errors.items() if label.endswith(f"[{group}]")]
        if notes:
            out += [""] + [f"- {n}" for n in sorted(set(notes))]
        versions = [f"{show(label)} {med[label]['version']}" for label in labels if "version" in med.get(label, {})]
        if versions:
            out += ["", "Versions: " + "; ".join(versions) + "."]
        start = [f"{show(label)}: {med[label]['startup_ms']:.0f} ms, RSS {med[label].get('rss_mb', 0):.0f} MB (peak {med[label].get('peak_rss_mb', 0):.0f} MB)"
                 for label in labels if label in med and "startup_ms" in med[label] and group != "C"]
        if start:
            out += ["", "Import + connect (first PING), resident memory after connect and at the end:", ""] + [f"- {s}" for s in start]
    out += w7_section(groups, med, meta)
    out += otel_section(groups, med)
    if ceiling:
        out += ["", "## The ceiling: redis-benchmark on the same server", "", "| workload | redis-benchmark | result |", "|---|---|---:|"]
    for w, r in ceiling.items():
        out.append(f"| {w} | {r['note']} | " + (f"{r['ops']:,.0f} ops/s" if "ops" in r else f"{r['mb_s']:,.0f} MB/s") + " |")
    out += ["", "## Targets of issue #8", "", "| language | workload | against | goal | measured | |", "|---|---|---|---:|---:|---|"]
    out += check_targets(groups, med, ceiling)
    if size_rows:
        out += ["", "## Package sizes", "", "| language | package | MB | |", "|---|---|---:|---|"]
        out += [f"| {g} | {w} | {mb:.2f} | {n} |" for g, w, mb, n in size_rows]
    return "\n".join(out) + "\n"


W7C_ROWS = [
    ("C|redbridge", "W7c-idle", "redbridge, no flood"),
    ("C|redbridge", "W7c-own", "redbridge, its subscriber (own connection, the core's choice) taking the flood"),
    ("C|hiredis", "W7c-raw-idle", "raw RESP3 socket, no flood"),
    ("C|hiredis", "W7c-raw-own", "raw, subscriber on a second connection taking the flood"),
    ("C|hiredis", "W7c-raw-shared", "raw, one RESP3 connection subscribed and taking the flood (shared)"),
]


def w7_section(groups: dict, med: dict, meta: dict) -> list[str]:
    """How W7 was run, the publisher's rates, and W7c."""
    if not any(w in m for m in med.values() for w in ("W7a", "W7b", *W7C)):
        return []
    out = ["", "## W7: pub/sub", "", W7_ABOUT.strip()]
    if meta.get("w7_server"):
        out += ["", f"Server: {meta['w7_server']}."]
    rates = {w: [r[w]["publish_rate"] for r in med.values() if isinstance(r.get(w), dict) and "publish_rate" in r[w]] for w in ("W7a", "W7b")}
    said = [f"{w} {statistics.median(v):,.0f} PUBLISH/s" for w, v in rates.items() if v]
    if said:
        out += ["", "The publisher's rate during the floods (median over clients): " + ", ".join(said)
                + ". A subscriber near that rate is held back by the publisher and server, not by itself."]
    rows = [(label, w, what) for label, w, what in W7C_ROWS if isinstance(med.get(label, {}).get(w), dict)]
    if rows:
        out += ["", "### W7c: GETs while the same client receives a flood (C)", "",
                "Sequential GETs (as W1) on a client while a subscriber of that client receives a flood from the "
                "publisher (50,000 messages/s of 100 B for 2 s, GETs timed over 1 s of it; quick run: 10,000/s), "
                "against the same with no flood. The subscriber on a connection of its own (what the core does) "
                "against one connection that carries both (RESP3, subscribed, GETs in between the pushes): Debian's hiredis "
                "(0.14) has no RESP3 and a RESP2 subscriber connection refuses GET, so the shared case is a raw socket with "
                "a minimal RESP3 reader in clients_c.c, measured both ways.", "",
                "| GETs on | GET ops/s | p50 µs | p99 µs | flood msg/s received meanwhile |", "|---|---:|---:|---:|---:|"]
        for label, w, what in rows:
            r = med[label][w]
            if "error" in r:
                out.append(f"| {what} | n/a ({r['error']}) | | | |")
                continue
            flood = f"{r['flood_msgs']:,.0f}" if r.get("flood_msgs") else "-"
            out.append(f"| {what} | {r['ops']:,.0f} | {r['p50_us']:.0f} | {r['p99_us']:.0f} | {flood} |")
    return out


W7_ABOUT = """
One publisher for every client (`bench/run.py`, class Publisher): a raw socket writing prebuilt
PUBLISH commands (100 B payloads) as fast as the server takes them, pipelined, from a connection
of its own, so W7 measures the subscriber side. A subscriber process subscribes, then asks for
each round of messages; the publisher waits for PUBSUB NUMSUB to show every subscriber, then
publishes. Rate = messages received / time from the first to the last message, per subscriber
process (W7b: from the first message any of its 10 subscribers got to the last one all got).
W7a: 1 subscriber; W7b: 10 subscriber connections in the one process (a thread each for sync
Python and C, a task each for asyncio, listeners on one event loop for Node), each receiving
every message. A run counts only if every subscriber got every message: a subscriber the server
cut off (the PUBLISH replies count fewer receivers), messages dropped by redbridge's bounded
queue (stats pubsub_dropped, or a gap) or missing make that run "invalid", never a rate. Rounds
are at most 50,000 messages per subscriber, within redbridge's default queue (100,000 messages,
8 MiB) and the server's default pub/sub output buffer limit, both left at their defaults in the
clients; the server's limit is raised for the run all the same (below). Rounds per run: W7a 4 of
50,000 messages, W7b 6 of 20,000 per subscriber (2 until 2026-12-07: a W7b run then lasted about
0.15 s, and the ratio of the same two clients spread from 0.86x to 1.17x between runs).
"""


def otel_section(groups: dict, med: dict) -> list[str]:
    """Issue #21: W1 and W3 of each binding with OpenTelemetry metrics off and on, and of
    the anchors that measure their own (redis-py)."""
    rows = []
    for group, labels in groups.items():
        for label in labels:
            m = med.get(label, {})
            if "OTEL-W1-on" not in m:
                continue
            cells = []
            for w in ("W1", "W3"):
                off, on, today = (m.get(f"OTEL-{w}-off", {}).get("ops"), m.get(f"OTEL-{w}-on", {}).get("ops"), value(med, label, w))
                ratio = m.get(f"OTEL-{w}-ratio", {}).get("ratio")
                cells += [f"{off:,.0f}" if off else "-", f"{on:,.0f}" if on else "-",
                          f"{ratio:.3f} ({'met' if ratio >= OTEL_GOAL else 'MISSED'})" if ratio else "-",
                          f"{off / today:.3f}" if off and today else "-"]
            rows.append(f"| {group} {show(label)} | " + " | ".join(cells) + f" | {m.get('otel_sdk', '?')} |")
    if not rows:
        return []
    return ["", "## OpenTelemetry metrics on and off (issue #21)", "",
            "Each client in one process per run: W1 and W3 with metrics off and with every metric group "
            "recorded through the SDK's in-memory reader (on: Python `redbridge.observability`, Node `OpenTelemetry.init`; "
            "redis-py: its own `redis.observability`, same SDK), "
            "alternated, medians of the rounds, then of the runs; on/off is the median of each round's on/off (the two "
            "measured side by side), a redbridge 'on' time includes recording what is still queued "
            "when the workload ends. Goal: on/off at least 0.95 (on costs at most 5%); off/W is the off figure against "
            "this run's own W1/W3 of the same client in its own process (today's path: 1.0 within noise).", "",
            "| client | W1 off | W1 on | W1 on/off | W1 off/W1 | W3 off | W3 on | W3 on/off | W3 off/W3 | SDK |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|", *rows]


def chart(path: Path, groups: dict, med: dict) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        # The system python runs the bench; matplotlib lives in the bench's scratch venv.
        if PY.exists() and Path(sys.prefix).resolve() != (ENV / "py").resolve():
            data = path.with_suffix(".chart.json")
            data.write_text(json.dumps({"groups": groups, "med": med}))
            subprocess.run([str(PY), __file__, "--chart", str(data), str(path)], check=False)
            data.unlink(missing_ok=True)
        else:
            print("  no matplotlib here: chart skipped")
        return
    shown = [w for w in TITLES if any(w in m for m in med.values())]
    rows = max(1, (len(shown) + 2) // 3)
    fig, axes = plt.subplots(rows, 3, figsize=(18, 5 * rows), squeeze=False)
    for ax in list(axes.flat)[len(shown):]:
        ax.set_visible(False)
    colors = {"Python sync": "#3572A5", "Python asyncio": "#6aa0d8", "Node": "#3c873a", "C": "#777777"}
    for ax, w in zip(axes.flat, shown):
        names, vals, cols, hatches = [], [], [], []
        for group, labels in groups.items():
            for label in labels:
                v = value(med, label, w)
                if v is None:
                    continue
                names.append(f"{group}: {show(label)}")
                vals.append(v)
                cols.append(colors[group])
                hatches.append("" if show(label).startswith("redbridge") else "//")
        y = range(len(names))
        ax.barh(list(y), vals, color=cols, hatch=hatches, edgecolor="white")
        ax.set_yticks(list(y), names, fontsize=7)
        ax.invert_yaxis()
        ax.set_title(TITLES[w], fontsize=10)
        ax.tick_params(axis="x", labelsize=7)
    title = "redbridge (solid) vs the clients users pick instead (hatched) — one run, medians"
    fig.suptitle(title + (" — Redis Cluster" if "cluster" in path.name else ""), fontsize=12)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


# --- main -----------------------------------------------------------------------------


def summarize(order: list, runs: dict) -> tuple[dict, dict]:
    """Medians per client and workload. Keys are "group|label": the same label
    (redbridge) appears in every group."""
    med: dict = {}
    groups: dict[str, list[str]] = {}
    for group, label in order:
        rs = runs.get(f"{label} [{group}]")
        if not rs:
            continue
        key = f"{group}|{label}"
        groups.setdefault(group, []).append(key)
        m: dict = {k: statistics.median(r[k] for r in rs) for k in ("startup_ms", "rss_mb", "peak_rss_mb") if k in rs[0]}
        for w in WORKLOADS + W7C + OTEL:
            got = [r["results"][w] for r in rs if w in r.get("results", {})]
            ok = [x for x in got if "error" not in x]
            if not ok:
                if got:
                    m[w] = got[0]
                continue
            m[w] = {k: statistics.median(x[k] for x in ok) for k in ok[0] if isinstance(ok[0][k], (int, float))}
            if len(ok) < len(got):  # W7: a run whose messages did not all arrive is not a figure
                m[w]["invalid_runs"] = len(got) - len(ok)
                m[w]["invalid_why"] = next(x["error"] for x in got if "error" in x)
        for field in ("version", "w7_note"):
            if field in rs[0]:
                m[field] = rs[0][field]
        if "OTEL-sdk" in rs[0].get("results", {}):
            m["otel_sdk"] = rs[0]["results"]["OTEL-sdk"]["version"]
        med[key] = m
    return groups, med


def run_client(cmd: list[str], env: dict, publisher: Publisher | None) -> dict:
    """Runs one client process; its `W7 ...` lines are served by the publisher while it
    runs. Its last stdout line is its JSON."""
    import tempfile
    import threading

    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=err, text=True)
        timer = threading.Timer(600, proc.kill)
        timer.start()
        floods, last = [], ""
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                if line.startswith("W7 "):
                    floods.append(publisher.serve(line) if publisher else {"tag": line.split()[2], "error": "no publisher in this run"})
                elif line.strip():
                    last = line
            rc = proc.wait()
        finally:
            timer.cancel()
        if rc != 0:
            err.seek(0)
            tail = (err.read() or last).strip().splitlines()
            raise RuntimeError(tail[-1][:200] if tail else f"exit {rc}")
    out = json.loads(last)
    if floods:
        w7_verdict(out.setdefault("results", {}), floods)
    return out


def run_interleaved(todo: list, reps: int, env: dict, publisher: Publisher | None = None) -> tuple[list, dict, dict]:
    """Each client once per round, `reps` rounds: the load averages seen, each client's
    JSON results, and why a client did not run (reported, not fatal)."""
    loads: list = []
    runs: dict = {}
    errors: dict = {}
    for rep in range(reps):
        loads.append(os.getloadavg()[0])
        for c in todo:
            key = f"{c['label']} [{c['group']}]"
            t = time.perf_counter()
            try:
                runs.setdefault(key, []).append(run_client(c["cmd"], env | c["env"], publisher))
                print(f"  run {rep + 1}/{reps} {key}: {time.perf_counter() - t:.1f} s")
            except Exception as e:  # noqa: BLE001 - a client that cannot run is reported, not fatal
                errors[key] = f"did not run: {e}"
                print(f"  run {rep + 1}/{reps} {key}: FAILED {e}")
    loads.append(os.getloadavg()[0])
    return loads, runs, errors


CLUSTER_LOAD = """
import sys, redis.cluster
rc = redis.cluster.RedisCluster.from_url(sys.argv[1])
rc.set("bench:key", "v" * 100)
p = rc.pipeline()
for i in range(int(sys.argv[2])):
    p.set(f"scan:{i}", "s")
    if i % 5000 == 4999:
        p.execute()
p.execute()
"""


def run_cluster(args: argparse.Namespace, quick: bool, reps: int) -> None:
    """W1-W4 against a local 3+3 cluster, for the clients that speak cluster."""
    global WORKLOADS
    WORKLOADS = ["W1", "W2", "W3", "W4"]
    setup_envs(quick)
    harness = ROOT / "tests/harness/redis_server.py"
    info = json.loads(subprocess.run([sys.executable, str(harness), "cluster"], check=True, capture_output=True, text=True).stdout)
    try:
        url = info["url"]
        py = ROOT / "target/py-venv/bin/python" if quick else PY
        sh([str(py), "-c", CLUSTER_LOAD, url, str(2_000 if quick else 100_000)])
        todo = [c for c in clients(quick, "release" if not quick else "debug") if c["group"] != "C" and c["label"] != "redis-py (no hiredis)"]
        if args.groups:
            todo = [c for c in todo if c["group"] in args.groups]
        env = dict(os.environ, QUICK="1" if quick else "0", REDIS_URL=url, BENCH_CLUSTER="1")
        print(f"bench (cluster): {len(todo)} clients x {reps} runs, interleaved; load average {os.getloadavg()}")
        loads, runs, errors = run_interleaved(todo, reps, env)
    finally:
        for pidfile in info["pidfiles"]:
            subprocess.run([sys.executable, str(harness), "stop", pidfile], check=False)
    order = [[c["group"], c["label"]] for c in todo]
    groups, med = summarize(order, runs)
    meta = {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpus": os.cpu_count(),
        "server": "7.x cluster, 3 primaries + 3 replicas on this machine",
        "reps": reps,
        "load": " → ".join(f"{x:.2f}" for x in loads),
    }
    md = report(meta, groups, med, {}, [], errors).replace("# redbridge bench — side by side, one run", "# redbridge bench — Redis Cluster variant (W1-W4), side by side, one run")
    # The ceiling and the targets of issue #8 are the single-server run's.
    md = md.split("\n## The ceiling")[0].split("\n## Targets of issue #8")[0] + "\n"
    out_dir = ROOT / ("target/bench-quick" if quick else "bench/results")
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results-cluster.md").write_text(md)
    (out_dir / "results-cluster.json").write_text(json.dumps({"meta": meta, "order": order, "runs": runs, "errors": errors}, indent=1))
    chart(out_dir / "chart-cluster.png", groups, med)
    print()
    print(md)
    print(f"bench: wrote {out_dir.relative_to(ROOT)}/results-cluster.md, results-cluster.json, chart-cluster.png")


def rerender(path: Path) -> None:
    """Writes results.md and chart.png again from a stored results.json (no new run)."""
    d = json.loads(path.read_text())
    groups, med = summarize(d["order"], d["runs"])
    (path.parent / "results.md").write_text(report(d["meta"], groups, med, d["ceiling"], [tuple(r) for r in d.get("sizes", [])], d["errors"]))
    chart(path.parent / "chart.png", groups, med)


def main() -> None:
    global WORKLOADS
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="tiny run with what is installed; results under target/")
    ap.add_argument("--reps", type=int, default=None, help="runs per client (default 3, quick 1)")
    ap.add_argument("--profile", default=None, help="cargo profile of the C library (default release, quick debug)")
    ap.add_argument("--only", default="", help="comma-separated groups and/or workloads to run (e.g. 'Node,C', 'W7', "
                    "'C,W7'; workloads: W1-W6 (run together), W7 (pub/sub: W7a, W7b and, for C, W7c), OTEL (redbridge's W1 "
                    "and W3 with OpenTelemetry metrics off and on, Python and Node)); a run with --only "
                    "writes under target/bench-only, never over bench/results")
    ap.add_argument("--cluster", action="store_true", help="the cluster variant: W1-W4 on a local 3+3 cluster the script starts")
    ap.add_argument("--chart", nargs=2, metavar=("DATA", "PNG"), help=argparse.SUPPRESS)
    ap.add_argument("--rerender", metavar="RESULTS_JSON", help="write results.md and chart.png again from a stored run")
    args = ap.parse_args()
    if args.rerender:
        rerender(Path(args.rerender))
        return
    if args.chart:
        data = json.loads(Path(args.chart[0]).read_text())
        chart(Path(args.chart[1]), data["groups"], data["med"])
        return
    only = [x.strip() for x in args.only.split(",") if x.strip()]
    args.groups = [x for x in only if not x.upper().startswith("W") and x.upper() != "OTEL"]
    picked = [x.upper() for x in only if x.upper().startswith("W") or x.upper() == "OTEL"]
    unknown = [x for x in picked if x not in ("W7", "W1-W6", "OTEL") and x not in WORKLOADS[:6]]
    if unknown:
        sys.exit(f"bench/run.py: --only knows the workloads W1-W6 (run together), W7 and OTEL, not {', '.join(unknown)}")
    want_w7 = not picked or "W7" in picked
    want_otel = not picked or "OTEL" in picked
    want_w16 = not picked or any(x not in ("W7", "OTEL") for x in picked)
    quick = args.quick
    reps = args.reps or (1 if quick else 3)
    profile = args.profile or ("debug" if quick else "release")
    if args.cluster:
        return run_cluster(args, quick, reps)
    url = os.environ.get("REDIS_URL")
    if not url:
        sys.exit("bench/run.py needs REDIS_URL (make bench starts a throwaway server)")
    setup_envs(quick)
    if Path("/usr/include/hiredis/hiredis.h").exists() and picked != ["OTEL"]:  # else the C clients are skipped
        sh(["gcc", "-O2", f"-I{ROOT / 'bindings-c/include'}", str(ROOT / "bench/clients_c.c"), f"-L{ROOT / 'target' / profile}",
            "-lredbridge", "-lhiredis", "-lpthread", "-o", str(ROOT / "target" / "bench-clients-c")])
    WORKLOADS = [w for w in WORKLOADS if (w.startswith("W7") and want_w7) or (not w.startswith("W7") and want_w16)]
    if want_w16 or want_otel:
        load_data(url)
    todo = clients(quick, profile)
    if args.groups:
        todo = [c for c in todo if c["group"] in args.groups]
    if picked == ["OTEL"]:  # redbridge's Python and Node clients, and redis-py with its own OpenTelemetry
        todo = [c for c in todo if (c["ours"] and c["group"] != "C") or (c["group"], c["label"]) == ("Python sync", "redis-py+hiredis")]
    # BENCH_WORKLOADS tells the clients what to run (without it: W1-W6, as bench/compare.py wants).
    env = dict(os.environ, QUICK="1" if quick else "0",
               BENCH_WORKLOADS=",".join((["W1-W6"] if want_w16 else []) + (["W7"] if want_w7 else []) + (["OTEL"] if want_otel else [])))
    server = subprocess.run(["redis-cli", "-u", url, "INFO", "server"], capture_output=True, text=True).stdout
    version = next((line.split(":")[1].strip() for line in server.splitlines() if line.startswith("redis_version")), "?")
    publisher, w7_server = None, ""
    if want_w7:
        publisher = Publisher(url)
        w7_server = publisher.raise_pubsub_limit()
        print(f"bench: W7 publisher ready; {w7_server}")
    print(f"bench: {len(todo)} clients x {reps} runs, interleaved; load average {os.getloadavg()}")
    try:
        loads, runs, errors = run_interleaved(todo, reps, env, publisher)
    finally:
        if publisher:
            publisher.restore()
    ceiling = redis_benchmark(url, quick) if want_w16 else {}

    order = [[c["group"], c["label"]] for c in todo]
    groups, med = summarize(order, runs)
    meta = {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpus": os.cpu_count(),
        "server": version,
        "reps": reps,
        "load": " → ".join(f"{x:.2f}" for x in loads),
        "w7_server": w7_server,
    }
    size_rows = [] if quick or only else sizes(profile)
    md = report(meta, groups, med, ceiling, size_rows, errors)
    out_dir = ROOT / ("target/bench-quick" if quick else "target/bench-only" if only else "bench/results")
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.md").write_text(md)
    stored = {"meta": meta, "order": order, "runs": runs, "errors": errors, "ceiling": ceiling, "sizes": size_rows}
    (out_dir / "results.json").write_text(json.dumps(stored, indent=1))
    chart(out_dir / "chart.png", groups, med)
    print()
    print(md)
    print(f"bench: wrote {out_dir.relative_to(ROOT)}/results.md, results.json, chart.png")


if __name__ == "__main__":
    main()
