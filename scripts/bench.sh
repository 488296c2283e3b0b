#!/usr/bin/env bash
# The benchmark suite (docs/benchmarks.md): the release server in its own process on the on-disk
# embedded store, driven over HTTP by a load generator. Prints a table of ratios measured in
# this run and writes target/bench/results.json; then Lighthouse on three pages of the release
# build (scripts/lighthouse.sh, target/bench/lighthouse.json) when one is built.
# BENCH_SECS and BENCH_OVERLOAD_SECS shorten it; BENCH_LIGHTHOUSE=0 leaves Lighthouse out;
# BENCH_SCALE_USERS=1000000 adds figure 9 (that many accounts and a tenth as many open
# challenges written straight into a store of their own; minutes of seeding).
set -euo pipefail
cd "$(dirname "$0")/.."
# /login's JS, WASM and CSS come from the built site; build it if this checkout has none.
if ! ls target/site/pkg/dynamic_otp*.wasm >/dev/null 2>&1; then
  cargo leptos build
fi
# The server is built as it ships (the command `cargo leptos build --release` runs for it), not
# as part of the bench: the bench's dev-dependencies would change its dependencies' features,
# and with them the function names its link order (scripts/link-order.txt) is written in.
# The bench's own build writes its server to the same path, hence the copy.
cargo build --release --no-default-features --features ssr --bin dynamic_otp
mkdir -p target/bench
cp target/release/dynamic_otp target/bench/dynamic_otp
BENCH_SERVER="$PWD/target/bench/dynamic_otp" \
  cargo bench --no-default-features --features ssr --bench load
if [ "${BENCH_LIGHTHOUSE:-1}" != 0 ]; then
  ./scripts/lighthouse.sh || echo "Lighthouse skipped: build the release site first (./scripts/release.sh)"
fi
