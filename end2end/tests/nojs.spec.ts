import { expect, test } from "@playwright/test";

import { appCode, base32, codeFor, messagesTo } from "./helpers";

// Every form is a real HTML form that the server answers: the whole flow works without script.
test.use({ javaScriptEnabled: false });

const amit = {
  username: "amit_kumar",
  fullName: "अमित कुमार",
  phone: "+917654321098",
  e164: "+917654321098",
  email: "amit@example.in",
  password: "amit-password-3",
};


test("register, verify, sign out and sign in with JavaScript disabled", async ({ page, request }) => {
  await page.goto("/register");
  await page.getByLabel("Username").fill(amit.username);
  await page.getByLabel("Full name").fill(amit.fullName);
  await page.getByLabel("Phone number").fill(amit.phone);
  await page.getByLabel("Email").fill(amit.email);
  await page.getByLabel("Password").fill(amit.password);
  const before = await messagesTo(request, amit.e164);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/verify$/);
  await expect(page.getByRole("heading", { name: "Verify your phone" })).toBeVisible();
  await page.getByLabel("Code").fill(await codeFor(request, amit.e164, before));
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole("heading", { name: `Welcome, ${amit.fullName}` })).toBeVisible();

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login$/);

  await page.getByLabel("Username").fill(amit.username);
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByRole("alert")).toHaveText(
    "That username and password do not match. Please try again.",
  );

  await page.getByLabel("Username").fill(amit.username);
  await page.getByLabel("Password").fill(amit.password);
  const beforeLogin = await messagesTo(request, amit.e164);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page).toHaveURL(/\/verify$/);
  const code = await codeFor(request, amit.e164, beforeLogin);
  const wrong = code === "000000" ? "111111" : "000000";
  await page.getByLabel("Code").fill(wrong);
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page.getByRole("alert")).toHaveText("That code is not right. 4 tries left.");
  await page.getByLabel("Code").fill(code);
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole("heading", { name: `Welcome, ${amit.fullName}` })).toBeVisible();
});

test("the authenticator app is set up and its recovery codes saved with JavaScript disabled", async ({ page }) => {
  // Amit registered in the test above (tests here run in order, each in a fresh browser).
  await page.goto("/login");
  await page.getByLabel("Username").fill(amit.username);
  await page.getByLabel("Password").fill(amit.password);
  const before = await messagesTo(page.request, amit.e164);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page).toHaveURL(/\/verify$/);
  const code = await codeFor(page.request, amit.e164, before);
  await page.getByLabel("Code").fill(code);
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page).toHaveURL(/\/$/);

  await page.goto("/account/security");
  await page.getByRole("button", { name: "Set up an authenticator app" }).click();
  await expect(page).toHaveURL(/\/account\/security$/);
  await expect(page.getByTestId("app-qr").locator("svg")).toBeVisible();
  const key = base32((await page.getByTestId("app-key").textContent()) ?? "");
  await page.getByLabel("Code from the app").fill(appCode(key, Date.now()));
  await page.getByRole("button", { name: "Turn on" }).click();
  await expect(page.getByTestId("app-on")).toBeVisible();
  await expect(page.getByTestId("recovery-codes").locator("li")).toHaveCount(10);
  await page.getByRole("button", { name: "I have saved them" }).click();
  await expect(page.getByTestId("recovery-left")).toContainText("10 unused");
});
