#!/usr/bin/env bash
# Sets up what is missing and runs every test: unit and integration, then the browser tests
# (Playwright in Debian's Chromium against the built server).
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
need_rust_tools
need_browser_tools
cd "$ROOT"
say "Building the app (server + WASM)"
cargo leptos build
say "Unit and integration tests"
# The server half of `cargo leptos test`, with the flags cargo-leptos builds with so compiled
# dependencies are shared; its other half builds the hydrate side natively and has no tests.
RUSTFLAGS="--cfg erase_components" cargo test --no-default-features --features ssr
say "Browser tests"
cd end2end
npx playwright test
