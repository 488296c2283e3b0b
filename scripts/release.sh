#!/usr/bin/env bash
# The production build, as shipped: optimised server and WASM (wasm-release profile, wasm-opt
# from binaryen 116), asset names hashed so browsers may keep them a year;
# target/release/hash.txt names them and goes beside the binary. The site goes to
# target/site-release (serve it with LEPTOS_SITE_ROOT=target/site-release), apart from the
# development site in target/site: a debug build empties its site folder when it starts, so one
# folder each lets both builds run at once. Development builds (`cargo leptos watch`/`build`)
# keep plain names, so a stylesheet edit reloads in the open page.
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
need_rust_tools
need_wasm_opt
cd "$ROOT"
say "Release build into target/site-release (about 35 minutes cold on 2 cores)"
LEPTOS_HASH_FILES=true LEPTOS_SITE_ROOT=target/site-release cargo leptos build --release
