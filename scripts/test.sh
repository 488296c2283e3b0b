#!/usr/bin/env bash
# Sets up what is missing and runs every test: unit and integration (cargo leptos test), then
# the browser tests (Playwright in Debian's Chromium against the built server).
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
need_rust_tools
need_browser_tools
cd "$ROOT"
say "Unit and integration tests"
cargo leptos test
say "Building the app for the browser tests"
cargo leptos build
say "Browser tests"
cd end2end
npx playwright test
