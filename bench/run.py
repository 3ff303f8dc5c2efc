"""The side-by-side bench (docs/architecture.md "Bench workloads", issue #8): every redbridge binding and the clients a
user would pick instead, through W1-W6 against one throwaway server, in one run.

    python3 bench/run.py            # the full run (make bench builds the release artefacts first)
    python3 bench/run.py --quick    # a tiny run with whatever is installed (make test)

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
WORKLOADS = ["W1", "W2", "W3", "W4", "W5", "W6"]
TITLES = {
    "W1": "W1 sequential GET (ops/s)",
    "W2": "W2 pipeline of 100 GETs (ops/s)",
    "W3": "W3 concurrent GETs (ops/s)",
    "W4": "W4 SCAN 100k keys (s, lower is better)",
    "W5": "W5 cached GETs, 100 hot keys (ops/s)",
    "W6": "W6 GET 100 KiB (MB/s)",
}
METRIC = {"W1": "ops", "W2": "ops", "W3": "ops", "W4": "secs", "W5": "ops", "W6": "mb_s"}
PY_ANCHORS = ["redis[hiredis]", "valkey-glide", "valkey-glide-sync", "matplotlib"]
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
    addon = ROOT / "bindings-node" / "redbridge.linux-x64-gnu.node"
    if addon.exists():
        rows.append(("Node", "redbridge (installed: addon + JS)", (addon.stat().st_size + sum(f.stat().st_size for f in (ROOT / "bindings-node").glob("*.js")) + (ROOT / "bindings-node/index.d.ts").stat().st_size) / 1e6, "release .node, index.js, index.d.ts"))
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
    ("Node", "W1", "ioredis", 1.0),
    ("Node", "W2", "node-redis", 1.5),
    ("Node", "W3", "best of node-redis/ioredis", 1.5),
    ("Node", "W3", "valkey-glide", 1.2),
    ("C", "W1", "hiredis", 0.9),
    ("C", "W2", "hiredis", 0.9),
    ("C", "W2", "redis-benchmark", 0.6),
] + [(g, "W4", "fastest anchor", 1.0) for g in ("Python sync", "Python asyncio", "Node", "C")] + [
    (g, "W6", "best anchor", 0.9) for g in ("Python sync", "Python asyncio", "Node", "C")
]


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
    if w == "W1" and "p50_us" in r:
        s += f" (p50 {r['p50_us']:.0f} / p99 {r['p99_us']:.0f} µs)"
    return s


def report(meta: dict, groups: dict, med: dict, ceiling: dict, size_rows: list, errors: dict) -> str:
    out = ["# redbridge bench — side by side, one run", ""]
    out.append(f"{meta['when']}, {meta['cpus']} CPUs, redis-server {meta['server']}, {meta['reps']} runs per client, "
               f"interleaved, median shown; values 100 B unless stated. Load average: {meta['load']}.")
    out.append("")
    out.append("Ratios are redbridge / anchor as 'times as fast' (for W4, anchor seconds / redbridge seconds).")
    out.append("W3 is 8 threads sharing one client for sync Python and C (hiredis: one context per thread), "
               "64 requests in flight for asyncio and Node.")
    for group, labels in groups.items():
        ours = labels[0]
        out += ["", f"## {group}", "", "| client | " + " | ".join(TITLES[w] for w in WORKLOADS) + " |",
                "|---|" + "---:|" * len(WORKLOADS)]
        for label in labels:
            cells = [fmt(w, med.get(label, {}).get(w)) for w in WORKLOADS]
            out.append(f"| {show(label)} | " + " | ".join(cells) + " |")
        for label in labels[1:]:
            cells = []
            for w in WORKLOADS:
                a, b = value(med, ours, w), value(med, label, w)
                cells.append(f"{speed_ratio(w, a, b):.2f}x" if a and b else "-")
            out.append(f"| redbridge / {show(label)} | " + " | ".join(cells) + " |")
        notes = [f"{show(label)} {w}: {r['error']}" for label in labels for w, r in med.get(label, {}).items() if isinstance(r, dict) and "error" in r]
        notes += [f"{label.rsplit(' [', 1)[0]}: {e}" for label, e in errors.items() if label.endswith(f"[{group}]")]
        if notes:
            out += [""] + [f"- {n}" for n in sorted(set(notes))]
        start = [f"{show(label)}: {med[label]['startup_ms']:.0f} ms, RSS {med[label].get('rss_mb', 0):.0f} MB (peak {med[label].get('peak_rss_mb', 0):.0f} MB)"
                 for label in labels if label in med and "startup_ms" in med[label] and group != "C"]
        if start:
            out += ["", "Import + connect (first PING), resident memory after connect and at the end:", ""] + [f"- {s}" for s in start]
    out += ["", "## The ceiling: redis-benchmark on the same server", "", "| workload | redis-benchmark | result |", "|---|---|---:|"]
    for w, r in ceiling.items():
        out.append(f"| {w} | {r['note']} | " + (f"{r['ops']:,.0f} ops/s" if "ops" in r else f"{r['mb_s']:,.0f} MB/s") + " |")
    out += ["", "## Targets of issue #8", "", "| language | workload | against | goal | measured | |", "|---|---|---|---:|---:|---|"]
    out += check_targets(groups, med, ceiling)
    if size_rows:
        out += ["", "## Package sizes", "", "| language | package | MB | |", "|---|---|---:|---|"]
        out += [f"| {g} | {w} | {mb:.2f} | {n} |" for g, w, mb, n in size_rows]
    return "\n".join(out) + "\n"


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
    fig, axes = plt.subplots(2, 3, figsize=(18, 10))
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
        for w in WORKLOADS:
            ok = [r["results"][w] for r in rs if "error" not in r["results"][w]]
            if not ok:
                m[w] = rs[0]["results"][w]
                continue
            m[w] = {k: statistics.median(x[k] for x in ok) for k in ok[0] if isinstance(ok[0][k], (int, float))}
        med[key] = m
    return groups, med


def run_interleaved(todo: list, reps: int, env: dict) -> tuple[list, dict, dict]:
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
                r = subprocess.run(c["cmd"], env=env | c["env"], capture_output=True, text=True, timeout=600)
                if r.returncode != 0:
                    tail = (r.stderr or r.stdout).strip().splitlines()
                    raise RuntimeError(tail[-1][:200] if tail else f"exit {r.returncode}")
                runs.setdefault(key, []).append(json.loads(r.stdout.strip().splitlines()[-1]))
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
        if args.only:
            todo = [c for c in todo if c["group"] in args.only.split(",")]
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
    md = md.split("\n## The ceiling")[0] + "\n"
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
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="tiny run with what is installed; results under target/")
    ap.add_argument("--reps", type=int, default=None, help="runs per client (default 3, quick 1)")
    ap.add_argument("--profile", default=None, help="cargo profile of the C library (default release, quick debug)")
    ap.add_argument("--only", default="", help="comma-separated groups to run (e.g. 'Node,C')")
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
    quick = args.quick
    reps = args.reps or (1 if quick else 3)
    profile = args.profile or ("debug" if quick else "release")
    if args.cluster:
        return run_cluster(args, quick, reps)
    url = os.environ.get("REDIS_URL")
    if not url:
        sys.exit("bench/run.py needs REDIS_URL (make bench starts a throwaway server)")
    setup_envs(quick)
    if Path("/usr/include/hiredis/hiredis.h").exists():  # else the C clients are skipped
        sh(["gcc", "-O2", f"-I{ROOT / 'bindings-c/include'}", str(ROOT / "bench/clients_c.c"), f"-L{ROOT / 'target' / profile}",
            "-lredbridge", "-lhiredis", "-lpthread", "-o", str(ROOT / "target" / "bench-clients-c")])
    load_data(url)
    todo = clients(quick, profile)
    if args.only:
        todo = [c for c in todo if c["group"] in args.only.split(",")]
    env = dict(os.environ, QUICK="1" if quick else "0")
    server = subprocess.run(["redis-cli", "-u", url, "INFO", "server"], capture_output=True, text=True).stdout
    version = next((line.split(":")[1].strip() for line in server.splitlines() if line.startswith("redis_version")), "?")
    print(f"bench: {len(todo)} clients x {reps} runs, interleaved; load average {os.getloadavg()}")
    loads, runs, errors = run_interleaved(todo, reps, env)
    ceiling = redis_benchmark(url, quick)

    order = [[c["group"], c["label"]] for c in todo]
    groups, med = summarize(order, runs)
    meta = {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpus": os.cpu_count(),
        "server": version,
        "reps": reps,
        "load": " → ".join(f"{x:.2f}" for x in loads),
    }
    size_rows = [] if quick else sizes(profile)
    md = report(meta, groups, med, ceiling, size_rows, errors)
    out_dir = ROOT / ("target/bench-quick" if quick else "bench/results")
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
