#!/usr/bin/env python3
"""Throwaway redis-server for every test runner (cargo, pytest, node --test, C).

    redis_server.py start [--port N] [--dir DIR] [-- extra redis-server args]
        Starts redis-server on 127.0.0.1 (a free port unless --port), with
        --save '' --appendonly no, waits until it answers PING, and prints one JSON
        line: {"url": ..., "host": ..., "port": ..., "pid": ..., "pidfile": ..., "dir": ...}.
    redis_server.py stop PIDFILE
        Stops the server started with that pid file (SIGTERM, then SIGKILL), by PID.

The binary is $REDIS_SERVER or `redis-server` on PATH. Only loopback is ever used.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HOST = "127.0.0.1"
START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def answers_ping(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            reply = s.recv(64)
            # A server started with --requirepass answers, but refuses PING: it is up.
            return reply.startswith(b"+PONG") or reply.startswith(b"-NOAUTH")
    except OSError:
        return False


def start(argv):
    port = None
    workdir = None
    extra = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--port":
            port = int(argv[i + 1])
            i += 2
        elif a == "--dir":
            workdir = argv[i + 1]
            i += 2
        elif a == "--":
            extra = argv[i + 1:]
            break
        else:
            sys.exit(f"redis_server.py: unknown argument {a!r}")
    binary = os.environ.get("REDIS_SERVER") or shutil.which("redis-server")
    if not binary:
        sys.exit(
            "redis_server.py: redis-server not found; install it (apt-get install redis-server) "
            "or set REDIS_SERVER=/path/to/redis-server"
        )
    workdir = workdir or tempfile.mkdtemp(prefix="redbridge-redis-")
    os.makedirs(workdir, exist_ok=True)
    attempts = 1 if port else 5
    for _ in range(attempts):
        p = port or free_port()
        pidfile = os.path.join(workdir, f"redis-{p}.pid")
        logfile = os.path.join(workdir, f"redis-{p}.log")
        args = [
            binary, "--port", str(p), "--bind", HOST, "--save", "", "--appendonly", "no",
            "--dir", workdir, "--daemonize", "no", "--logfile", logfile,
            "--enable-debug-command", "local", *extra,
        ]
        proc = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True,
        )
        with open(pidfile, "w") as f:
            f.write(str(proc.pid))
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and proc.poll() is None:
            if answers_ping(p):
                print(json.dumps({
                    "url": f"redis://{HOST}:{p}", "host": HOST, "port": p,
                    "pid": proc.pid, "pidfile": pidfile, "dir": workdir,
                }), flush=True)
                return
            time.sleep(0.02)
        if proc.poll() is None:
            proc.kill()
        try:
            os.unlink(pidfile)
        except OSError:
            pass
    sys.exit(f"redis_server.py: redis-server did not start; see logs in {workdir}")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (not reaped by a container's PID 1) counts as stopped
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][:1] != "Z"
    except (OSError, IndexError):
        return True


def stop(argv):
    if len(argv) != 1:
        sys.exit("usage: redis_server.py stop PIDFILE")
    pidfile = argv[0]
    try:
        with open(pidfile) as f:
            pid = int(f.read().strip())
    except (OSError, ValueError):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + STOP_TIMEOUT
    while time.monotonic() < deadline:
        if not alive(pid):
            break
        time.sleep(0.02)
    else:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        os.unlink(pidfile)
    except OSError:
        pass
    workdir = os.path.dirname(os.path.abspath(pidfile))
    if os.path.basename(workdir).startswith("redbridge-redis-") and not any(
        n.endswith(".pid") for n in os.listdir(workdir)
    ):
        shutil.rmtree(workdir, ignore_errors=True)


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in ("start", "stop"):
        sys.exit(__doc__)
    (start if sys.argv[1] == "start" else stop)(sys.argv[2:])


if __name__ == "__main__":
    main()
