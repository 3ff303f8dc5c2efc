#!/usr/bin/env python3
"""Measures redbridge's Python surface against the installed redis-py (issue #16).

    target/py-venv/bin/python bindings-python/tools/method_coverage.py [--list]

For each of redis-py's redis.Redis, redis.asyncio.Redis and their pipelines, lists the
public callable members of an instance (no connection is made) and, for each one that
redbridge's counterpart lacks, says why:

  newer-server  it sends a command neither Redis 7.x nor Valkey 8 has: the command is read
                from redis-py's own source (the name its method hands execute_command, or
                the method it delegates to) and looked up in spec/servers.json, what the
                servers' COMMAND DOCS say (data nodes and sentinels);
  module        a module family's accessor (redis-py's RedisModuleCommands: json, ft, ts,
                bf, cf, cms, topk, tdigest, vset); their commands go through
                execute_command;
  declined      spec/python.toml's [not-here] table names it, with the reason (for the
                pipelines also [not-here.pipeline]);
  missing       none of these: to be written.

Prints one line per class and exits 1 when anything is missing, or when [not-here] names
a method that redbridge now has or redis-py does not. --list prints every absent method
with its class and reason.
"""

from __future__ import annotations

import ast
import inspect
import json
import re
import sys
import textwrap
import tomllib
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

import redis
import redis.asyncio
from redis.commands.redismodules import AsyncRedisModuleCommands, RedisModuleCommands

import redbridge
import redbridge.asyncio

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "spec" / "python.toml"
SERVERS = ROOT / "spec" / "servers.json"
WORD = re.compile(r"^[A-Z][A-Z0-9_.-]*( [A-Z][A-Z0-9_.-]*)*$")


def public(obj: Any) -> Set[str]:
    """The public callable members of an instance (attributes such as a pipeline's
    ``transaction`` flag are not methods there)."""
    out = set()
    for name in dir(obj):
        if name.startswith("_"):
            continue
        try:
            value = getattr(obj, name)
        except Exception:  # a property that needs a connection
            continue
        if callable(value):
            out.add(name)
    return out


def command_of(cls: type, name: str, seen: Optional[Set[str]] = None) -> Optional[str]:
    """The command redis-py's method sends: the first argument of its execute_command
    call (a literal, or a module constant), else the command of the method of the same
    class it calls. None for a method that sends nothing."""
    seen = seen or set()
    if name in seen:
        return None
    seen.add(name)
    fn = inspect.unwrap(getattr(cls, name))
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return None
    scope = getattr(fn, "__globals__", {})
    delegates: List[str] = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr == "execute_command":
            words: List[Any] = []
            for a in node.args:
                if isinstance(a, ast.Constant):
                    words.append(a.value)
                elif isinstance(a, ast.Name) and isinstance(scope.get(a.id), str):
                    words.append(scope[a.id])
                elif isinstance(a, ast.Starred):  # execute_command(*pieces): the list's first word
                    for n in ast.walk(tree):
                        if isinstance(n, (ast.List, ast.Tuple)) and n.elts and isinstance(n.elts[0], ast.Constant):
                            words.append(n.elts[0].value)
                            break
                break
            if words and isinstance(words[0], str) and WORD.match(words[0]):
                return words[0]
        elif isinstance(node.func.value, ast.Name) and node.func.value.id == "self" and hasattr(cls, node.func.attr):
            delegates.append(node.func.attr)
    for other in delegates:
        found = command_of(cls, other, seen)
        if found:
            return found
    return None


def servers_have(command: str, servers: Dict[str, Any]) -> bool:
    """Whether Redis 7.x or Valkey 8 (as spec/servers.json has them) knows the command:
    the two-word name of a subcommand, else its first word when that takes none."""
    known = {**servers["commands"], **servers.get("sentinel", {})}
    name = command.upper()
    if name in known:
        return True
    words = name.split()
    if len(words) > 1 and words[0] in known and not any(k.startswith(words[0] + " ") for k in known):
        return True
    return False


def classify(theirs: Any, ours: Any, servers: Dict[str, Any], declined: Dict[str, str], own: Set[str]) -> Dict[str, Any]:
    """The class of each of redis-py's members redbridge's counterpart lacks; ``declined``
    the [not-here] entries that apply, ``own`` those of them checked for staleness here."""
    cls = type(theirs)
    have, mine = public(theirs), public(ours)
    modules = {n for n in dir(RedisModuleCommands) if not n.startswith("_")}
    modules |= {n for n in dir(AsyncRedisModuleCommands) if not n.startswith("_")}
    out: Dict[str, Any] = {"total": len(have), "present": sorted(have & mine), "newer": {}, "module": [],
                           "declined": {}, "missing": {}, "stale": []}
    for name in sorted(have - mine):
        command = command_of(cls, name)
        if name in declined:
            out["declined"][name] = declined[name]
        elif name in modules:
            out["module"].append(name)
        elif command and not servers_have(command, servers):
            out["newer"][name] = command
        else:
            out["missing"][name] = command
    for name in sorted(own & have & mine):
        out["stale"].append(f"{name}: declined in spec/python.toml [not-here] but redbridge has it now")
    return out


def main() -> int:
    servers = json.loads(SERVERS.read_text())
    table = tomllib.loads(SPEC.read_text()).get("not-here", {})
    on_clients = {k: v for k, v in table.items() if isinstance(v, str)}
    on_pipelines = {**on_clients, **table.get("pipeline", {})}
    theirs_sync, theirs_async = redis.Redis(), redis.asyncio.Redis()
    ours_sync, ours_async = redbridge.Redis(), redbridge.asyncio.Redis()
    pipeline_only = set(table.get("pipeline", {}))
    pairs: List[Tuple[str, Any, Any, Dict[str, str], Set[str]]] = [
        ("Redis", theirs_sync, ours_sync, on_clients, set(on_clients)),
        ("asyncio.Redis", theirs_async, ours_async, on_clients, set(on_clients)),
        ("Pipeline", theirs_sync.pipeline(), ours_sync.pipeline(), on_pipelines, pipeline_only),
        ("asyncio Pipeline", theirs_async.pipeline(), ours_async.pipeline(), on_pipelines, pipeline_only),
    ]
    bad = False
    print(f"redis-py {redis.__version__} against redbridge; servers: "
          + ", ".join(servers["servers"].values()) + " (spec/servers.json)")
    anywhere = set().union(*(public(p[1]) for p in pairs))
    for name in sorted(set(on_pipelines) - anywhere):
        print(f"  stale: {name}: declined in spec/python.toml [not-here] but redis-py {redis.__version__} has no such method")
        bad = True
    for label, theirs, ours, declined, own in pairs:
        c = classify(theirs, ours, servers, declined, own)
        miss = sorted(c["missing"])
        print(f"redis-py {redis.__version__} {label}: {len(c['present'])} of {c['total']} present; "
              f"{len(c['newer'])} newer-server commands; {len(c['module'])} module accessors; "
              f"{len(c['declined'])} declined; {len(miss)} missing{': ' + str(miss) if miss else ''}")
        for s in c["stale"]:
            print(f"  stale: {s}")
        bad = bad or bool(miss) or bool(c["stale"])
        if "--list" in sys.argv:
            for n, cmd in c["newer"].items():
                print(f"  {n}: newer-server ({cmd})")
            for n in c["module"]:
                print(f"  {n}: module accessor")
            for n, why in c["declined"].items():
                print(f"  {n}: declined: {why}")
            for n, cmd in c["missing"].items():
                print(f"  {n}: MISSING{f' ({cmd})' if cmd else ''}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
