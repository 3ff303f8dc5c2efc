"""Before and after, side by side: W1-W3 of every redbridge binding built from two commits,
against one throwaway server, in one run.

    python3 bench/compare.py BEFORE [--rounds 5] [--full]

BEFORE is a git revision (the tree as it was); the other side is the working tree. Both
sides are release builds, as `make bench` makes them: the wheel (installed into its own
virtualenv), the Node addon, libredbridge and the C bench client. The other revision is
checked out in a git worktree under target/compare/ with a target directory of its own,
so neither build disturbs the other. Each side runs its own bench/clients_*.{py,js,c}, so
a client script that changed between the two is measured as each side had it.

Rounds are interleaved (each binding: before, after, or after, before, alternating) and
the median of each side is printed with after/before. QUICK sizes unless --full. Never
fails on a number; prints what it measured.
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
WORK = ROOT / "target" / "compare"
HARNESS = ROOT / "tests" / "harness" / "redis_server.py"
WORKLOADS = ["W1", "W2", "W3"]
METRIC = {"W1": "ops", "W2": "ops", "W3": "ops"}


def sh(cmd: list, **kw: object) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], check=True, **kw)  # type: ignore[call-overload]


class Side:
    """One tree and the release artefacts built from it."""

    def __init__(self, name: str, tree: Path, target: Path) -> None:
        self.name, self.tree, self.target = name, tree, target
        self.venv = WORK / f"{name}-py"
        self.cbin = WORK / f"{name}-bench-clients-c"

    def build(self) -> None:
        env = dict(os.environ, CARGO_TARGET_DIR=str(self.target))
        print(f"[{self.name}] building release artefacts of {self.tree}", flush=True)
        sh(["cargo", "build", "-q", "--release", "-p", "redbridge-c", "--features", "mimalloc"], cwd=self.tree, env=env)
        sh(["gcc", "-O2", f"-I{self.tree / 'bindings-c/include'}", self.tree / "bench/clients_c.c", f"-L{self.target / 'release'}",
            "-lredbridge", "-lhiredis", "-lpthread", "-o", self.cbin])
        maturin = ROOT / "target/py-venv/bin/maturin"
        wheels = WORK / f"{self.name}-wheels"
        sh(["rm", "-rf", wheels])
        sh([maturin, "build", "-q", "--release", "-o", wheels], cwd=self.tree, env=env, stdout=subprocess.DEVNULL)
        if not (self.venv / "bin/python").exists():
            sh([sys.executable, "-m", "venv", self.venv])
        wheel = sorted(wheels.glob("redbridge-*.whl"))[-1]
        sh([self.venv / "bin/python", "-m", "pip", "install", "-q", "--disable-pip-version-check", "--force-reinstall", "--no-deps", wheel])
        node = self.tree / "bindings-node"
        if not (node / "node_modules").exists():
            sh(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", "--ignore-scripts"], cwd=node)
        sh(["node", "scripts/build.js", "--release"], cwd=node, env=env, stdout=subprocess.DEVNULL)

    def clients(self) -> dict[str, list]:
        py = [self.venv / "bin/python", self.tree / "bench/clients_py.py"]
        return {
            "Python sync": [*py, "redbridge"],
            "Python asyncio": [*py, "redbridge.asyncio"],
            "Node": ["node", self.tree / "bench/clients_node.js", "redbridge"],
            "C": [self.cbin, "redbridge"],
        }

    def env(self) -> dict[str, str]:
        return {"LD_LIBRARY_PATH": str(self.target / "release"),
                "BENCH_NODE_MODULES": str(self.tree / "bindings-node/node_modules")}


def before_tree(rev: str) -> Path:
    tree = WORK / "before"
    commit = sh(["git", "rev-parse", f"{rev}^{{commit}}"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    if tree.exists():
        sh(["git", "checkout", "-q", "--detach", commit], cwd=tree)
    else:
        WORK.mkdir(parents=True, exist_ok=True)
        sh(["git", "worktree", "add", "-q", "--detach", tree, commit], cwd=ROOT)
    return tree


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("before", help="git revision of the 'before' side")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--full", action="store_true", help="the full sizes instead of QUICK ones")
    ap.add_argument("--no-build", action="store_true", help="reuse the artefacts of the last run")
    ap.add_argument("--only", help="comma-separated bindings to measure (e.g. Node,C)")
    args = ap.parse_args()

    sides = [Side("before", before_tree(args.before), WORK / "before-target"), Side("after", ROOT, ROOT / "target")]
    if not args.no_build:
        for s in sides:
            s.build()
    sys.path.insert(0, str(ROOT / "bench"))
    import run  # the bench's data loader: the same keys as `make bench`

    info = json.loads(sh([sys.executable, HARNESS, "start"], capture_output=True, text=True).stdout)
    try:
        url = info["url"]
        run.load_data(url)
        env = dict(os.environ, QUICK="0" if args.full else "1", REDIS_URL=url)
        runs: dict = {}
        bindings = [b for b in sides[0].clients() if not args.only or b in args.only.split(",")]
        for r in range(args.rounds):
            for binding in bindings:
                order = sides if r % 2 == 0 else sides[::-1]
                for s in order:
                    out = subprocess.run([str(c) for c in s.clients()[binding]], env=env | s.env(),
                                         capture_output=True, text=True, timeout=900)
                    if out.returncode != 0:
                        print(f"  {binding} [{s.name}] failed: {(out.stderr or out.stdout).strip()[-300:]}")
                        continue
                    res = json.loads(out.stdout.strip().splitlines()[-1])["results"]
                    runs.setdefault((binding, s.name), []).append(res)
            print(f"  round {r + 1}/{args.rounds} done, load average {os.getloadavg()[0]:.2f}", flush=True)
    finally:
        sh([sys.executable, HARNESS, "stop", info["pidfile"]])

    commit = lambda tree: subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=tree, capture_output=True, text=True).stdout.strip()
    dirty = " (+ uncommitted changes)" if subprocess.run(["git", "diff", "--quiet", "HEAD"], cwd=ROOT).returncode else ""
    print(f"\nbefore = {commit(sides[0].tree)}, after = {commit(ROOT)}{dirty}; {args.rounds} rounds, "
          f"{'full' if args.full else 'QUICK'} sizes, release builds, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"{'binding':<16}{'workload':<10}{'before ops/s':>14}{'after ops/s':>14}{'after/before':>14}")
    for binding in bindings:
        for w in WORKLOADS:
            med = {}
            for s in sides:
                vals = [x[w][METRIC[w]] for x in runs.get((binding, s.name), []) if w in x and METRIC[w] in x[w]]
                med[s.name] = statistics.median(vals) if vals else None
            b, a = med["before"], med["after"]
            ratio = f"{a / b:.2f}x" if a and b else "-"
            fmt = lambda v: f"{v:,.0f}" if v else "-"
            print(f"{binding:<16}{w:<10}{fmt(b):>14}{fmt(a):>14}{ratio:>14}")


if __name__ == "__main__":
    main()
