#!/usr/bin/env bash
# make dist: what the registries would serve, each built once, into dist/ (issue #20).
#   redbridge-V-cp310-abi3-manylinux_2_17_x86_64...whl   CPython 3.10+ (abi3), glibc 2.17+
#   redbridge-V.tar.gz                                   the sdist: pip builds it where cargo is
#   redbridge-V.tgz                                      npm: JS + types, optionalDependencies
#   redbridge-linux-x64-gnu-V.tgz                        npm: the prebuilt addon, glibc 2.17+
#   libredbridge-V-linux-x86_64.tar.gz                   lib/ (.so with soname, .a), include/,
#                                                        lib/pkgconfig/redbridge.pc (relocatable)
# Every native artefact links against glibc 2.17 through zig (ziglang from PyPI), whatever
# the build machine's glibc: the wheel with `maturin --zig`, the addon and libredbridge with
# cargo-zigbuild in one cargo run (they share the core's compiled crates). Two release
# builds, each in a target directory of its own under target/dist-build, so neither undoes
# the other's (their zig wrappers differ) and a second `make dist` only relinks what changed.
# The tools go into target/dist-tools (packaging/requirements-dist.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
[ -x "$HOME/.cargo/bin/cargo" ] && PATH="$HOME/.cargo/bin:$PATH"
TOOLS=$ROOT/target/dist-tools
BUILD=$ROOT/target/dist-build
DIST=$ROOT/dist
TRIPLE=x86_64-unknown-linux-gnu
GLIBC=2.17

say() { printf 'dist: %s\n' "$*"; }
die() { printf 'dist: %s\n' "$*" >&2; exit 1; }
# Runs a step with its output in a log, shown only when it fails.
quiet() {
  local log=$1; shift
  if ! "$@" > "$log" 2>&1; then tail -n 60 "$log" >&2; die "failed: $* (log: $log)"; fi
}

for tool in cargo python3 node npm gcc; do
  command -v "$tool" > /dev/null || die "$tool is missing (make deps installs gcc; node/npm: apt-get install nodejs npm)"
done

# One version everywhere.
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
py_version=$(sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml | head -1)
node_version=$(node -p "require('./bindings-node/package.json').version")
[ "$VERSION" = "$py_version" ] && [ "$VERSION" = "$node_version" ] \
  || die "versions differ: Cargo.toml $VERSION, pyproject.toml $py_version, bindings-node/package.json $node_version"
# The soname names the ABI: MAJOR from 1.0 on, 0.MINOR before (cargo's semver: in 0.x the
# minor version is the breaking one).
IFS=. read -r major minor _ <<< "$VERSION"
if [ "$major" = 0 ]; then ABI=0.$minor; else ABI=$major; fi
SONAME=libredbridge.so.$ABI

mkdir -p "$BUILD"
if [ ! -x "$TOOLS/bin/python" ]; then python3 -m venv "$TOOLS"; fi
quiet "$BUILD/tools.log" "$TOOLS/bin/python" -m pip install --disable-pip-version-check -r packaging/requirements-dist.txt
export PATH="$TOOLS/bin:$PATH"   # maturin, cargo-zigbuild; both find zig through `python -m ziglang`

rm -rf "$DIST" && mkdir -p "$DIST"

# --- Python: the manylinux wheel and the sdist ------------------------------------------
say "wheel (maturin --zig, manylinux2014, abi3) ..."
quiet "$BUILD/wheel.log" maturin build --release --zig --compatibility manylinux2014 --target "$TRIPLE" \
  --target-dir "$BUILD/wheel" --out "$DIST"
quiet "$BUILD/sdist.log" maturin sdist --out "$DIST"

# --- the addon and libredbridge: one cargo run for glibc 2.17 ------------------------------
say "addon and libredbridge (cargo-zigbuild, glibc $GLIBC) ..."
quiet "$BUILD/native.log" env REDBRIDGE_SONAME="$SONAME" cargo-zigbuild build --release \
  --target "$TRIPLE.$GLIBC" --target-dir "$BUILD/native" \
  -p redbridge-node -p redbridge-c --features redbridge-c/mimalloc
OUT=$BUILD/native/$TRIPLE/release

# --- npm: the main package and the linux-x64-gnu platform package --------------------------
quiet "$BUILD/npm-stage.log" node packaging/npm/stage.js --addon "$OUT/libredbridge_node.so" --target "$TRIPLE" \
  --built-for "glibc $GLIBC+" --out "$BUILD/npm"
cat "$BUILD/npm-stage.log"
for p in platform main; do
  (cd "$BUILD/npm/$p" && quiet "$BUILD/npm-pack-$p.log" npm pack --pack-destination "$DIST" --loglevel=error)
done

# --- C: libredbridge-V-linux-x86_64.tar.gz ---------------------------------------------
C_NAME=libredbridge-$VERSION-linux-x86_64
C_STAGE=$BUILD/c/$C_NAME
rm -rf "$BUILD/c" && mkdir -p "$C_STAGE/lib/pkgconfig" "$C_STAGE/include"
install -m 0755 "$OUT/libredbridge.so" "$C_STAGE/lib/libredbridge.so.$VERSION"
ln -s "libredbridge.so.$VERSION" "$C_STAGE/lib/$SONAME"
ln -s "$SONAME" "$C_STAGE/lib/libredbridge.so"
# A static library keeps its symbols (the linker needs them); DWARF it does not.
strip --strip-debug -o "$C_STAGE/lib/libredbridge.a" "$OUT/libredbridge.a"
chmod 0644 "$C_STAGE/lib/libredbridge.a"
install -m 0644 bindings-c/include/redbridge.h "$C_STAGE/include/"
mkdir -p "$C_STAGE/share/doc/redbridge"
install -m 0644 bindings-c/README.md "$C_STAGE/share/doc/redbridge/README.md"
sed -e "s|@VERSION@|$VERSION|g" -e "s|@SONAME@|$SONAME|g" packaging/c/README.md > "$C_STAGE/README.md"
sed -e 's|@PREFIX@|${pcfiledir}/../..|' -e "s|@VERSION@|$VERSION|" bindings-c/redbridge.pc.in > "$C_STAGE/lib/pkgconfig/redbridge.pc"
# Reproducible: names sorted, owner root, times of the last commit.
epoch=$(git log -1 --format=%ct 2> /dev/null || date +%s)
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" -C "$BUILD/c" -czf "$DIST/$C_NAME.tar.gz" "$C_NAME"

say "wrote dist/ ($(readelf -d "$OUT/libredbridge.so" | sed -n 's/.*soname: \[\(.*\)\]/soname \1/p')):"
(cd "$DIST" && for f in *; do printf '  %-72s %6.2f MB\n' "$f" "$(stat -c %s "$f" | awk '{print $1 / 1e6}')"; done)
