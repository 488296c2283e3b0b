#!/usr/bin/env bash
# The two-instance cluster test and the database-away readiness test, against a real SurrealDB
# server built once from crates.io into a cache (scripts/surreal-server.sh; ~25 min the first
# time). The main test run skips these two with a message.
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$ROOT"
say "SurrealDB server for the cluster tests"
SURREAL_BIN="$(./scripts/surreal-server.sh)"
export SURREAL_BIN
"$SURREAL_BIN" version || true
say "Cluster tests: two app instances on one SurrealDB server; the database going away"
LEPTOS_OUTPUT_NAME=dynamic_otp RUSTFLAGS="--cfg erase_components" \
  cargo test --no-default-features --features ssr --test integration cluster -- --nocapture
