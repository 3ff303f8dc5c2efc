"""W7's ceiling on this machine: what a subscriber that does nothing but read receives.

Why: on a small machine the server, the publisher and the subscriber share the CPUs, and
a subscriber that keeps up receives at whatever rate the publisher gets through the
server. This runs bench/w7_ceiling.c (reads and counts bytes, parses nothing) against
bench/run.py's own publisher, W7a's way (1 subscriber, 100-byte messages), and prints
both rates per round. When it is held to the publisher's rate too, W7a's msg/s cannot
tell two subscribers that both keep up apart (issue #17).

    tests/harness/with-redis.sh python3 bench/w7_ceiling.py [--processes 3] [--rounds 4] [--messages 50000]
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import run  # noqa: E402  (the bench's publisher)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--processes", type=int, default=3, help="subscriber processes, one after another")
    ap.add_argument("--rounds", type=int, default=4, help="floods per process")
    ap.add_argument("--messages", type=int, default=50_000, help="messages per flood")
    args = ap.parse_args()
    url = os.environ.get("REDIS_URL")
    if not url:
        sys.exit("w7_ceiling: REDIS_URL is not set (run it under tests/harness/with-redis.sh)")
    port = url.split("//", 1)[1].split("/")[0].rsplit(":", 1)[1]
    exe = ROOT / "target/bench-w7-ceiling"
    exe.parent.mkdir(exist_ok=True)
    subprocess.run(["gcc", "-O2", "-o", str(exe), str(ROOT / "bench/w7_ceiling.c")], check=True)
    publisher = run.Publisher(url)
    print(publisher.raise_pubsub_limit())
    try:
        for p in range(args.processes):
            sub = subprocess.Popen([str(exe), port, "w7ceiling", str(args.messages), str(args.rounds)],
                                   stdout=subprocess.PIPE, text=True)
            assert sub.stdout is not None
            rows = []
            for _ in range(args.rounds):
                if not sub.stdout.readline().startswith("READY"):
                    sys.exit("w7_ceiling: the subscriber stopped")
                flood = publisher.serve(f"W7 PUB ceiling w7ceiling 1 {args.messages}")
                if "error" in flood:
                    sys.exit(f"w7_ceiling: {flood['error']}")
                received = float(sub.stdout.readline().split()[1])
                rows.append(f"{received:,.0f} / {flood['rate']:,.0f}")
            sub.wait(10)
            print(f"process {p + 1}: received / published msg/s per round: " + "; ".join(rows))
    finally:
        publisher.restore()


if __name__ == "__main__":
    main()
