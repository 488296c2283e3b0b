#!/usr/bin/env bash
# Sets up what is missing, builds, and runs Dynamic OTP with the embedded database and console
# SMS. Codes appear in this terminal and at /dev/outbox.
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
need_rust_tools
cd "$ROOT"
say "Building and starting (first build about 7 minutes); the URL is printed when ready"
exec cargo leptos serve
