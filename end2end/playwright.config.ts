import { defineConfig } from "@playwright/test";

// The server binary must already be built: `cargo leptos build`; `./scripts/release.sh` for
// E2E_BUILD=release (site in target/site-release); `./scripts/release.sh --check` for
// E2E_BUILD=check (the release configuration under target/check). Playwright starts it with an
// in-memory database and the console SMS provider, whose outbox the tests read codes from.
const build = process.env.E2E_BUILD ?? "debug";
const release = build === "release" || build === "check";
const server = {
  debug: ["./target/debug/dynamic_otp", "target/site"],
  release: ["./target/release/dynamic_otp", "target/site-release"],
  check: ["./target/check/release/dynamic_otp", "target/check/site"],
}[build];
if (!server) throw new Error(`E2E_BUILD is debug, release or check, not ${build}`);
const port = Number(process.env.E2E_PORT ?? 3107);
const baseURL = `http://127.0.0.1:${port}`;

export default defineConfig({
  testDir: "./tests",
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL,
    trace: "off",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    },
  },
  webServer: {
    command: server[0],
    cwd: "..",
    url: `${baseURL}/login`,
    timeout: 120_000,
    reuseExistingServer: false,
    stdout: "pipe",
    env: {
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      LEPTOS_SITE_ROOT: server[1],
      LEPTOS_OUTPUT_NAME: "dynamic_otp",
      // The release build runs as production does; dev mode stays on for the outbox alone.
      LEPTOS_ENV: release ? "PROD" : "DEV",
      DOTP_DATABASE_URL: "mem://",
      DOTP_DEV_MODE: "true",
      DOTP_SMS_PROVIDER: "console",
      DOTP_DATA_DIR: "target/e2e-data",
      DOTP_METRICS_ADDR: "off",
      // The relying party tests/oidc.spec.ts plays.
      DOTP_OIDC_CLIENTS_FILE: "end2end/oidc-clients.toml",
      RUST_LOG: "info",
      // Short, so a test can wait out the first resend wait.
      DOTP_OTP_RESEND_COOLDOWN_SECS: "5",
      // One person signs in many times across the tests; the real limits are tested in Rust.
      DOTP_LIMIT_PHONE_PER_HOUR: "100",
      DOTP_LIMIT_PHONE_PER_DAY: "100",
      // Every browser here is 127.0.0.1; the per-IP limits are tested in Rust too.
      DOTP_LIMIT_IP_SENDS_PER_HOUR: "1000",
      DOTP_LIMIT_IP_SIGNINS_PER_10MIN: "1000",
      DOTP_LIMIT_IP_CODE_CHECKS_PER_10MIN: "1000",
    },
  },
});
