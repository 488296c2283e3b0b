#!/usr/bin/env bash
# The benchmark suite (docs/benchmarks.md): a release build of the server library with the load
# generator in one process, on the on-disk embedded store. Prints a table of ratios measured in
# this run and writes target/bench/results.json. BENCH_SECS and BENCH_OVERLOAD_SECS shorten it.
set -euo pipefail
cd "$(dirname "$0")/.."
# /login's JS, WASM and CSS come from the built site; build it if this checkout has none.
if ! ls target/site/pkg/dynamic_otp*.wasm >/dev/null 2>&1; then
  cargo leptos build
fi
cargo bench --no-default-features --features ssr --bench load
