#!/usr/bin/env bash
# Sets up what is missing and runs every test: unit and integration, then the browser tests
# (Playwright in Debian's Chromium) against the debug build, then the stylesheet hot-reload check
# under `cargo leptos watch`. `E2E_BUILD=release npx playwright test` in end2end/ runs the same
# suite against ./scripts/release.sh's build.
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
need_rust_tools
need_browser_tools
cd "$ROOT"
say "Unit and integration tests"
# The server half of `cargo leptos test`, built with the flags and output name cargo-leptos
# uses (Leptos bakes LEPTOS_OUTPUT_NAME into the binary); its other half builds the hydrate
# side natively and has no tests.
LEPTOS_OUTPUT_NAME=dynamic_otp RUSTFLAGS="--cfg erase_components" \
  cargo test --no-default-features --features ssr
say "Ignored above: the two cluster tests need a SurrealDB server; ./scripts/cluster-test.sh builds one once and runs them"
say "Building the app (server + WASM) for the browser tests"
cargo leptos build
say "Browser tests"
(cd end2end && npx playwright test)
say "A stylesheet edit shows in the open page under cargo leptos watch"
./scripts/css-reload-check.sh
