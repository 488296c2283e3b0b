# Installs what a fresh machine lacks; each step only when missing. Sourced by run.sh and test.sh.
# Versions and flags are the ones measured on this project's machines (see docs/toolchain.md).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$HOME/.cargo/bin:$PATH"
CARGO_LEPTOS_VERSION=0.3.11

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

need_rust_tools() {
  # Passkeys (webauthn-rs) build against the system OpenSSL.
  if ! pkg-config --exists openssl 2>/dev/null; then
    say "Installing OpenSSL headers and pkg-config (passkeys build against them)"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libssl-dev pkg-config
  fi
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "Adding the wasm32 target"
    rustup target add wasm32-unknown-unknown
  fi
  if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
    say "Installing cargo-leptos $CARGO_LEPTOS_VERSION (about 13 minutes on 2 cores)"
    # --ignore-rust-version: its lockfile pins a crate that asks for a newer rustc than needed.
    # no_downloads: use tools from PATH instead of fetching binaries at build time.
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
    || [ ! -d "$ROOT/end2end/node_modules/@axe-core/playwright" ]; then
    say "Installing Playwright and axe-core (the test runner only; it uses Debian's Chromium)"
    (cd "$ROOT/end2end" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
  fi
}

need_wasm_opt() {
  # Release builds only. Debian's binaryen (wasm-opt 108) silently breaks release WASM.
  if ! wasm-opt --version 2>/dev/null | grep -q "version 116"; then
    say "Installing wasm-opt 0.116.1 from crates.io (about 7 minutes)"
    cargo install --locked wasm-opt --version 0.116.1
  fi
}
