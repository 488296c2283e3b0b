import { expect, test } from "@playwright/test";

import {
  appCode,
  base32,
  codeFor,
  enterCode,
  expectSignedIn,
  hydrated,
  messagesTo,
  type Person,
  signOut,
  signUp,
} from "./helpers";

// An authenticator app set up from the QR page's key, then signing in with it and with a
// recovery code. The codes are computed here from RFC 6238, not by the app's own module.

const anu: Person = {
  username: "anu_menon",
  fullName: "अनु मेनन",
  phone: "99999 24680",
  e164: "+919999924680",
  email: "anu@example.in",
  password: "anu-password-5",
};

/** Waits for the next 30-second step, so a code is not the one used a moment ago. */
async function nextStep(page: import("@playwright/test").Page) {
  await page.waitForTimeout(30_000 - (Date.now() % 30_000) + 300);
}

test("an authenticator app set up from its QR page signs in without SMS, and a recovery code works once", async ({
  page,
  request,
}) => {
  test.setTimeout(150_000);
  await signUp(page, request, anu);
  await page.getByRole("link", { name: "Sign-in security" }).click();
  await expect(page).toHaveURL(/\/account\/security$/);
  await hydrated(page);
  await page.getByRole("button", { name: "Set up an authenticator app" }).click();
  await expect(page.getByTestId("app-qr").locator("svg")).toBeVisible();
  const key = base32((await page.getByTestId("app-key").textContent()) ?? "");
  expect(key.length).toBe(20);
  await page.getByLabel("Code from the app").fill(appCode(key, Date.now()));
  await page.getByRole("button", { name: "Turn on" }).click();
  await expect(page.getByTestId("app-on")).toBeVisible();
  const codes = page.getByTestId("recovery-codes").locator("li");
  await expect(codes).toHaveCount(10);
  const recovery = (await codes.first().textContent()) ?? "";
  await page.getByRole("button", { name: "I have saved them" }).click();
  await expect(page.getByTestId("recovery-codes")).toHaveCount(0);
  await expect(page.getByTestId("recovery-left")).toContainText("10 unused");

  // The password, then the app: no SMS leaves.
  await page.goto("/");
  await signOut(page);
  const sent = await messagesTo(request, anu.e164);
  await hydrated(page);
  await page.getByLabel("Username").fill(anu.username);
  await page.getByLabel("Password").fill(anu.password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page).toHaveURL(/\/verify$/);
  await expect(page.getByText("Enter the 6-digit code your authenticator app shows.")).toBeVisible();
  await nextStep(page);
  await hydrated(page);
  await page.getByLabel("Code from the app").fill(appCode(key, Date.now()));
  await expectSignedIn(page, anu);
  expect(await messagesTo(request, anu.e164)).toBe(sent);
  await page.goto("/account/sessions");
  await expect(page.getByTestId("session-methods").first()).toHaveText("Signed in with password + authenticator app");

  // A recovery code, typed however; it tells how many are left.
  await page.goto("/");
  await signOut(page);
  await hydrated(page);
  await page.getByLabel("Username").fill(anu.username);
  await page.getByLabel("Password").fill(anu.password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.getByRole("link", { name: "Use a recovery code" }).click();
  await hydrated(page);
  await page.getByLabel("Recovery code").fill(recovery.toUpperCase());
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page.getByTestId("recovery-left-notice")).toContainText("9 are left");

  // SMS stays: asked for on the code step, it works as before.
  await signOut(page);
  await hydrated(page);
  await page.getByLabel("Username").fill(anu.username);
  await page.getByLabel("Password").fill(anu.password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.getByRole("link", { name: "Get a code by SMS instead" }).click();
  const before = await messagesTo(request, anu.e164);
  await page.getByRole("button", { name: "Text me a code" }).click();
  await expect(page.getByTestId("masked-phone")).toBeVisible();
  // The first SMS of this sign-in: no "new code" note, as there was no earlier one.
  await expect(page.getByText("A new code is on its way")).toHaveCount(0);
  await enterCode(page, await codeFor(request, anu.e164, before));
  await expectSignedIn(page, anu);
});
