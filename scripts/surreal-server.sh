#!/usr/bin/env bash
# Prints the path of a `surreal` server binary of the SDK's exact version, building it once from
# crates.io (tools/surreal-server) into a cache outside the clone: ~25 min on 2 cores, reused
# by every later run. SURREAL_BIN, if set, names a binary to use instead.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$HOME/.cargo/bin:$PATH"
VERSION="$(awk '/^name = "surrealdb"$/{getline; gsub(/"/,"",$3); print $3; exit}' "$ROOT/Cargo.lock")"
CACHE="${SURREAL_CACHE:-$HOME/.cache/dynamic-otp}/surreal-$VERSION"
if [ -n "${SURREAL_BIN:-}" ]; then
  echo "$SURREAL_BIN"
  exit 0
fi
if [ ! -x "$CACHE/surreal" ]; then
  if [ -n "${SURREAL_CACHED_ONLY:-}" ]; then
    echo "no cached SurrealDB $VERSION server in $CACHE, and SURREAL_CACHED_ONLY says not to build one now" >&2
    exit 1
  fi
  pinned="$(grep -o 'surrealdb-server = { version = "=[0-9.]*"' "$ROOT/tools/surreal-server/Cargo.toml" | grep -o '[0-9][0-9.]*')"
  if [ "$pinned" != "$VERSION" ]; then
    echo "tools/surreal-server pins $pinned but the app's SDK is $VERSION; update it" >&2
    exit 1
  fi
  echo "building the SurrealDB $VERSION server into $CACHE (about 25 minutes, once)" >&2
  mkdir -p "$CACHE"
  start=$(date +%s)
  CARGO_TARGET_DIR="$CACHE/target" cargo build --release --locked \
    --manifest-path "$ROOT/tools/surreal-server/Cargo.toml" >&2
  cp "$CACHE/target/release/surreal" "$CACHE/surreal.tmp" && mv "$CACHE/surreal.tmp" "$CACHE/surreal"
  # The binary is all the tests need; the build tree is gigabytes.
  rm -rf "$CACHE/target"
  echo "built in $(( $(date +%s) - start )) s, $(du -h "$CACHE/surreal" | cut -f1)" >&2
fi
echo "$CACHE/surreal"
