#!/usr/bin/env bash
# Checks what a developer sees: under `cargo leptos watch`, an edit to style/main.css shows in
# the open page within seconds, without a reload or a server restart. Starts the watcher on
# spare ports, runs end2end/tools/css-reload.mjs in Chromium, restores the stylesheet.
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
need_rust_tools
need_browser_tools
cd "$ROOT"
port=$(free_port)
reload=$(free_port)
log="target/css-reload-watch.log"
mkdir -p target
say "cargo leptos watch on 127.0.0.1:$port (live reload on $reload)"
LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_RELOAD_PORT="$reload" DOTP_DATABASE_URL=mem:// DOTP_METRICS_ADDR=off \
  DOTP_SMS_PROVIDER=console DOTP_DATA_DIR=target/css-reload-data \
  setsid cargo leptos watch >"$log" 2>&1 &
watcher=$!
trap 'kill -- -$watcher 2>/dev/null; cp -f target/css-reload-main.css style/main.css 2>/dev/null; true' EXIT
cp style/main.css target/css-reload-main.css
for _ in $(seq 1 1800); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
  if ! kill -0 $watcher 2>/dev/null; then tail -30 "$log"; exit 1; fi
  sleep 0.5
done
curl -sf "http://127.0.0.1:$port/healthz" >/dev/null || { tail -30 "$log"; exit 1; }
say "Editing style/main.css with the page open"
node end2end/tools/css-reload.mjs "http://127.0.0.1:$port" style/main.css
