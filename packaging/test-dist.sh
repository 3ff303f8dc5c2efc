#!/usr/bin/env bash
# make test-dist: installs each artefact of dist/ (make dist) as a user would, on a PATH
# without cargo or rustc, and uses it against a throwaway redis-server (loopback):
#   wheel  fresh virtualenvs of CPython 3.10 and 3.13, pip install --no-index of the wheel,
#          sync and asyncio (packaging/test/use_python.py); auditwheel's manylinux verdict
#   sdist  pip install of the sdist into a fresh virtualenv (cargo on PATH: the one step
#          that builds), then the same use
#   npm    the platform tarball and the main tarball into an empty project (no install
#          script in either), used from CommonJS, ESM and TypeScript (tsc --strict, compiled
#          and run); the repo's typed example checked against the installed types; the
#          error an unsupported platform gets
#   c      the tarball unpacked elsewhere, bindings-c/examples/tour.c built with pkg-config
#          (shared: it records the soname) and against the .a, both run
# DIST_PARTS picks some ("wheel sdist npm c" by default).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DIST=$ROOT/dist
WORK=$ROOT/target/dist-test
TOOLS=$ROOT/target/dist-tools
PARTS=${DIST_PARTS:-wheel sdist npm c}
passed=0

say() { printf 'test-dist: %s\n' "$*"; }
die() { printf 'test-dist: FAILED: %s\n' "$*" >&2; exit 1; }
ok() { passed=$((passed + 1)); say "$*"; }
want() { [[ " $PARTS " == *" $1 "* ]]; }

# One throwaway server for all of it (or the caller's REDBRIDGE_TEST_URL).
if [ -z "${_TEST_DIST_SERVER:-}" ]; then
  exec env -u REDIS_URL _TEST_DIST_SERVER=1 tests/harness/with-redis.sh "$0" "$@"
fi

VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
one() { # the one file of dist/ matching a glob
  local f
  f=$(compgen -G "$DIST/$1" | head -2)
  [ -n "$f" ] && [ "$(printf '%s\n' "$f" | wc -l)" = 1 ] || die "dist/$1: not exactly one file (run make dist)"
  printf '%s' "$f"
}

# The user's PATH: this PATH without any directory that holds cargo or rustc (~/.cargo/bin).
user_path=
IFS=: read -r -a dirs <<< "$PATH"
for d in "${dirs[@]}"; do
  [ -n "$d" ] || continue
  [ "$d" = "$HOME/.cargo/bin" ] && continue
  [ -x "$d/cargo" ] || [ -x "$d/rustc" ] && continue
  user_path=${user_path:+$user_path:}$d
done
if env PATH="$user_path" bash -c 'command -v cargo || command -v rustc' > /dev/null; then
  die "cargo or rustc is still on the user PATH ($user_path)"
fi
user() { env PATH="$user_path" CARGO_HOME=/nonexistent RUSTUP_HOME=/nonexistent "$@"; }
say "user PATH without cargo/rustc (command -v cargo fails): $user_path"

# A CPython X.Y: pythonX.Y on PATH, else pyenv's versions/X.Y.*; PYTHONXY=/path overrides.
find_python() {
  local v=$1 var=PYTHON${1/./} cand
  local -a cands=()
  [ -n "${!var:-}" ] && cands+=("${!var}")
  cands+=("python$v")
  for cand in $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}/versions/$v".* 2> /dev/null | sort -rV); do cands+=("$cand/bin/python"); done
  cands+=("/usr/local/bin/python$v" "/usr/bin/python$v")
  for cand in "${cands[@]}"; do
    if [ "$("$cand" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2> /dev/null)" = "$v" ]; then
      command -v "$cand"
      return
    fi
  done
  die "no CPython $v found (looked at python$v on PATH and ${PYENV_ROOT:-$HOME/.pyenv}/versions/$v.*); install it (e.g. pyenv install $v) or set $var=/path/to/python$v"
}

mkdir -p "$WORK"

if want wheel; then
  wheel=$(one "redbridge-$VERSION-cp310-abi3-manylinux*.whl")
  verdict=$("$TOOLS/bin/auditwheel" show "$wheel" | tr '\n' ' ')
  [[ "$verdict" == *'platform tag: "manylinux_2_17_x86_64"'* ]] || die "auditwheel show: $verdict"
  ok "auditwheel show: $(basename "$wheel") is manylinux_2_17_x86_64 (manylinux2014)"
  for v in 3.10 3.13; do
    py=$(find_python "$v")
    venv=$WORK/py$v
    rm -rf "$venv" && "$py" -m venv "$venv"
    user "$venv/bin/python" -m pip install -q --no-index --disable-pip-version-check "$wheel"
    out=$(cd "$WORK" && user "$venv/bin/python" "$ROOT/packaging/test/use_python.py")
    ok "wheel, $out"
  done
fi

if want sdist; then
  sdist=$(one "redbridge-$VERSION.tar.gz")
  venv=$WORK/py-sdist
  rm -rf "$venv" && python3 -m venv "$venv"
  # The one install that builds: cargo stays on PATH. Its target directory is kept, so a
  # second run recompiles the package but not its dependencies.
  log=$WORK/sdist-build.log
  if ! CARGO_TARGET_DIR=$ROOT/target/dist-build/sdist "$venv/bin/python" -m pip install --disable-pip-version-check "$sdist" > "$log" 2>&1; then
    tail -n 40 "$log" >&2
    die "pip install $(basename "$sdist") (log: $log)"
  fi
  out=$(cd "$WORK" && "$venv/bin/python" "$ROOT/packaging/test/use_python.py")
  ok "sdist built by pip with cargo, $out"
fi

if want npm; then
  main_tgz=$(one "redbridge-$VERSION.tgz")
  platform_tgz=$(one "redbridge-linux-x64-gnu-$VERSION.tgz")
  app=$WORK/npm-app
  rm -rf "$app" && mkdir -p "$app"
  printf '{ "name": "redbridge-dist-test", "private": true }\n' > "$app/package.json"
  (cd "$app" && user npm install --no-audit --no-fund --loglevel=error "$platform_tgz" "$main_tgz" typescript@5 @types/node@20 > /dev/null)
  (cd "$app" && user node -e '
    const main = require("redbridge/package.json");
    const platform = require("redbridge-linux-x64-gnu/package.json");
    for (const p of [main, platform]) if (p.scripts) throw new Error(`${p.name} has scripts: ${JSON.stringify(p.scripts)}`);
    const fs = require("node:fs");
    if (fs.readdirSync("node_modules/redbridge").some((f) => f.endsWith(".node"))) throw new Error("an addon inside redbridge itself");
    if (main.optionalDependencies["redbridge-linux-x64-gnu"] !== main.version) throw new Error("optionalDependencies");')
  ok "npm install of $(basename "$platform_tgz") + $(basename "$main_tgz"): no install script, the addon only in the platform package"
  cp packaging/test/use_node.cjs packaging/test/use_node.mjs packaging/test/use_node.ts "$app/"
  ok "$(cd "$app" && user node use_node.cjs)"
  ok "$(cd "$app" && user node use_node.mjs)"
  (cd "$app" && user npx tsc --strict --types node --module commonjs --target es2022 --outDir out use_node.ts)
  ok "$(cd "$app" && user node out/use_node.js)"
  sed "s#from '..'#from 'redbridge'#" bindings-node/test/typing-example.ts > "$app/typing-example.ts"
  (cd "$app" && user npx tsc --noEmit --strict --types node typing-example.ts)
  ok "tsc --noEmit --strict of bindings-node/test/typing-example.ts against the installed types"
  msg=$(cd "$app" && user node -e '
    Object.defineProperty(process, "arch", { value: "riscv64" });
    try { require("redbridge"); } catch (e) {
      if (e.code !== "ERR_REDBRIDGE_NO_ADDON" || !e.message.includes("linux-riscv64-gnu") || !e.message.includes("linux-x64-gnu")) throw e;
      console.log(e.message.split("\n")[0]); process.exit(0);
    }
    throw new Error("loaded on an unsupported platform");')
  ok "unsupported platform (arch faked as riscv64) says: $msg"
fi

if want c; then
  tarball=$(one "libredbridge-$VERSION-linux-x86_64.tar.gz")
  c=$WORK/c
  rm -rf "$c" && mkdir -p "$c/elsewhere"
  tar xzf "$tarball" -C "$c/elsewhere"
  prefix=$c/elsewhere/libredbridge-$VERSION-linux-x86_64
  export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
  user gcc -std=gnu11 -Wall -Werror bindings-c/examples/tour.c $(user pkg-config --cflags --libs redbridge) -o "$c/tour"
  needed=$(readelf -d "$c/tour" | sed -n 's/.*NEEDED.*\[\(libredbridge[^]]*\)\].*/\1/p')
  soname=$(readelf -d "$prefix/lib/libredbridge.so" | sed -n 's/.*SONAME.*\[\(.*\)\].*/\1/p')
  [ -n "$soname" ] && [ "$needed" = "$soname" ] && [ -e "$prefix/lib/$soname" ] || die "soname $soname, the program needs $needed"
  REDIS_URL=$REDBRIDGE_TEST_URL LD_LIBRARY_PATH=$prefix/lib user "$c/tour" > "$c/tour.out"
  grep -q "redbridge C tour" "$c/tour.out" || die "tour printed: $(head -3 "$c/tour.out")"
  ok "C: tour.c built with pkg-config from the unpacked tarball (prefix \${pcfiledir}/../..), needs $needed, ran"
  # Static: the .a with what pkg-config --static adds.
  user gcc -std=gnu11 -Wall -Werror bindings-c/examples/tour.c $(user pkg-config --cflags redbridge) \
    $(user pkg-config --static --libs redbridge | sed 's/-lredbridge\b/-l:libredbridge.a/') -o "$c/tour-static"
  if readelf -d "$c/tour-static" | grep -q libredbridge; then die "tour-static still needs libredbridge.so"; fi
  REDIS_URL=$REDBRIDGE_TEST_URL user "$c/tour-static" > "$c/tour-static.out"
  grep -q "redbridge C tour" "$c/tour-static.out" || die "static tour printed: $(head -3 "$c/tour-static.out")"
  ok "C: tour.c linked against libredbridge.a (pkg-config --static), ran"
fi

# The glibc floor of the native code (the wheel's is auditwheel's verdict above).
if want npm || want c; then
  for f in "$WORK/npm-app/node_modules/redbridge-linux-x64-gnu/redbridge.linux-x64-gnu.node" "${prefix:-}/lib/libredbridge.so.$VERSION"; do
    [ -f "$f" ] || continue
    floor=$(objdump -T "$f" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)
    [ "$(printf '%s\n' "$floor" GLIBC_2.17 | sort -V | tail -1)" = GLIBC_2.17 ] || die "$(basename "$f") needs $floor"
    ok "$(basename "$f") needs glibc ${floor#GLIBC_} at most"
  done
fi

say "$passed passed, 0 failed"
