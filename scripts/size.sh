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
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_SITE_ROOT="$site" LEPTOS_ENV=PROD DOTP_DEV_MODE=true DOTP_SMS_PROVIDER=console \
  DOTP_DATABASE_URL=mem:// DOTP_COOKIE_SECURE=false DOTP_DATA_DIR="target/size-data" RUST_LOG=warn \
  "target/$profile/dynamic_otp" >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null' EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 1 300); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done
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
# /login is plain HTML (no app script); the code step and every later page load the app.
measure /login
measure /verify
echo "Budget (issue 6): /login JS + WASM at most 102400 B gzip."
