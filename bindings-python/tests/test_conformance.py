"""The shared conformance vectors (tests/conformance/vectors.json) on the native layer:
raw replies, RESP2 and RESP3, mapped to Python the same way the other bindings map them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import redbridge
from redbridge import exceptions

VECTORS = json.loads((Path(__file__).resolve().parents[2] / "tests" / "conformance" / "vectors.json").read_text())


def arg(a: Any) -> bytes:
    return bytes.fromhex(a["hex"]) if isinstance(a, dict) else a.encode()


def matches(want: Any, got: Any) -> bool:
    (form, x), = want.items()
    if form == "nil":
        return got is None
    if form == "int":
        return type(got) is int and got == x
    if form == "bulk":
        return got == x.encode()
    if form == "bulk_hex":
        return got == bytes.fromhex(x)
    if form == "status":
        return got == x.encode()
    if form == "double":
        return type(got) is float and got == x
    if form == "bool":
        return got is x
    if form == "error":
        return isinstance(got, exceptions.ResponseError) and got.code == x
    if form == "array":
        return isinstance(got, list) and len(got) == len(x) and all(matches(w, g) for w, g in zip(x, got))
    if form in ("array_unordered", "set"):
        kind = list if form == "array_unordered" else set
        items = list(got) if isinstance(got, kind) else None
        return items is not None and len(items) == len(x) and all(any(matches(w, g) for g in items) for w in x)
    if form == "map":
        return isinstance(got, dict) and len(got) == len(x) and all(
            any(matches(k, gk) and matches(v, gv) for gk, gv in got.items()) for k, v in x
        )
    raise ValueError(form)


@pytest.mark.parametrize("protocol", [2, 3])
def test_vectors(url: str, protocol: int) -> None:
    client = redbridge.Redis.from_url(url, protocol=protocol)
    native = client._native
    cases = VECTORS["cases"]
    assert len(cases) >= 30
    for case in cases:
        for setup in case.get("setup", []):
            native.execute(tuple(arg(a) for a in setup))
        try:
            got = native.execute_raw(tuple(arg(a) for a in case["command"]))
        except exceptions.ResponseError as e:
            got = e
        expect = case["expect"]
        want = expect.get(f"resp{protocol}", expect)
        assert matches(want, got), f"RESP{protocol} {case['name']}: expected {want}, got {got!r}"
