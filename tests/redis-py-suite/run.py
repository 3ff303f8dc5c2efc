#!/usr/bin/env python3
"""redis-py's own test suite against redbridge (issue #16, "How it is measured").

    python3 tests/redis-py-suite/run.py [--python PY] [--only sync|asyncio] [--per-test-timeout S]

1. Fetches the redis-py 8.1.0 sdist once into target/redis-py-suite/ (pip download
   --no-binary :all:; the newest 8.1.x if 8.1.0 is missing) and extracts its tests/, its
   redis/ package and its pyproject.toml (the suite's pytest settings) there. Nothing
   fetched goes into the repository. The baseline runs redis-py 8.1.0 from that sdist (the
   same release as its tests), not whatever redis the virtualenv holds.
2. Starts one throwaway redis-server (tests/harness/redis_server.py, loopback) and runs the
   chosen files with pytest (target/py-venv/bin/python), one run at a time, sync and
   asyncio apart, each twice: with redis-py's own client (the baseline), then with
   redbridge swapped in by the fixture switch (redbridge_switch.py beside this file,
   REDBRIDGE_SWITCH=1). The suite's pytest plugins (pytest-asyncio, pytest-timeout, pinned
   below) are installed by pip into target/redis-py-suite/plugins, on PYTHONPATH for these
   runs only. Every test is counted (no -x); each pytest run is bounded by pytest-timeout
   per test and by 20 minutes in all.
3. Prints a line per file and per group (redis-py N passed / redbridge M passed) and writes
   target/redis-py-suite/report.md: counts per file, redbridge's most common failure
   reasons, what the switch dropped.

A measurement: it exits 0 whatever the tests do, non-zero when it could not measure (no
download, no server, a run that recorded nothing), and, with --floor P, when redbridge
passes fewer than P% of redis-py's passes in a group, among the tests that do not test
redis-py's own objects (its Connection, pool, parser, callback table: they cannot apply
to another client; `make test` uses it as a regression gate). Failures a documented redbridge decision explains (DECISION_TESTS,
DECISION_REASONS and DECISION_CASES below, listed in the README) are counted apart from the open ones.
Stdlib only (pip and pytest run as subprocesses); stops the server it started by PID.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tarfile
import time
from collections import Counter, defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
WORK = os.path.join(REPO, "target", "redis-py-suite")
HARNESS = os.path.join(REPO, "tests", "harness", "redis_server.py")
DEFAULT_PY = os.path.join(REPO, "target", "py-venv", "bin", "python")
WANTED = "8.1.0"
RUN_TIMEOUT = 20 * 60  # seconds, per pytest run
# The pytest plugins redis-py's suite needs, pinned to what the figures were measured with.
# Installed (by pip, --no-deps: pytest is the venv's) into PLUGINS, which only these runs
# put on PYTHONPATH: in the venv, pytest would load them for `make test-python` too.
PLUGINS = os.path.join(WORK, "plugins")
PLUGIN_PINS = ["pytest-asyncio==1.5.0", "pytest-timeout==2.4.0"]

SYNC_FILES = ["test_commands.py", "test_pipeline.py", "test_scripting.py", "test_lock.py",
              "test_function.py", "test_hash.py", "test_encoding.py", "test_pubsub.py"]
GROUPS = {"sync": ["tests/" + f for f in SYNC_FILES],
          "asyncio": ["tests/test_asyncio/" + f for f in SYNC_FILES]}
MODES = ("redis-py", "redbridge")
OUTCOMES = ("passed", "failed", "error", "skipped", "xfailed", "xpassed")


def log(msg: str) -> None:
    print(msg, flush=True)


# ---------------------------------------------------------------- the sdist

def fetch_sdist(py: str) -> str:
    """The path of the redis 8.1.x sdist in WORK, downloaded once."""
    os.makedirs(WORK, exist_ok=True)

    def have():
        found = sorted(glob.glob(os.path.join(WORK, "redis-8.1.*.tar.gz")),
                       key=lambda p: [int(x) for x in re.findall(r"\d+", os.path.basename(p))])
        exact = os.path.join(WORK, f"redis-{WANTED}.tar.gz")
        return exact if exact in found else (found[-1] if found else None)

    path = have()
    if path:
        return path
    base = [py, "-m", "pip", "download", "--disable-pip-version-check", "--no-binary", ":all:",
            "--no-deps", "-d", WORK]
    for spec in (f"redis=={WANTED}", "redis>=8.1.0,<8.2"):
        log(f"fetching the {spec} sdist from PyPI (pip download --no-binary :all:)")
        r = subprocess.run(base + [spec], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, timeout=600)
        path = have()
        if r.returncode == 0 and path:
            if spec != f"redis=={WANTED}":
                log(f"redis {WANTED} is not on PyPI; using {os.path.basename(path)}")
            return path
        log(r.stdout[-2000:])
    sys.exit("run.py: could not download a redis 8.1.x sdist")


def extract(sdist: str) -> str:
    """Extracts tests/, redis/ and pyproject.toml of the sdist; returns its folder."""
    name = os.path.basename(sdist)[: -len(".tar.gz")]
    root = os.path.join(WORK, name)
    marker = os.path.join(root, ".extracted")
    if os.path.exists(marker):
        return root
    keep = (f"{name}/tests/", f"{name}/redis/", f"{name}/pyproject.toml", f"{name}/PKG-INFO")
    with tarfile.open(sdist) as tar:
        members = [m for m in tar.getmembers()
                   if (m.isfile() or m.isdir()) and m.name.startswith(keep) and ".." not in m.name.split("/")]
        kwargs = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        tar.extractall(WORK, members=members, **kwargs)
    with open(marker, "w") as f:
        f.write(sdist + "\n")
    return root


# ---------------------------------------------------------------- the server

def resp(host: str, port: int, *args: str) -> bytes:
    """One command, the raw reply (enough for +OK, -ERR and one bulk string)."""
    out = b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a.encode()), a.encode()) for a in args)
    with socket.create_connection((host, port), timeout=5) as s:
        s.sendall(out)
        data = s.recv(65536)
        if data.startswith(b"$"):
            size = int(data[1:data.index(b"\r\n")])
            head = data.index(b"\r\n") + 2
            while len(data) < head + size + 2:
                more = s.recv(65536)
                if not more:
                    break
                data += more
            return data[head:head + size]
        return data


class Server:
    def __init__(self) -> None:
        self.info = None

    def start(self) -> None:
        r = subprocess.run([sys.executable, HARNESS, "start"], stdout=subprocess.PIPE, text=True, timeout=60)
        if r.returncode != 0:
            sys.exit("run.py: the throwaway redis-server did not start")
        self.info = json.loads(r.stdout.strip().splitlines()[-1])
        log(f"redis-server: {self.info['url']} (pid {self.info['pid']})")

    def stop(self) -> None:
        if self.info:
            subprocess.run([sys.executable, HARNESS, "stop", self.info["pidfile"]], timeout=30)
            self.info = None

    def alive(self) -> bool:
        try:
            return resp(self.info["host"], self.info["port"], "PING").startswith(b"+PONG")
        except OSError:
            return False

    def version(self) -> str:
        text = resp(self.info["host"], self.info["port"], "INFO", "server").decode(errors="replace")
        m = re.search(r"redis_version:(\S+)", text)
        return m.group(1) if m else "?"

    def reset(self) -> None:
        """Between runs: no data, scripts or functions left by the previous one."""
        for cmd in (("FLUSHALL",), ("SCRIPT", "FLUSH"), ("FUNCTION", "FLUSH"), ("CONFIG", "RESETSTAT")):
            resp(self.info["host"], self.info["port"], *cmd)


# ---------------------------------------------------------------- the runs

def git_rev() -> str:
    return subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, text=True).stdout.strip() or "?"


def suite_env() -> dict:
    env = dict(os.environ)
    env.pop("REDIS_URL", None)
    env.update(PYTHONPATH=os.pathsep.join([HERE, PLUGINS]), PYTHONDONTWRITEBYTECODE="1")
    return env


def git_dirty() -> bool:
    return bool(subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--", "bindings-python", "core"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout.strip())


def has_module(py: str, module: str) -> bool:
    return subprocess.run([py, "-c", f"import {module}"], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, env=suite_env()).returncode == 0


def ensure_plugins(py: str) -> None:
    stamp = os.path.join(PLUGINS, ".pins")
    want = " ".join(PLUGIN_PINS)
    if os.path.exists(stamp) and open(stamp).read().strip() == want:
        return
    log(f"installing {want} into {os.path.relpath(PLUGINS, REPO)} (pip --target)")
    r = subprocess.run([py, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-deps",
                        "--upgrade", "--target", PLUGINS, *PLUGIN_PINS],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
    if r.returncode != 0:
        sys.exit(f"run.py: could not install {want}:\n{r.stdout[-2000:]}")
    with open(stamp, "w") as f:
        f.write(want + "\n")


# --protocol 3: the suite's clients are made with protocol=3 (redis-py's RESP3 shapes);
# the runs and the report get a "-resp3" suffix. Empty: redis-py's default.
PROTOCOL = ""


def run_pytest(py: str, root: str, files, mode: str, group: str, url: str, per_test_timeout) -> dict:
    out = os.path.join(WORK, "runs", f"{group}-{mode}" + (f"-resp{PROTOCOL}" if PROTOCOL else ""))
    os.makedirs(out, exist_ok=True)
    for stale in ("results.jsonl", "meta.json"):
        if os.path.exists(os.path.join(out, stale)):
            os.unlink(os.path.join(out, stale))
    env = suite_env()
    env.update(REDBRIDGE_SWITCH="1" if mode == "redbridge" else "0", REDBRIDGE_SWITCH_OUT=out)
    cmd = [py, "-m", "pytest", "-p", "no:cacheprovider", "-p", "redbridge_switch",
           "--redis-url", url + "/0", "-q", "--disable-warnings", "-o", "log_cli=false",
           # Python's own traceback format: pytest's long one re-parses test_commands.py
           # (8,600 lines) for every failure, which made a run of many failures 10x slower.
           "--tb=native"]
    if per_test_timeout:
        cmd += ["--timeout", str(per_test_timeout)]
    if PROTOCOL:
        cmd += ["--protocol", PROTOCOL]
    cmd += files
    logfile = os.path.join(out, "pytest.log")
    log(f"  {group} / {mode}: pytest {len(files)} files (log: {os.path.relpath(logfile, REPO)})")
    started = time.monotonic()
    cut = False
    with open(logfile, "w") as lf:
        # cwd = the sdist: `python -m pytest` puts it first on sys.path (its redis/ and
        # tests/ package), and pytest reads the suite's own pyproject.toml settings.
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=lf, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            proc.wait(timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            cut = True
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    elapsed = time.monotonic() - started
    results = []
    path = os.path.join(out, "results.jsonl")
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                try:
                    results.append(json.loads(line))
                except ValueError:
                    pass  # a line cut by the timeout
    meta = {}
    if os.path.exists(os.path.join(out, "meta.json")):
        with open(os.path.join(out, "meta.json")) as f:
            meta = json.load(f)
    if not results:
        with open(logfile) as f:
            tail = f.read()[-3000:]
        sys.exit(f"run.py: the {group}/{mode} run recorded no test (exit {proc.returncode}):\n{tail}")
    log(f"    {len(results)} tests in {elapsed:.0f} s" + (" (cut at 20 minutes)" if cut else ""))
    return {"results": results, "meta": meta, "cut": cut, "elapsed": elapsed,
            "returncode": proc.returncode}


# ---------------------------------------------------------------- the figures

# redbridge's documented decisions (README, "redis-py's own tests"): failures they explain,
# by test name (parameters dropped) or by what the failure says. Each is counted and
# listed apart from the open failures; the pass counts are not changed by it.
DECISION_TESTS = {
    "no argument values in errors (a pipeline error names the command only)": [
        "test_exec_error_raised", "test_parse_error_raised", "test_parse_error_raised_transaction",
        "test_exec_error_in_no_transaction_pipeline", "test_exec_error_in_no_transaction_pipeline_unicode_command",
        "test_exec_error_in_pipeline_truncated"],
    "connection state through a command on shared connections (CLIENT TRACKING is the cache's, "
    "CLIENT REPLY)": ["test_client_tracking", "test_client_reply"],
    "AUTH is part of the handshake (HELLO 3 AUTH), which a server without a password accepts": ["test_auth"],
    "RESP3 sets become Python sets (their order is not kept)": ["test_command_getkeysandflags"],
    "redis-py's own OpenTelemetry hooks (redbridge's are issue #21)": [
        "test_async_xread_exports_streaming_lag_metric", "test_async_xread_handles_empty_response",
        "test_async_xreadgroup_exports_streaming_lag_metric_with_consumer_group"],
    "redis-py's module command classes (JSON, search…): execute_command reaches them": [
        "test_pipeline_json_module_access"],
    "compares with redis-py's own callback table": ["test_response_callbacks"],
    "isinstance against redis-py's own Script class": ["test_register_script_with_cluster_client"],
    "a subscriber whose connection dies is resubscribed by the core and told of the gap, "
    "where redis-py raises ConnectionError": ["test_connection_error_raised_when_connection_dies"],
    "redis-py's ClusterPubSub internals (mocked per-node PubSub objects)": [
        "test_reinitialize_tolerates_old_node_disconnect",
        "test_reinitialize_drops_old_pubsub_when_node_removed_from_topology"],
}
DECISION_REASONS = {
    "tests redis-py's connection objects or mocks of them (redbridge has no Connection, "
    "ConnectionPool or parse_response)": [
        "does not have the attribute 'connection'", "object has no attribute 'connection'",
        "no attribute 'connection_pool'",
        "no attribute 'parse_response'", "expected call not found", "expected await not found",
        "no attribute 'is_health_check_response'", "no attribute 'health_check_response'",
        "no attribute '_sock'", "does not have the attribute '_parser'", "no attribute 'socket_timeout'",
        "no attribute 'on_connect'"],
}


# A test by name when it fails with this reason only (the same name may fail for another
# reason elsewhere: the sync test_reconnect_disconnect patches redis-py's socket).
OWN_CLIENT = ("builds redis-py's own client (redis.Redis(port=6390)), whose ConnectionError is redis-py's "
              "class, where the switch gave the test redbridge's")
DECISION_CASES = {
    OWN_CLIENT: [("test_channel_subscribe", "redis.exceptions.ConnectionError")],
    "a subscriber's dropped connection is made again at once (redis-py reconnects on the next read): "
    "under CPU load it is back before the test's next line asserts that it is down": [
        ("test_reconnect_disconnect", "assert ")],
}


def decision(result: dict):
    """The documented decision that explains a redbridge failure, or None."""
    name = result["nodeid"].split("::")[-1].split("[")[0]
    reason = result.get("reason", "")
    for why, names in DECISION_TESTS.items():
        if name in names:
            return why
    for why, texts in DECISION_REASONS.items():
        if any(t in reason for t in texts):
            return why
    for why, cases in DECISION_CASES.items():
        if any(name == n and t in reason for n, t in cases):
            return why
    return None

def counts(results) -> dict:
    c = Counter(r["outcome"] for r in results)
    return {k: c.get(k, 0) for k in OUTCOMES}


def pct(a: int, b: int) -> str:
    return f"{100 * a / b:.0f}%" if b else "n/a"


def failures(results):
    return [r for r in results if r["outcome"] in ("failed", "error", "xpassed")]


def exc_type(reason: str) -> str:
    m = re.match(r"^([A-Za-z_][\w.]*)(:|$)", reason)
    return m.group(1) if m else "(other)"


def md_reason(text: str) -> str:
    return "`" + text.replace("`", "'").replace("|", "\\|") + "`" if text else "(no message)"


def write_report(path: str, header: dict, runs: dict, files_used: dict) -> None:
    L = []
    L.append("# redis-py's own test suite against redbridge (issue #16)\n")
    L.append(f"Generated by `tests/redis-py-suite/run.py` on {header['date']}.\n")
    L.append(f"- redis-py suite: {header['sdist']} (tests and client from the sdist; redis-py {header['redis_py']})")
    L.append(f"- server: one throwaway redis-server {header['server']} on loopback, both runs")
    L.append(f"- redbridge: {header['redbridge']} from this tree at {header['rev']}")
    L.append(f"- interpreter: {header['python']} with {', '.join(PLUGIN_PINS)}; per-test timeout: {header['timeout']}")
    L.append("- passed = setup, call and teardown all passed; error = setup or teardown failed; "
             "% = redbridge passed / redis-py passed.\n")
    for group, files in files_used.items():
        if group not in runs:
            continue
        base, rb = runs[group]["redis-py"], runs[group]["redbridge"]
        L.append(f"## {group}\n")
        L.append("Files: " + ", ".join(f"`{f}`" for f in files) + "\n")
        L.append("| file | tests | redis-py passed | failed | error | skipped | redbridge passed | failed | error "
                 "| skipped | % | passed without a redbridge client |")
        L.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
        for f in files + ["total"]:
            b = [r for r in base["results"] if f == "total" or r["file"] == f]
            x = [r for r in rb["results"] if f == "total" or r["file"] == f]
            cb, cx = counts(b), counts(x)
            unswitched = sum(1 for r in x if r["outcome"] == "passed" and not r["switched"])
            name = "**total**" if f == "total" else f"`{f}`"
            L.append(f"| {name} | {len(b)} | {cb['passed']} | {cb['failed']} | {cb['error']} | {cb['skipped']} "
                     f"| {cx['passed']} | {cx['failed']} | {cx['error']} | {cx['skipped']} "
                     f"| {pct(cx['passed'], cb['passed'])} | {unswitched} |")
        for mode in MODES:
            if runs[group][mode]["cut"]:
                L.append(f"\n**The {mode} run was cut at 20 minutes**: the counts above are of the tests that ran.")
        L.append("")
        fx = failures(rb["results"])
        L.append(f"### {group}: redbridge's most common failure reasons (all files, {len(fx)} failures)\n")
        L.append("| count | reason |")
        L.append("|---|---|")
        for reason, n in Counter(r["reason"] for r in fx).most_common(30):
            L.append(f"| {n} | {md_reason(reason)} |")
        L.append(f"\n### {group}: redbridge's failures by exception type\n")
        L.append("| count | type |")
        L.append("|---|---|")
        for t, n in Counter(exc_type(r["reason"]) for r in fx).most_common():
            L.append(f"| {n} | `{t}` |")
        rbx = [r for r in fx if r["reason"].startswith("redbridge.exceptions.")]
        in_raises = sum(1 for r in rbx if r.get("in_raises"))
        if rbx:
            L.append(f"\n{len(rbx)} failures are redbridge exceptions; {in_raises} of them escaped a test that "
                     "uses `pytest.raises` (the switch maps redis-py's exception classes to redbridge's, "
                     "but the lock errors, so these expected another error or none).")
        phases = Counter(r["phase"] for r in fx)
        L.append(f"\nBy phase: {phases.get('setup', 0)} in setup, {phases.get('call', 0)} in the test, "
                 f"{phases.get('teardown', 0)} in teardown.\n")
        for f in files:
            ff = [r for r in fx if r["file"] == f]
            if not ff:
                continue
            L.append(f"### {group}: `{f}`, redbridge's 20 most common failure reasons ({len(ff)} failures)\n")
            L.append("| count | reason |")
            L.append("|---|---|")
            for reason, n in Counter(r["reason"] for r in ff).most_common(20):
                L.append(f"| {n} | {md_reason(reason)} |")
            L.append("")
        explained = Counter(decision(r) for r in fx if decision(r))
        L.append(f"### {group}: failures a documented decision explains ({sum(explained.values())} of {len(fx)})\n")
        L.append("| count | decision (README, \"redis-py's own tests\") |")
        L.append("|---|---|")
        for why, n in explained.most_common():
            L.append(f"| {n} | {why} |")
        base_failed = {r["nodeid"] for r in failures(base["results"])}
        open_ = sorted(r["nodeid"] for r in fx if not decision(r) and r["nodeid"] not in base_failed)
        L.append(f"\nOpen (no decision explains them, and redis-py passes them here; {len(open_)}): "
                 + (", ".join(f"`{n}`" for n in open_) or "none") + "\n")
        bf = failures(base["results"])
        L.append(f"### {group}: redis-py's own failures on this server ({len(bf)})\n")
        L.append("They fail with redis-py too (server version, modules, setup), so they bound what redbridge "
                 "can reach here.\n")
        L.append("| count | reason |")
        L.append("|---|---|")
        for reason, n in Counter(r["reason"] for r in bf).most_common(15):
            L.append(f"| {n} | {md_reason(reason)} |")
        L.append("")
        # Tests redis-py passes and redbridge fails (the work list), and the opposite.
        bpass = {r["nodeid"] for r in base["results"] if r["outcome"] == "passed"}
        xpass = {r["nodeid"] for r in rb["results"] if r["outcome"] == "passed"}
        only_rb = sorted(xpass - bpass)
        if only_rb:
            L.append(f"Passed with redbridge but not with redis-py ({len(only_rb)}): "
                     + ", ".join(f"`{n}`" for n in only_rb[:20]) + (" …" if len(only_rb) > 20 else "") + "\n")
        unswitched = sorted(r["nodeid"] for r in rb["results"] if r["outcome"] == "passed" and not r["switched"])
        if unswitched:
            L.append(f"Passed in the redbridge run without building a redbridge client ({len(unswitched)}; "
                     "they test redis-py objects or mocks, not redbridge): "
                     + ", ".join(f"`{n}`" for n in unswitched) + "\n")
        meta = rb["meta"]
        L.append(f"### {group}: the switch\n")
        L.append(f"- seams: {', '.join(meta.get('seams', [])) or '(none)'}")
        L.append(f"- redbridge clients built by the factories: {meta.get('clients_built', 0)}")
        dropped = meta.get("dropped_kwargs", {})
        L.append("- keyword arguments redbridge refused as unknown, dropped: "
                 + (", ".join(f"`{k}` ×{v}" for k, v in sorted(dropped.items(), key=lambda kv: -kv[1])) or "none"))
        L.append("- redis-py pool internals never passed on: "
                 + (", ".join(f"`{k}`" for k in meta.get("pool_internal_kwargs", [])) or "none"))
        L.append("- fixture lifecycle calls answered for redbridge (to the conftests only): "
                 + (", ".join(f"`{k}` ×{v}" for k, v in meta.get("shims_used", {}).items()) or "none"))
        ns = meta.get("not_switched", {})
        L.append("- `_get_client` classes left to redis-py: "
                 + (", ".join(f"`{k}` ×{v}" for k, v in ns.items()) or "none"))
        L.append("")
    with open(path, "w") as f:
        f.write("\n".join(L) + "\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--python", default=os.environ.get("REDIS_PY_SUITE_PYTHON", DEFAULT_PY),
                    help="interpreter with pytest and redbridge (default: target/py-venv)")
    ap.add_argument("--only", choices=sorted(GROUPS), help="run only the sync or the asyncio files")
    ap.add_argument("--per-test-timeout", type=float, default=30.0,
                    help="pytest-timeout per test in seconds, as the suite's own setting (0: none)")
    ap.add_argument("--protocol", choices=["2", "3"], default="",
                    help="make the suite's clients with this protocol (default: none given, redis-py's "
                         "default shapes)")
    ap.add_argument("--floor", type=float, default=None,
                    help="exit 1 when redbridge passes fewer than this percent of redis-py's passes in a group "
                         "(a regression gate; without it the run only measures)")
    args = ap.parse_args()
    global PROTOCOL
    PROTOCOL = args.protocol
    py = args.python
    if not os.access(py, os.X_OK):
        sys.exit(f"run.py: no interpreter at {py}; run `make py-env` first")
    for module in ("pytest", "redbridge"):
        if not has_module(py, module):
            sys.exit(f"run.py: {py} has no {module}; `make py-env` installs it")
    ensure_plugins(py)
    if not has_module(py, "pytest_asyncio"):
        sys.exit(f"run.py: pytest-asyncio is not importable from {PLUGINS}")
    per_test = args.per_test_timeout if args.per_test_timeout and has_module(py, "pytest_timeout") else None

    sdist = fetch_sdist(py)
    root = extract(sdist)
    files_used = {}
    for group, files in GROUPS.items():
        if args.only and group != args.only:
            continue
        present = [f for f in files if os.path.exists(os.path.join(root, f))]
        absent = [f for f in files if f not in present]
        files_used[group] = present
        log(f"{group}: {', '.join(present)}" + (f" (not in this release: {', '.join(absent)})" if absent else ""))

    server = Server()

    def on_term(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_term)
    runs = defaultdict(dict)
    rev_before = git_rev() + (" (bindings-python/core with uncommitted changes)" if git_dirty() else "")
    try:
        server.start()
        server_version = server.version()
        for group, files in files_used.items():
            for mode in MODES:
                if not server.alive():
                    log("  the redis-server is gone; starting a new one")
                    server.stop()
                    server.start()
                server.reset()
                runs[group][mode] = run_pytest(py, root, files, mode, group, server.info["url"], per_test)
    finally:
        server.stop()

    some = next(iter(runs.values()))
    rb_meta, base_meta = some["redbridge"]["meta"], some["redis-py"]["meta"]
    redis_py_version = base_meta.get("redis_py", {}).get("version", "?")
    rev = git_rev()
    rev = rev_before if rev_before.startswith(rev) else f"{rev_before}, HEAD moved to {rev} during the runs"
    header = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "sdist": os.path.basename(sdist), "redis_py": redis_py_version, "server": server_version,
        "redbridge": rb_meta.get("redbridge", {}).get("version", "?"),
        "rev": rev,
        "python": py, "timeout": f"{per_test:.0f} s (pytest-timeout)" if per_test else "none (20 min per run)",
    }
    log("")
    below = []
    for group, files in files_used.items():
        base, rb = runs[group]["redis-py"]["results"], runs[group]["redbridge"]["results"]
        for f in files:
            b = counts([r for r in base if r["file"] == f])["passed"]
            x = counts([r for r in rb if r["file"] == f])["passed"]
            n = sum(1 for r in base if r["file"] == f)
            log(f"  {f}: redis-py {b} passed / redbridge {x} passed ({pct(x, b)}) of {n}")
        b, x = counts(base)["passed"], counts(rb)["passed"]
        unswitched = sum(1 for r in rb if r["outcome"] == "passed" and not r["switched"])
        cut = any(runs[group][m]["cut"] for m in MODES)
        log(f"redis-py suite {group}{' protocol=' + PROTOCOL if PROTOCOL else ''} "
            f"(redis {redis_py_version}, redis-server {server_version}): "
            f"redis-py {b} passed / redbridge {x} passed ({pct(x, b)})"
            + (f"; {unswitched} of redbridge's passes never built a redbridge client" if unswitched else "")
            + (" [a run was cut at 20 minutes]" if cut else ""))
        fx = failures(rb)
        explained = sum(1 for r in fx if decision(r))
        base_failed = {r["nodeid"] for r in failures(base)}
        open_ = sum(1 for r in fx if not decision(r) and r["nodeid"] not in base_failed)
        log(f"  redbridge's {len(fx)} failures: {explained} documented decisions, "
            f"{len(fx) - explained - open_} fail with redis-py too, {open_} open")
        # The tests of redis-py's own objects (mocks of its Connection, pool, callback
        # table) cannot apply to another client: the share without them, for comparison.
        internals = {r["nodeid"] for r in fx if (decision(r) or "").startswith("tests redis-py's connection")
                     or decision(r) in ("compares with redis-py's own callback table",
                                        "isinstance against redis-py's own Script class", OWN_CLIENT)}
        b2 = sum(1 for r in base if r["outcome"] == "passed" and r["nodeid"] not in internals)
        log(f"  without the {len(internals)} tests of redis-py's internals: redbridge {x} of {b2} ({pct(x, b2)})")
        # The gate counts the tests that can apply to another client (see above).
        if args.floor is not None and b2 and 100 * x / b2 < args.floor:
            below.append(f"{group} {pct(x, b2)}")
    report = os.path.join(WORK, f"report-resp{PROTOCOL}.md" if PROTOCOL else "report.md")
    write_report(report, header, runs, files_used)
    log(f"report: {os.path.relpath(report, REPO)}")
    if below:
        log(f"redis-py suite: below the floor of {args.floor:.0f}%: {', '.join(below)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
