# Installs what a fresh machine lacks; each step only when missing. Sourced by run.sh and test.sh.
# Versions and flags are the ones measured on this project's machines (see docs/toolchain.md).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$HOME/.cargo/bin:$PATH"
CARGO_LEPTOS_VERSION=0.3.11

# With STEPS_T0 set (CI sets it), every step line carries the minutes since the run began, and
# the steps are kept in target/steps.log for a summary even when the run is stopped.
say() {
  if [ -n "${STEPS_T0:-}" ]; then
    local line
    line="$(printf '[%3d min] %s' $(( ($(date +%s) - STEPS_T0) / 60 )) "$*")"
    printf '\033[1m==> %s\033[0m\n' "$line"
    mkdir -p "$ROOT/target" && echo "$line" >>"$ROOT/target/steps.log"
  else
    printf '\033[1m==> %s\033[0m\n' "$*"
  fi
}

need_rust_tools() {
  # Passkeys (webauthn-rs) build against the system OpenSSL; the server's allocator (jemalloc)
  # is built from C with make.
  if ! pkg-config --exists openssl 2>/dev/null || ! command -v make >/dev/null; then
    say "Installing OpenSSL headers, pkg-config and make (passkeys and jemalloc build with them)"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libssl-dev pkg-config make
  fi
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "Adding the wasm32 target"
    rustup target add wasm32-unknown-unknown
  fi
  if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
    say "Installing cargo-leptos $CARGO_LEPTOS_VERSION (about 10 minutes on 2 cores)"
    # --ignore-rust-version: its lockfile pins a crate that asks for a newer rustc than needed.
    # no_downloads: use tools from PATH instead of fetching binaries at build time.
    # Its own release profile asks for fat LTO in one codegen unit, a final step of several
    # minutes on one core; a build tool gains nothing from it that we would notice.
    CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
      cargo install --locked --ignore-rust-version cargo-leptos --version "$CARGO_LEPTOS_VERSION" --features no_downloads
  fi
  local wb
  wb="$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/"/,"",$3); print $3; exit}' "$ROOT/Cargo.lock")"
  if ! wasm-bindgen --version 2>/dev/null | grep -q " $wb\$"; then
    say "Installing wasm-bindgen-cli $wb (must match Cargo.lock)"
    # Not --locked: its lockfile wants a crate version the registry mirror may lack.
    cargo install wasm-bindgen-cli --version "$wb" --force
  fi
}

need_browser_tools() {
  # A Devanagari font too, so the Hindi screenshots show letters rather than boxes.
  if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi devanagari; then
    say "Installing Debian's Chromium and a Devanagari font"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      chromium fonts-lohit-deva fontconfig
  fi
  if [ ! -d "$ROOT/end2end/node_modules/@playwright/test" ] \
    || [ ! -d "$ROOT/end2end/node_modules/@axe-core/playwright" ] \
    || [ ! -d "$ROOT/end2end/node_modules/openid-client" ]; then
    say "Installing Playwright, axe-core and openid-client (test tools only; the browser is Debian's Chromium)"
    (cd "$ROOT/end2end" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
  fi
}

need_wasm_opt() {
  # Release builds only. Debian's binaryen (wasm-opt 108) silently breaks release WASM. Binaryen
  # 116 from npm (compiled to WebAssembly, run by Node) gives byte for byte the output of the
  # wasm-opt 0.116.1 crate, in seconds instead of a 7-minute C++ build.
  if ! wasm-opt --version 2>/dev/null | grep -q "version 116"; then
    if [ ! -x "$ROOT/scripts/binaryen/node_modules/.bin/wasm-opt" ]; then
      say "Installing wasm-opt (binaryen 116) from npm"
      npm ci --prefix "$ROOT/scripts/binaryen" --no-audit --no-fund
    fi
    export PATH="$ROOT/scripts/binaryen/node_modules/.bin:$PATH"
  fi
}

# The release-configuration build (release.sh --check) is the longest step, and for long stretches
# of the others (browser tests, linking, one large crate compiling) a core sits idle. Started
# early at the lowest priority it fills those gaps without slowing the steps in front. It builds
# under target/check: a debug build empties target/site when it starts.
start_release_build() {
  [ -n "${RELEASE_BG_STATUS:-}" ] && return 0
  mkdir -p "$ROOT/target"
  export RELEASE_BG_LOG="$ROOT/target/release-build.log"
  export RELEASE_BG_STATUS="$ROOT/target/release-build.status"
  rm -f "$RELEASE_BG_STATUS"
  say "Release-configuration build started in the background at low priority (log: target/release-build.log)"
  (
    status=0
    nice -n 19 "$ROOT/scripts/release.sh" --check >"$RELEASE_BG_LOG" 2>&1 || status=$?
    echo "$status" >"$RELEASE_BG_STATUS"
  ) &
}

# Waits for the release build started above (or runs one now if none was started).
finish_release_build() {
  if [ -z "${RELEASE_BG_STATUS:-}" ]; then
    "$ROOT/scripts/release.sh" --check
    return
  fi
  say "Waiting for the background release-configuration build"
  while [ ! -f "$RELEASE_BG_STATUS" ]; do sleep 5; done
  if [ "$(cat "$RELEASE_BG_STATUS")" != 0 ]; then
    tail -80 "$RELEASE_BG_LOG"
    say "The release build failed (whole log: target/release-build.log)"
    return 1
  fi
  tail -3 "$RELEASE_BG_LOG"
  say "Release build done"
}

# A free TCP port on loopback.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Serves a built site ($1) with its server binary ($2) on a free loopback port, on an in-memory
# store with console SMS and its files under $3, and waits until it answers /readyz. Sets
# `base` (its URL) and `server` (its pid); the caller stops it. Settings given before the call
# (e.g. LEPTOS_HASH_FILES=true) reach the server.
serve_built_site() {
  local port
  port=$(free_port)
  LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_SITE_ROOT="$1" LEPTOS_ENV=PROD DOTP_DEV_MODE=true \
    DOTP_SMS_PROVIDER=console DOTP_DATABASE_URL=mem:// DOTP_COOKIE_SECURE=false \
    DOTP_DATA_DIR="$3" RUST_LOG=warn "$2" >/dev/null 2>&1 &
  server=$!
  base="http://127.0.0.1:$port"
  for _ in $(seq 1 300); do curl -sf "$base/readyz" >/dev/null && return 0; sleep 0.1; done
  echo "the server on $base never became ready" >&2
  return 1
}
