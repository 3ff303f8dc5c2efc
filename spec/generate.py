#!/usr/bin/env python3
"""Writes what comes from the command spec: core's command table and Python's command
methods.

    python3 spec/generate.py           # writes the generated files
    python3 spec/generate.py --check   # exits 1 when a generated file differs (make test)

The spec: spec/servers.json (what Redis 7.x and Valkey 8 say of every command, from
spec/fetch.py), spec/policy.toml (our columns: policy flags, block-time position, the
alternative to name, the reply's normal form) and spec/python.toml (redis-py's methods
that follow a command's own arguments). Every command of either server gets a row of
core's table; see policy.toml's header for the defaults of commands it does not name.
"""

from __future__ import annotations

import ast
import keyword

import json
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVERS = ROOT / "spec" / "servers.json"
POLICY = ROOT / "spec" / "policy.toml"
TABLE = ROOT / "core" / "src" / "command" / "table.rs"
PYTHON = ROOT / "spec" / "python.toml"
PY_NOT_HERE = "not-here"
PY_METHODS = ROOT / "bindings-python" / "python" / "redbridge" / "_generated.py"
NODE = ROOT / "spec" / "node.toml"
NODE_JS = ROOT / "bindings-node" / "commands.generated.js"
NODE_DTS = ROOT / "bindings-node" / "index.d.ts"
DTS_BEGIN = "  // @generated-begin by spec/generate.py from spec/node.toml"
DTS_END = "  // @generated-end"
# What a Node reply becomes, by the `reply` column: a conversion index.js passes in.
NODE_REPLIES = {"num", "str", "bool", "asArray", "valueScores", "firstValueScore", "keyValueScore",
                "fieldValuePage", "valueScorePage", "object", "pairsToObject", "rankScore", "geoPositions",
                "fieldValues", "memoryStats", "commandInfo"}
NODE_CASES = ROOT / "bindings-node" / "test" / "spec-cases.generated.js"
# How the differential test compares a Node method's replies (the `compare` column).
NODE_COMPARE = {"type", "sorted", "length", "keys"}

FLAGS = {
    "readonly": "READONLY",
    "idempotent": "IDEMPOTENT",
    "blocking": "BLOCKING",
    "cacheable": "CACHEABLE",
    "walks": "WALKS",
    "big_reply": "BIG_REPLY",
    "state": "STATE",
    "txn": "TXN",
}
SHAPES = {
    "map": "Map",
    "scored": "Scored",
    "scored-if-asked": "ScoredIfAsked",
    "key-scored": "KeyScored",
    "pairs-page": "PairsPage",
    "scored-page": "ScoredPage",
    "pairs-map": "PairsMap",
    "maps": "Maps",
    "pairs-if-asked": "PairsIfAsked",
    "function-list": "FunctionList",
    "function-stats": "FunctionStats",
    "memory-stats": "MemoryStats",
    "latency-histogram": "LatencyHistogram",
    "command-docs": "CommandDocs",
    "command-info": "CommandInfo",
}
UNITS = {"s": "Unit::Seconds", "ms": "Unit::Millis"}
KEYS = {"policy", "block", "alternative", "reply", "first_arg"}


class SpecError(Exception):
    pass


def rows(servers: dict, policy: dict) -> list[dict]:
    """One row per command: its name and our columns, defaults applied."""
    commands = servers["commands"]
    for name, cols in policy.items():
        if name not in commands:
            raise SpecError(f"spec/policy.toml names {name}, which neither server has")
        unknown = set(cols) - KEYS
        if unknown:
            raise SpecError(f"spec/policy.toml [{name}]: unknown columns {sorted(unknown)}")
    out = []
    for name in sorted(commands):
        own = policy.get(name)
        parent = name.split(" ")[0] if " " in name else None
        if own is not None:
            cols = {k: v for k, v in own.items() if k != "first_arg"}
        elif parent and parent in policy:
            cols = {k: v for k, v in policy[parent].items() if k in ("policy", "alternative")}
        else:
            cols = {"policy": ["readonly"] if "readonly" in commands[name]["flags"] else []}
        words = cols.get("policy", [])
        for w in words:
            if w not in FLAGS:
                raise SpecError(f"spec/policy.toml [{name}]: unknown policy flag {w!r}")
        blocking_server = "blocking" in commands[name]["flags"]
        if blocking_server and own is None:
            raise SpecError(f"{name} can block (the server says so): give it an entry with `block` in spec/policy.toml")
        if "blocking" in words and "block" not in cols:
            raise SpecError(f"spec/policy.toml [{name}]: a blocking command needs `block`")
        if cols.get("reply") and cols["reply"] not in SHAPES:
            raise SpecError(f"spec/policy.toml [{name}]: unknown reply form {cols['reply']!r}")
        by_arg = own.get("first_arg") if own is not None else None
        out.append({"name": name, **cols})
        # `first_arg`: rows of their own for the command with these first arguments (HELLO 3),
        # which the table finds as it finds a container's subcommands.
        if by_arg is not None:
            if not isinstance(by_arg, dict) or not by_arg or any(f"{name} " in other for other in commands):
                raise SpecError(f"spec/policy.toml [{name}]: first_arg maps first arguments to policy flags, for a command without subcommands")
            for word, flags in by_arg.items():
                if not word or " " in word or not isinstance(flags, list) or set(flags) - set(FLAGS):
                    raise SpecError(f"spec/policy.toml [{name}]: first_arg {word!r} needs a list of policy flags")
                out.append({"name": f"{name} {word.upper()}", "policy": flags, "alternative": cols.get("alternative", "")})
    return sorted(out, key=lambda r: r["name"])


def flags_expr(words: list[str]) -> str:
    if not words:
        return "Flags::NONE"
    expr = f"Flags::{FLAGS[words[0]]}"
    for w in words[1:]:
        expr += f".or(Flags::{FLAGS[w]})"
    return expr


def block_expr(spec: str | None) -> str:
    if not spec:
        return "BlockArg::None"
    parts = spec.split()
    try:
        if parts[0] == "last" and len(parts) == 2:
            return f"BlockArg::Last({UNITS[parts[1]]})"
        if parts[0] == "at" and len(parts) == 3:
            return f"BlockArg::At({int(parts[1])}, {UNITS[parts[2]]})"
        if parts[0] == "after" and len(parts) == 3:
            return f"BlockArg::After({json.dumps(parts[1])}, {UNITS[parts[2]]})"
    except (KeyError, ValueError):
        pass
    raise SpecError(f"block {spec!r}: use 'last s', 'at N s' or 'after WORD ms'")


def table_rs(servers: dict, policy: dict) -> str:
    table = rows(servers, policy)
    containers = {r["name"].split(" ")[0] for r in table if " " in r["name"]}
    missing = containers - {r["name"] for r in table}
    if missing:
        raise SpecError(f"subcommands of {sorted(missing)}, which have no row of their own")
    lines = [
        "// @generated by spec/generate.py from spec/servers.json and spec/policy.toml: do not",
        "// edit; change the spec and run `python3 spec/generate.py`.",
        f"// Servers: {', '.join(servers['servers'][k] for k in sorted(servers['servers']))}.",
        "",
        "use super::{BlockArg, CommandSpec, Flags, Shape, Unit};",
        "",
        "/// The table, sorted by name (a unit test checks the order).",
        "pub(super) static TABLE: &[CommandSpec] = &[",
    ]
    for r in table:
        lines += [
            "    CommandSpec {",
            f"        name: {json.dumps(r['name'])},",
            f"        flags: {flags_expr(r.get('policy', []))},",
            f"        block: {block_expr(r.get('block'))},",
            f"        alternative: {json.dumps(r.get('alternative', ''), ensure_ascii=False)},",
            f"        reply: Shape::{SHAPES.get(r.get('reply', ''), 'Plain')},",
            f"        container: {'true' if r['name'] in containers else 'false'},",
            "    },",
        ]
    lines.append("];")
    return "\n".join(lines) + "\n"


def python_method(name: str, m: dict, servers: dict) -> list[str]:
    """The source of one generated Python method (see spec/python.toml's header)."""
    where = f"spec/python.toml [{name}]"
    known = {"command", "params", "args", "returns", "options", "declined"}
    if set(m) - known:
        raise SpecError(f"{where}: unknown keys {sorted(set(m) - known)}")
    if not name.isidentifier() or keyword.iskeyword(name):
        raise SpecError(f"{where}: not a method name")
    command = m["command"]
    if "declined" in m:
        # A method redis-py has but does not send (NotImplementedError), as there.
        if set(m) - {"command", "declined", "returns"}:
            raise SpecError(f"{where}: a declined method takes only command, declined and returns")
        return [f"    def {name}(self, *args: Any, **kwargs: Any) -> ResponseT:",
                f'        """Not supported: {m["declined"]}."""',
                f"        raise NotImplementedError({json.dumps(f'{command} is not supported: ' + m['declined'])})",
                ""]
    # A data node's command, or a sentinel's (SENTINEL MASTERS: servers.json's "sentinel").
    spec_of = {**servers["commands"], **servers.get("sentinel", {})}
    if command not in spec_of:
        raise SpecError(f"{where}: {command} is not a command of either server")
    params = m.get("params", "")
    try:
        fn = ast.parse(f"def f(self, {params}): pass").body[0]
    except SyntaxError as e:
        raise SpecError(f"{where}: params are not Python: {e}") from None
    assert isinstance(fn, ast.FunctionDef)
    a = fn.args
    names = {p.arg for p in a.posonlyargs + a.args + a.kwonlyargs} | ({a.vararg.arg} if a.vararg else set())
    pieces: list[str] = []  # statements building `pieces`, or None for a fixed argument list
    fixed: list[str] = []
    conditional = False
    for tok in m.get("args", "").split():
        if "=" in tok and "," in tok:
            word, value = tok.split("=", 1)
            pair = value.rstrip("?").split(",")
            if not value.endswith("?") or len(pair) != 2 or not set(pair) <= names or not word.isupper():
                raise SpecError(f"{where}: bad argument {tok!r} (WORD=a,b? sends both or neither)")
            conditional = True
            a0, a1 = pair
            pieces += [f"if ({a0} is None) != ({a1} is None):",
                       f"    raise DataError({json.dumps(f'``{a0}`` and ``{a1}`` must both be given, or neither')})",
                       f"if {a0} is not None:", f"    pieces += [{json.dumps(word)}, {a0}, {a1}]"]
        elif "=" in tok:
            word, value = tok.split("=", 1)
            var, mark = value[:-1], value[-1:]
            if mark not in "?!" or var not in names or not word.isupper():
                raise SpecError(f"{where}: bad argument {tok!r}")
            conditional = True
            if mark == "?":
                pieces += [f"if {var} is not None:", f"    pieces += [{json.dumps(word)}, {var}]"]
            else:
                pieces += [f"if {var}:", f"    pieces.append({json.dumps(word)})"]
        elif tok.endswith("?"):
            var = tok[:-1]
            if var not in names:
                raise SpecError(f"{where}: {var!r} is not a parameter")
            conditional = True
            pieces += [f"if {var} is not None:", f"    pieces.append({var})"]
        elif tok.startswith("*"):
            var = tok[1:]
            if not a.vararg or var != a.vararg.arg:
                raise SpecError(f"{where}: {tok!r} needs the *{var} parameter")
            pieces.append(f"pieces.extend({var})")
            fixed.append(f"*{var}")
        elif tok.startswith("numkeys:"):
            var = tok[8:]
            if var not in names:
                raise SpecError(f"{where}: {var!r} is not a parameter")
            conditional = True
            pieces += [f"_{var} = _list({var})", f"pieces.append(len(_{var}))", f"pieces.extend(_{var})"]
        elif tok.startswith("keys:"):
            var = tok[5:]
            if var not in names:
                raise SpecError(f"{where}: {var!r} is not a parameter")
            pieces.append(f"pieces.extend(_list({var}))")
            fixed.append(f"*_list({var})")
        elif tok in names:
            pieces.append(f"pieces.append({tok})")
            fixed.append(tok)
        elif tok.isupper():
            pieces.append(f"pieces.append({json.dumps(tok)})")
            fixed.append(json.dumps(tok))
        else:
            raise SpecError(f"{where}: {tok!r} is neither a parameter nor a WORD")
    # As redis-py: a subcommand is sent as one name ("CONFIG GET"), which the binding
    # splits, so its reply callback is found by both words.
    words = json.dumps(command)
    options = m.get("options", "").split()
    for o in options:
        if o not in names:
            raise SpecError(f"{where}: option {o!r} is not a parameter")
    kwargs = "".join(f", {o}={o}" for o in options)
    summary = (spec_of[command].get("summary") or "").rstrip(".")
    lines = [f"    def {name}(self{', ' + params if params else ''}) -> ResponseT:",
             f'        """{command}: {summary}."""']
    if not conditional:
        lines.append(f"        return self.execute_command({', '.join([words, *fixed])}{kwargs})")
    else:
        lines.append("        pieces: List[Any] = []")
        lines += [f"        {p}" for p in pieces]
        lines.append(f"        return self.execute_command({words}, *pieces{kwargs})")
    return lines


def python_py(servers: dict, methods: dict) -> str:
    lines = [
        "# @generated by spec/generate.py from spec/python.toml: do not edit; change the spec",
        "# and run `python3 spec/generate.py`.",
        '"""Command methods generated from the command spec (spec/python.toml): those whose',
        "redis-py arguments follow the command's own. A mixin of redbridge's Commands, so the",
        'sync client, the asyncio client and both pipelines share them."""',
        "",
        "from __future__ import annotations",
        "",
        "from typing import Any, List, Optional",
        "",
        "from ._args import EncodableT, KeyT, ResponseT, _list",
        "from .exceptions import DataError",
        "",
        '__all__ = ["GeneratedCommands"]',
        "",
        "",
        "class GeneratedCommands:",
        '    """The generated command methods; the class using it provides execute_command."""',
        "",
        "    def execute_command(self, *args: Any, **options: Any) -> Any:  # pragma: no cover",
        "        raise NotImplementedError",
    ]
    for name in sorted(methods):
        lines.append("")
        lines += python_method(name, methods[name], servers)
    # Names only some methods use stay imported for all: keep flake-style checkers quiet.
    lines += ["", "", "_ = (DataError, EncodableT, KeyT, Optional, _list)"]
    return "\n".join(lines) + "\n"


def js_param_names(params: str) -> list[tuple[str, bool]]:
    """(name, optional) of each parameter of a TypeScript parameter list."""
    out, depth, cur = [], 0, ""
    for ch in params + ",":
        if ch in "<({[":
            depth += 1
        elif ch in ">)}]":
            depth -= 1
        if ch == "," and depth == 0:
            if cur.strip():
                name = cur.split(":", 1)[0].strip()
                out.append((name.rstrip("?"), name.endswith("?")))
            cur = ""
        else:
            cur += ch
    return out


def node_method(name: str, m: dict, servers: dict) -> tuple[list[str], str]:
    """(the builder's JS lines, its TypeScript signature) of one generated Node method."""
    where = f"spec/node.toml [{name}]"
    known = {"command", "params", "args", "returns", "reply", "examples", "compare", "declined"}
    if set(m) - known:
        raise SpecError(f"{where}: unknown keys {sorted(set(m) - known)}")
    if m["command"] not in servers["commands"]:
        raise SpecError(f"{where}: {m['command']} is not a command of either server")
    if "declined" in m:
        # A method node-redis has and the client does not send: it rejects with a TypeError
        # (the class of the core's refusals) saying why and what to use instead.
        if set(m) - {"command", "declined", "params"}:
            raise SpecError(f"{where}: a declined method takes only command, declined and params")
        message = json.dumps(f"{name}: {m['command']} is not supported: {m['declined']}")
        lines = [f"  {name}: [", "    () => {", f"      throw new TypeError({message});", "    },", "  ],"]
        dts = f"  /** {m['command']}: not supported ({m['declined']}); rejects with a TypeError. */\n  {name}({m.get('params', '')}): never;"
        return lines, dts
    if m.get("reply") and m["reply"] not in NODE_REPLIES:
        raise SpecError(f"{where}: unknown reply conversion {m['reply']!r}")
    if not m.get("examples"):
        raise SpecError(f"{where}: no examples (the differential test runs each)")
    if m.get("compare") and m["compare"] not in NODE_COMPARE:
        raise SpecError(f"{where}: unknown compare {m['compare']!r}")
    params = js_param_names(m.get("params", ""))
    names = {p for p, _ in params}
    words = [json.dumps(w) for w in m["command"].split()]
    body: list[str] = []
    simple: list[str] = []
    conditional = False

    def value(ref: str) -> str:
        root = ref.split(".")[0]
        if root not in names:
            raise SpecError(f"{where}: {ref!r} does not name a parameter")
        return ref.replace(".", "?.") if "." in ref else ref

    for tok in m.get("args", "").split():
        if "=" in tok:
            word, ref = tok.split("=", 1)
            mark, ref = ref[-1], ref[:-1]
            if mark not in "?!" or not word.isupper():
                raise SpecError(f"{where}: bad argument {tok!r}")
            v = value(ref)
            conditional = True
            if mark == "?":
                body.append(f"if ({v} !== undefined) out.push({json.dumps(word)}, arg({v}, {json.dumps(ref)}));")
            else:
                body.append(f"if ({v}) out.push({json.dumps(word)});")
        elif tok.endswith("?"):
            ref = tok[:-1]
            v = value(ref)
            conditional = True
            body.append(f"if ({v} !== undefined) out.push(arg({v}, {json.dumps(ref)}));")
        elif tok.startswith("#"):
            # numkeys: the count of a value or array of values, then the values
            ref = tok[1:]
            v = value(ref)
            body.append(f"out.push(...numkeys({v}, {json.dumps(ref)}));")
            simple.append(f"...numkeys({v}, {json.dumps(ref)})")
        elif tok.startswith("..."):
            ref = tok[3:]
            v = value(ref)
            spread = f"list({v}, {json.dumps(ref)})"
            if dict(params).get(ref.split(".")[0]) or "." in ref:
                spread = f"({v} === undefined ? [] : {spread})"
            body.append(f"out.push(...{spread});")
            simple.append(f"...{spread}")
        elif tok.isupper() and tok not in names:
            body.append(f"out.push({json.dumps(tok)});")
            simple.append(json.dumps(tok))
        else:
            v = value(tok)
            body.append(f"out.push(arg({v}, {json.dumps(tok)}));")
            simple.append(f"arg({v}, {json.dumps(tok)})")
    js_params = ", ".join(p for p, _ in params)
    reply = f", shapes.{m['reply']}" if m.get("reply") else ""
    if not conditional:
        lines = [f"  {name}: [({js_params}) => [{', '.join(words + simple)}]{reply}],"]
    else:
        lines = [f"  {name}: [", f"    ({js_params}) => {{", f"      const out = [{', '.join(words)}];"]
        lines += [f"      {b}" for b in body]
        lines += ["      return out;", "    },"]
        if reply:
            lines.append(f"    shapes.{m['reply']},")
        lines.append("  ],")
    summary = (servers["commands"][m["command"]].get("summary") or "").rstrip(".")
    dts = f"  /** {m['command']}: {summary}. */\n  {name}({m.get('params', '')}): {m['returns']};"
    return lines, dts


def node_outputs(servers: dict, methods: dict) -> tuple[str, str]:
    js = [
        "// @generated by spec/generate.py from spec/node.toml: do not edit; change the spec and",
        "// run `python3 spec/generate.py`.",
        "// node-redis's command methods whose arguments follow the command's own: name →",
        "// [(method arguments) → command arguments, reply conversion]. index.js passes the",
        "// argument helpers and reply conversions in and adds these to its command table.",
        "'use strict';",
        "",
        "module.exports = ({ arg, list, numkeys, shapes }) => ({",
    ]
    sigs = []
    for name in sorted(methods):
        lines, dts = node_method(name, methods[name], servers)
        js += lines
        sigs.append(dts)
    js.append("});")
    dts_text = NODE_DTS.read_text()
    if DTS_BEGIN not in dts_text or DTS_END not in dts_text:
        raise SpecError(f"{NODE_DTS.relative_to(ROOT)} has no generated region ({DTS_BEGIN!r} … {DTS_END!r})")
    head, rest = dts_text.split(DTS_BEGIN, 1)
    _, tail = rest.split(DTS_END, 1)
    dts_new = head + DTS_BEGIN + "\n" + "\n".join(sigs) + "\n" + DTS_END + tail
    return "\n".join(js) + "\n", dts_new


# spec/node.toml's table of methods whose reply type differs from node-redis's on purpose
# (not a method: a method name has no hyphen).
NODE_REPLY_TYPES = "reply-types"


def node_reply_types(node: dict) -> dict:
    """method → why its reply type differs from node-redis's (the `[reply-types]` table)."""
    table = node.get(NODE_REPLY_TYPES, {})
    for name, why in table.items():
        if not name.isidentifier() or not isinstance(why, str) or not why.strip():
            raise SpecError(f"spec/node.toml [{NODE_REPLY_TYPES}]: {name} = needs a method name and the reason, as text")
    return table


def node_cases(methods: dict, reply_types: dict) -> str:
    """The differential test's cases of the generated methods: their `examples`, in spec order."""
    out = [
        "// @generated by spec/generate.py from spec/node.toml (the `examples` and `compare`",
        "// columns): do not edit. [method, () => arguments, compare]",
        "'use strict';",
        "",
        "module.exports = [",
    ]
    for name, m in methods.items():
        compare = json.dumps(m.get("compare")) if m.get("compare") else "undefined"
        out += [f"  [{json.dumps(name)}, () => [{ex}], {compare}]," for ex in m.get("examples", [])]
    out.append("];")
    declined = {name: m["declined"] for name, m in methods.items() if "declined" in m}
    out += ["// The methods the client declines (the `declined` column): name → why.",
            f"module.exports.declined = {json.dumps(declined, indent=2, ensure_ascii=False)};",
            "// The methods whose reply type differs from node-redis's on purpose ([reply-types]): name → why.",
            f"module.exports.replyTypes = {json.dumps(reply_types, indent=2, ensure_ascii=False)};"]
    return "\n".join(out) + "\n"


def main() -> None:
    servers = json.loads(SERVERS.read_text())
    policy = tomllib.loads(POLICY.read_text())
    methods = tomllib.loads(PYTHON.read_text())
    # [not-here]: redis-py methods redbridge does not have, with why (method_coverage.py).
    methods = {k: v for k, v in methods.items() if k != PY_NOT_HERE}
    node = tomllib.loads(NODE.read_text())
    try:
        reply_types = node_reply_types(node)
        node = {k: v for k, v in node.items() if k != NODE_REPLY_TYPES}
        node_js, node_dts = node_outputs(servers, node)
        outputs = {
            TABLE: table_rs(servers, policy),
            PY_METHODS: python_py(servers, methods),
            NODE_JS: node_js,
            NODE_DTS: node_dts,
            NODE_CASES: node_cases(node, reply_types),
        }
    except SpecError as e:
        sys.exit(f"spec/generate.py: {e}")
    stale = [p for p, text in outputs.items() if not p.exists() or p.read_text() != text]
    if "--check" in sys.argv:
        if stale:
            sys.exit("out of date, run python3 spec/generate.py and commit: " + ", ".join(str(p.relative_to(ROOT)) for p in stale))
        print("spec/generate.py: generated files up to date")
        return
    for p in stale:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(outputs[p])
        print(f"wrote {p.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
