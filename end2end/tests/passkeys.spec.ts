import { expect, test } from "@playwright/test";

import { expectSignedIn, hydrated, type Person, signOut, signUp } from "./helpers";

// Passkeys in Chromium with a virtual authenticator (the DevTools WebAuthn domain). WebAuthn
// refuses an IP address as the relying party, so these pages are opened at localhost.

const kavya: Person = {
  username: "kavya_nair",
  fullName: "काव्या नायर",
  phone: "96321 13579",
  e164: "+919632113579",
  email: "kavya@example.in",
  password: "kavya-password-9",
};

async function withAuthenticator(browser: import("@playwright/test").Browser) {
  const baseURL = String(test.info().project.use.baseURL).replace("127.0.0.1", "localhost");
  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { context, page };
}

test("a passkey is added, signs in with no username, password or SMS, and is removed; a browser without it cannot", async ({
  browser,
  request,
}) => {
  const { context, page } = await withAuthenticator(browser);
  await signUp(page, request, kavya);
  await page.goto("/account/security");
  await hydrated(page);
  await expect(page.getByText("No passkeys yet.")).toBeVisible();
  await page.getByLabel("Name for a new passkey").fill("Kavya's laptop");
  await page.getByRole("button", { name: "Add a passkey" }).click();
  await expect(page.getByTestId("passkey")).toContainText("Kavya's laptop");
  await expect(page.getByTestId("recovery-codes").locator("li")).toHaveCount(10);

  await page.goto("/");
  await signOut(page);
  await page.getByRole("button", { name: "Sign in with a passkey" }).click();
  await expectSignedIn(page, kavya);
  await page.goto("/account/sessions");
  await expect(page.getByTestId("session-methods").first()).toHaveText("Signed in with passkey");

  // Another browser, whose authenticator holds no passkey of ours, gets nowhere.
  const other = await withAuthenticator(browser);
  await other.page.goto("/login");
  await other.page.getByRole("button", { name: "Sign in with a passkey" }).click();
  await expect(other.page.locator("#passkey-status")).toContainText("That did not work");
  await expect(other.page).toHaveURL(/\/login$/);
  await other.context.close();

  await page.goto("/account/security");
  await hydrated(page);
  await page.getByRole("button", { name: "Remove" }).click();
  await expect(page.getByTestId("passkey")).toHaveCount(0);
  await context.close();
});

const arjun: Person = {
  username: "arjun_pillai",
  fullName: "अर्जुन पिल्लै",
  phone: "93456 70912",
  e164: "+919345670912",
  email: "arjun@example.in",
  password: "arjun-password-7",
};

test("after the password a passkey answers the sign-in step, and once used it is offered first", async ({
  browser,
  request,
}) => {
  const { context, page } = await withAuthenticator(browser);
  await signUp(page, request, arjun);
  await page.goto("/account/security");
  await hydrated(page);
  await page.getByLabel("Name for a new passkey").fill("Arjun's phone");
  await page.getByRole("button", { name: "Add a passkey" }).click();
  await expect(page.getByTestId("passkey")).toContainText("Arjun's phone");
  await page.goto("/");
  await signOut(page);

  // SMS was the last factor used, so the code goes at once; the passkey is one link away.
  await page.getByLabel("Username").fill(arjun.username);
  await page.getByLabel("Password").fill(arjun.password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page).toHaveURL(/\/verify$/);
  await page.getByRole("link", { name: "Use a passkey" }).click();
  await hydrated(page);
  await page.getByRole("button", { name: "Use a passkey" }).click();
  await expectSignedIn(page, arjun);
  await page.goto("/account/sessions");
  await expect(page.getByTestId("session-methods").first()).toHaveText("Signed in with password + passkey");

  // Next time the passkey comes first, and no SMS leaves unless asked for.
  await page.goto("/");
  await signOut(page);
  await page.getByLabel("Username").fill(arjun.username);
  await page.getByLabel("Password").fill(arjun.password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page).toHaveURL(/\/verify$/);
  await hydrated(page);
  await page.getByRole("button", { name: "Use a passkey" }).click();
  await expectSignedIn(page, arjun);
  await context.close();
});
