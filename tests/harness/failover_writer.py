#!/usr/bin/env python3
"""redis-py's RedisCluster through a primary's failover, for comparison in the same run.

    failover_writer.py SEED_PORT REPLICA_PORT KEY

Connects a RedisCluster (redis-py's defaults, as a user would) to 127.0.0.1:SEED_PORT,
writes KEY once and prints "ready". A line on stdin marks the moment the primary was
killed; from then on it writes KEY in a loop (each failed write is retried at once), while
the replica's ROLE is polled every 2 ms. It prints one JSON line and exits once a write
succeeded and the replica reported ROLE master:
{"killed_to_write_ms": ..., "promoted_to_write_ms": ..., "failed": ...}
(promoted_to_write_ms < 0: the write came before the poll saw the promotion).
Gives up after 30 s. Loopback only.
"""

import json
import sys
import threading
import time

import redis
from redis.cluster import RedisCluster

HOST = "127.0.0.1"


def main() -> None:
    seed, replica, key = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    rc = RedisCluster(host=HOST, port=seed)
    rc.set(key, "before")
    marks = {}

    def poll_role() -> None:
        conn = redis.Redis(host=HOST, port=replica, socket_timeout=0.5)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if conn.execute_command("ROLE")[0] in (b"master", "master"):
                    marks.setdefault("promoted", time.monotonic())
                    return
            except redis.RedisError:
                pass
            time.sleep(0.002)

    threading.Thread(target=poll_role, daemon=True).start()
    print("ready", flush=True)
    sys.stdin.readline()
    marks["killed"] = time.monotonic()
    failed = 0
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            rc.set(key, "after")
            wrote = time.monotonic()
            break
        except redis.RedisError:
            failed += 1
    else:
        sys.exit("failover_writer.py: no write within 30 s")
    while "promoted" not in marks and time.monotonic() < deadline:
        time.sleep(0.001)
    ms = lambda a: round((wrote - marks[a]) * 1000, 1) if a in marks else None  # noqa: E731
    print(json.dumps({"killed_to_write_ms": ms("killed"), "promoted_to_write_ms": ms("promoted"),
                      "failed": failed}), flush=True)


if __name__ == "__main__":
    main()
