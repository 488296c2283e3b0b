#!/usr/bin/env bash
# Builds main.rs against each SurrealDB version given (3.3.5, the app's, and 4.0.0-beta.1 by
# default) and runs them in turn, twice, on this machine. Each build is a crate of its own under
# target/engine-versions/ (a cold release build takes 25-35 minutes on 2 cores). Nothing of the
# app is built; the check's statements and the schema are read from its source.
set -euo pipefail
cd "$(dirname "$0")/../.."
versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(3.3.5 4.0.0-beta.1)
for v in "${versions[@]}"; do
  dir="target/engine-versions/$v"
  mkdir -p "$dir/src"
  cat >"$dir/Cargo.toml" <<TOML
[package]
name = "engine-versions"
version = "0.1.0"
edition = "2021"
[dependencies]
surrealdb = { version = "=$v", features = ["kv-surrealkv"] }
tokio = { version = "1", features = ["full"] }
tikv-jemallocator = "0.6"
[workspace]
TOML
  cp scripts/engine-versions/main.rs "$dir/src/main.rs"
  cp src/server/db/schema.surql "$dir/src/schema.surql"
  # The check's SurrealQL as the app sends it: the string between its BEGIN and COMMIT, with
  # Rust's line continuations joined.
  python3 - "$dir/src/check.surql" <<'PY'
import re, sys
src = open("src/server/db/transactions/code_check.rs").read()
start = src.index('"BEGIN TRANSACTION;') + 1
end = src.index('COMMIT TRANSACTION;"', start) + len("COMMIT TRANSACTION;")
open(sys.argv[1], "w").write(re.sub(r"\\\n\s*", "", src[start:end]))
PY
  cargo build --release --manifest-path "$dir/Cargo.toml"
done
for round in 1 2; do
  for v in "${versions[@]}"; do
    store="$(mktemp -d)"
    "target/engine-versions/$v/target/release/engine-versions" "$store/store" "$v (round $round)"
    rm -rf "$store"
  done
done
