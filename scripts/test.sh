#!/usr/bin/env bash
# Sets up what is missing and runs every test: unit and integration, then the browser tests
# (Playwright in Debian's Chromium) against the debug build, the stylesheet hot-reload check under
# `cargo leptos watch`, and last the release configuration (the shipped WASM with an unoptimised
# release server, `release.sh --check`; it compiles in the background at low priority from the
# start) with a pass over every page that fails on any console or page error.
# `E2E_BUILD=release npx playwright test` in end2end/ runs the whole browser suite against the
# real release build (./scripts/release.sh), E2E_BUILD=check against the one built here.
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
need_rust_tools
start_release_build
need_browser_tools
cd "$ROOT"
say "Unit and integration tests"
# The server half of `cargo leptos test`; .cargo/config.toml gives plain cargo the view flag and
# output name cargo-leptos uses. Its other half builds the hydrate side natively and has no tests.
cargo test --no-default-features --features ssr
say "Ignored above: the two cluster tests need a SurrealDB server; ./scripts/cluster-test.sh builds one once and runs them"
say "Building the app (server + WASM) for the browser tests"
cargo leptos build
say "Browser tests"
(cd end2end && npx playwright test)
say "A stylesheet edit shows in the open page under cargo leptos watch"
./scripts/css-reload-check.sh
finish_release_build
say "Every page of the release configuration hydrates without a console or page error"
(cd end2end && E2E_BUILD=check npx playwright test tests/console.spec.ts)
