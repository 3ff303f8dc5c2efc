#!/usr/bin/env python3
"""Turns vectors.json into a line format a C test reads without a JSON parser.

One case is:  CASE <name>
              SETUP <hex-arg> <hex-arg> ...     (zero or more)
              CMD <hex-arg> ...
              EXPECT2 [UNORDERED] <canonical>
              EXPECT3 [UNORDERED] <canonical>
Canonical replies: N (nil), I<n>, B<hex> (bulk), S<hex> (status), D<%.17g> (double),
b0/b1 (bool), E<code> (server error), A[x,y] (array), T[...] (set, sorted),
M[k=v,...] (map, sorted). UNORDERED marks a top-level array to compare sorted.
"""
import json
import os
import sys


def arg_hex(a):
    return (bytes.fromhex(a["hex"]) if isinstance(a, dict) else a.encode()).hex() or "-"


def canon(v):
    (form, x), = v.items()
    if form == "nil":
        return "N"
    if form == "int":
        return f"I{x}"
    if form == "bulk":
        return "B" + x.encode().hex()
    if form == "bulk_hex":
        return "B" + x
    if form == "status":
        return "S" + x.encode().hex()
    if form == "double":
        return "D" + format(float(x), ".17g")
    if form == "bool":
        return "b1" if x else "b0"
    if form == "error":
        return "E" + x
    if form == "array":
        return "A[" + ",".join(canon(i) for i in x) + "]"
    if form == "array_unordered":
        return "A[" + ",".join(sorted(canon(i) for i in x)) + "]"
    if form == "set":
        return "T[" + ",".join(sorted(canon(i) for i in x)) + "]"
    if form == "map":
        return "M[" + ",".join(sorted(canon(k) + "=" + canon(v) for k, v in x)) + "]"
    raise ValueError(f"unknown form {form}")


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "vectors.json")
    with open(path) as f:
        cases = json.load(f)["cases"]
    for case in cases:
        print("CASE " + case["name"])
        for s in case.get("setup", []):
            print("SETUP " + " ".join(arg_hex(a) for a in s))
        print("CMD " + " ".join(arg_hex(a) for a in case["command"]))
        expect = case["expect"]
        for proto in ("resp2", "resp3"):
            want = expect.get(proto, expect) if isinstance(expect, dict) else expect
            unordered = "UNORDERED " if "array_unordered" in want else ""
            print(f"EXPECT{proto[-1]} {unordered}{canon(want)}")


if __name__ == "__main__":
    main()
