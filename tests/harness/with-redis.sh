#!/usr/bin/env bash
# Runs a command with REDIS_URL set: the caller's REDIS_URL when given, else a
# throwaway redis-server (tests/harness/redis_server.py) stopped by PID afterwards.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ -n "${REDIS_URL:-}" ]; then
  exec "$@"
fi
info=$(python3 "$here/redis_server.py" start)
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$info" "$1"; }
pidfile=$(field pidfile)
trap 'python3 "$here/redis_server.py" stop "$pidfile"' EXIT
REDIS_URL=$(field url)
export REDIS_URL
echo "(throwaway redis-server at $REDIS_URL)" >&2
"$@"
