#!/usr/bin/env bash
# The production build, as shipped: optimised server and WASM (wasm-release profile, wasm-opt
# from binaryen 116), asset names hashed so browsers may keep them a year;
# target/release/hash.txt names them and goes beside the binary. The site goes to
# target/site-release (serve it with LEPTOS_SITE_ROOT=target/site-release), apart from the
# development site in target/site: a debug build empties its site folder when it starts, so one
# folder each lets both builds run at once. Development builds (`cargo leptos watch`/`build`)
# keep plain names, so a stylesheet edit reloads in the open page.
#
# `--check` is what the tests build to try the release pages: the shipped WASM (same profile,
# same wasm-opt) and a server in the release configuration (no debug assertions, so it renders
# the very HTML the shipped one does) left unoptimised and not linked as one unit, all under
# target/check: a fraction of the CPU time of the full build (its WASM half is 6 minutes cold
# here); it never touches target/release.
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
need_rust_tools
need_wasm_opt
cd "$ROOT"
if [ "${1:-}" = "--check" ]; then
  say "Release-configuration build for the tests into target/check (shipped WASM, unoptimised server)"
  CARGO_TARGET_DIR="$ROOT/target/check" CARGO_PROFILE_RELEASE_OPT_LEVEL=0 \
    CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    LEPTOS_HASH_FILES=true LEPTOS_SITE_ROOT=target/check/site cargo leptos build --release
  exit
fi
say "Release build into target/site-release (about 45 minutes cold on 2 cores; the server alone, linked as one unit, took 32)"
LEPTOS_HASH_FILES=true LEPTOS_SITE_ROOT=target/site-release cargo leptos build --release
