import { expect, test } from "@playwright/test";

import { codeFor, messagesTo } from "./helpers";

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
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toHaveText(
    "That username and password do not match. Please try again.",
  );

  await page.getByLabel("Username").fill(amit.username);
  await page.getByLabel("Password").fill(amit.password);
  const beforeLogin = await messagesTo(request, amit.e164);
  await page.getByRole("button", { name: "Sign in" }).click();
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
