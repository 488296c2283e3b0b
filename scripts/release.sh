#!/usr/bin/env bash
# The production build, as shipped: optimised server and WASM (wasm-release profile, wasm-opt),
# asset names hashed so browsers may keep them a year; target/release/hash.txt names them and
# goes beside the binary. Development builds (`cargo leptos watch`/`build`) keep plain names, so
# a stylesheet edit reloads in the open page.
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
need_rust_tools
need_wasm_opt
cd "$ROOT"
say "Release build (about 20 minutes cold on 2 cores)"
LEPTOS_HASH_FILES=true cargo leptos build --release
