#!/usr/bin/env bash
# Runs a command with REDIS_URL set: the caller's REDIS_URL when given, else a
# throwaway redis-server (tests/harness/redis_server.py) stopped by PID afterwards.
# A throwaway server is also exported as REDBRIDGE_TEST_URL (unless the caller set it),
# the only name test suites read, so they never write to the caller's REDIS_URL; run
# tests as `env -u REDIS_URL with-redis.sh ...` (make test-c does).
# With WITH_TLS=1 it also starts a TLS-only server (client certificates optional) and
# exports REDBRIDGE_TLS_URL, REDBRIDGE_TLS_CA, REDBRIDGE_TLS_CERT, REDBRIDGE_TLS_KEY and
# REDBRIDGE_TLS_OTHER_CA (a CA that signed nothing). With WITH_CLUSTER=1 it starts a local
# 3+3 Redis Cluster and exports REDBRIDGE_CLUSTER_URL (one seed node) and
# REDBRIDGE_CLUSTER_PIDFILES and REDBRIDGE_CLUSTER_PORTS (its nodes, primaries first).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }
pidfiles=()
cleanup() { for p in "${pidfiles[@]}"; do python3 "$here/redis_server.py" stop "$p"; done; }
trap cleanup EXIT
if [ "${WITH_TLS:-}" = 1 ]; then
  tls=$(python3 "$here/redis_server.py" start --tls -- --tls-auth-clients optional)
  pidfiles+=("$(field "$tls" pidfile)")
  export REDBRIDGE_TLS_URL=$(field "$tls" url) REDBRIDGE_TLS_CA=$(field "$tls" ca) \
    REDBRIDGE_TLS_CERT=$(field "$tls" cert) REDBRIDGE_TLS_KEY=$(field "$tls" key) \
    REDBRIDGE_TLS_OTHER_CA=$(field "$tls" other_ca)
fi
if [ "${WITH_CLUSTER:-}" = 1 ]; then
  cl=$(python3 "$here/redis_server.py" cluster)
  for p in $(python3 -c 'import json,sys; print(" ".join(json.loads(sys.argv[1])["pidfiles"]))' "$cl"); do
    pidfiles+=("$p")
  done
  export REDBRIDGE_CLUSTER_URL=$(field "$cl" url)
  REDBRIDGE_CLUSTER_PIDFILES=$(python3 -c 'import json,sys; print(" ".join(json.loads(sys.argv[1])["pidfiles"]))' "$cl")
  REDBRIDGE_CLUSTER_PORTS=$(python3 -c 'import json,sys; print(" ".join(map(str, json.loads(sys.argv[1])["ports"])))' "$cl")
  export REDBRIDGE_CLUSTER_PIDFILES REDBRIDGE_CLUSTER_PORTS
fi
if [ -z "${REDIS_URL:-}" ]; then
  info=$(python3 "$here/redis_server.py" start)
  pidfiles+=("$(field "$info" pidfile)")
  REDIS_URL=$(field "$info" url)
  REDBRIDGE_TEST_URL=${REDBRIDGE_TEST_URL:-$REDIS_URL}
  export REDIS_URL REDBRIDGE_TEST_URL
  echo "(throwaway redis-server at $REDIS_URL)" >&2
fi
"$@"
