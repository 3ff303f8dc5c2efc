#!/usr/bin/env bash
# Makes sure what the tests, demo and bench need is on this machine: cargo, python3,
# libhiredis-dev (the bench's C anchor), and redis-server / redis-benchmark (Debian package redis-server, installed with
# apt-get when missing and running as root; otherwise the exact command is printed).
set -euo pipefail
[ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
missing=0
for tool in cargo python3; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "ensure-deps: $tool is missing; install it first (cargo: https://rustup.rs, python3: apt-get install python3)" >&2
    missing=1
  fi
done
[ "$missing" = 0 ] || exit 1

# Debian packages the suites need, by the command each provides.
need=()
if [ -z "${REDIS_SERVER:-}" ] && ! command -v redis-server >/dev/null 2>&1; then need+=(redis-server); fi
command -v redis-benchmark >/dev/null 2>&1 || need+=(redis-tools)
command -v gcc >/dev/null 2>&1 || need+=(gcc)
command -v g++ >/dev/null 2>&1 || need+=(g++)
command -v valgrind >/dev/null 2>&1 || need+=(valgrind)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
python3 -m venv --help >/dev/null 2>&1 || need+=(python3-venv)
# hiredis: the C anchor of the bench (bench/clients_c.c), built in its quick run too.
[ -e /usr/include/hiredis/hiredis.h ] || need+=(libhiredis-dev)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "ensure-deps: installing ${need[*]} with apt-get" >&2
    # Keep the package's own service from starting: tests start their own servers.
    added_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && added_policy=1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    if [ "$added_policy" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
  else
    echo "ensure-deps: missing ${need[*]}. Install with: sudo apt-get install ${need[*]}" >&2
    echo "             (or point REDIS_SERVER at a redis-server 7.x binary)" >&2
    exit 1
  fi
fi
server=${REDIS_SERVER:-$(command -v redis-server)}
echo "ensure-deps: $("$server" --version | cut -d' ' -f1-3), $(cargo --version), $(python3 --version)" >&2
