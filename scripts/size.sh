#!/usr/bin/env bash
# Prints the bytes of the JS, WASM and CSS that /login and /verify load: raw, gzip -9, and what the server
# actually sends to a browser that accepts brotli. Starts the built server on a free port and
# reads the page, so hashed asset names are followed. `--release` measures a release build.
# Budget (issue 6): JS + WASM at most 100 KB gzip.
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$ROOT"
profile=debug
site=target/site
if [ "${1:-}" = "--release" ]; then profile=release; site=target/site-release; fi
if [ "${SIZE_NO_BUILD:-}" != 1 ]; then
  need_rust_tools
  say "Building ($profile)"
  if [ "$profile" = release ]; then ./scripts/release.sh; else cargo leptos build; fi
fi
trap 'kill ${server:-} 2>/dev/null' EXIT
serve_built_site "$site" "target/$profile/dynamic_otp" target/size-data
# What one page loads: its hashed assets, raw, gzip -9 and as sent.
measure() {
  local page=$1 assets raw gz sent total_raw=0 total_gz=0 total_sent=0 code_gz=0
  assets=$(curl -sf "$base$page" | grep -o '/pkg/[^"]*' | sort -u)
  printf '\n%s\n%-48s %10s %10s %12s\n' "$page" "asset ($profile)" raw gzip-9 "sent (br)"
  for path in $assets; do
    raw=$(curl -sf "$base$path" | wc -c)
    gz=$(curl -sf "$base$path" | gzip -9 | wc -c)
    sent=$(curl -sf -H 'Accept-Encoding: br, gzip' -o /dev/null -w '%{size_download}' "$base$path")
    printf '%-48s %10d %10d %12d\n' "$path" "$raw" "$gz" "$sent"
    total_raw=$((total_raw + raw)); total_gz=$((total_gz + gz)); total_sent=$((total_sent + sent))
    case "$path" in *.js|*.wasm) code_gz=$((code_gz + gz)) ;; esac
  done
  printf '%-48s %10d %10d %12d\n' "total" "$total_raw" "$total_gz" "$total_sent"
  printf '%s JS + WASM gzip: %d B\n' "$page" "$code_gz"
}
# Every page loads the same islands bundle; /verify is the page with the most islands.
measure /login
measure /verify
echo "Budget (issue 16): every page JS + WASM at most 102400 B gzip."
