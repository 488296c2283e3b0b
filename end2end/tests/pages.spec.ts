import AxeBuilder from "@axe-core/playwright";
import { expect, type Page, test } from "@playwright/test";

import { codeFor, hydrated } from "./helpers";

// Every page at a phone's width and a laptop's: no axe-core violations, and a screenshot of each
// kept in test-results/ as an artifact.

const you = {
  username: "your_username",
  fullName: "Your Name",
  phone: "87803 78086",
  e164: "+918780378086",
  email: "you@example.in",
  password: "your-password-4",
};

const widths = [375, 1280];

async function check(page: Page, name: string) {
  await hydrated(page);
  for (const width of widths) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: test.info().outputPath(`${name}-${width}.png`), fullPage: true });
    const results = await new AxeBuilder({ page }).analyze();
    expect(results.passes.length, "axe ran its rules").toBeGreaterThan(10);
    const found = results.violations.map(
      (v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`,
    );
    expect(found, `${name} at ${width}px`).toEqual([]);
  }
}

test("every page is accessible at 375 and 1280 px", async ({ page, request }) => {
  // Nineteen pages, two widths, axe on each: on two busy cores this outlasts the default minute.
  test.setTimeout(180_000);
  for (const [path, name] of [
    ["/login", "login"],
    ["/register", "register"],
    ["/forgot", "forgot"],
    ["/reset", "reset"],
    ["/no-such-page", "not-found"],
    ["/phone/cancel?t=00", "phone-cancel"],
  ]) {
    await page.goto(path);
    await check(page, name);
  }

  // Field errors shown, as a user sees them after a mistake.
  await page.goto("/register");
  await hydrated(page);
  await page.getByLabel("Username").fill("Not Valid");
  await page.getByLabel("Full name").fill(you.fullName);
  await page.getByLabel("Phone number").fill("12345");
  await page.getByLabel("Email").fill(you.email);
  await page.getByLabel("Password").fill(you.password);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.locator("#field-phone-error")).toBeVisible();
  await check(page, "register-errors");

  await page.getByLabel("Username").fill(you.username);
  await page.getByLabel("Phone number").fill(you.phone);
  await page.getByLabel("Password").fill(you.password);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/verify$/);
  await check(page, "verify");

  // Six digits send themselves.
  await page.getByLabel("Code").fill(await codeFor(request, you.e164, 0));
  await expect(page).toHaveURL(/\/$/);
  await check(page, "home");
  await page.goto("/account/sessions");
  await check(page, "sessions");
  await page.goto("/account/password");
  await check(page, "password");
  await page.goto("/account/profile");
  await expect(page.getByLabel("Full name")).toHaveValue(you.fullName);
  await check(page, "profile");
  await page.goto("/account/phone");
  await check(page, "phone");
  await page.getByLabel("Current password").fill(you.password);
  await page.getByLabel("New phone number").fill("90000 22222");
  await page.getByRole("button", { name: "Send code" }).click();
  await expect(page.getByTestId("masked-phone")).toBeVisible();
  await check(page, "phone-code");
  await page.goto("/account/apps");
  await expect(page.getByTestId("no-apps")).toBeVisible();
  await check(page, "apps");
  await page.goto("/account/security");
  await check(page, "security");
  await page.getByRole("button", { name: "Set up an authenticator app" }).click();
  await expect(page.getByTestId("app-qr")).toBeVisible();
  await check(page, "security-app");
});

test.describe("in Hindi", () => {
  test.use({ locale: "hi-IN" });

  test("the signed-out pages are accessible in Hindi at 375 and 1280 px", async ({ page }) => {
    for (const [path, name] of [
      ["/login", "hi-login"],
      ["/register", "hi-register"],
      ["/forgot", "hi-forgot"],
      ["/reset", "hi-reset"],
      ["/no-such-page", "hi-not-found"],
      ["/phone/cancel?t=00", "hi-phone-cancel"],
    ]) {
      await page.goto(path);
      await expect(page.locator("html")).toHaveAttribute("lang", "hi");
      await check(page, name);
    }
    await page.goto("/register");
    await hydrated(page);
    await page.getByLabel("यूज़रनेम").fill("Not Valid");
    await page.getByLabel("पूरा नाम").fill("आपका नाम");
    await page.getByLabel("फ़ोन नंबर").fill("12345");
    await page.getByLabel("ईमेल").fill("you@example.in");
    await page.getByLabel("पासवर्ड").fill("your-password-4");
    await page.getByRole("button", { name: "खाता बनाएँ" }).click();
    await expect(page.locator("#field-phone-error")).toHaveText("यह सही फ़ोन नंबर नहीं है।");
    await check(page, "hi-register-errors");
  });
});
