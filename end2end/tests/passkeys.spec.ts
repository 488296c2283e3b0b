import { expect, test } from "@playwright/test";

import { expectSignedIn, hydrated, messagesTo, type Person, signOut, signUp } from "./helpers";

// Passkeys in Chromium with a virtual authenticator (the DevTools WebAuthn domain). WebAuthn
// refuses an IP address as the relying party, so these pages are opened at localhost. Chromium
// answers the username field's autofill request (conditional mediation) at once from a virtual
// authenticator, where a person would pick the passkey from the field's list: a test that wants
// the page's buttons takes its passkeys out of the authenticator while /login is open.

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
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  // Takes the passkeys out of the authenticator; the function returned puts them back.
  const hidePasskeys = async () => {
    const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
    await cdp.send("WebAuthn.clearCredentials", { authenticatorId });
    return async () => {
      for (const credential of credentials) {
        await cdp.send("WebAuthn.addCredential", { authenticatorId, credential });
      }
    };
  };
  return { context, page, hidePasskeys };
}

test("a passkey is added, signs in with no username, password or SMS, and is removed; a browser without it cannot", async ({
  browser,
  request,
}) => {
  const { context, page, hidePasskeys } = await withAuthenticator(browser);
  await signUp(page, request, kavya);
  await page.goto("/account/security");
  await hydrated(page);
  await expect(page.getByText("No passkeys yet.")).toBeVisible();
  await page.getByLabel("Name for a new passkey").fill("Kavya's laptop");
  await page.getByRole("button", { name: "Add a passkey" }).click();
  await expect(page.getByTestId("passkey")).toContainText("Kavya's laptop");
  await expect(page.getByTestId("recovery-codes").locator("li")).toHaveCount(10);

  // The button, while the field's autofill request waits (the button ends it first).
  const restore = await hidePasskeys();
  await page.goto("/");
  await signOut(page);
  await expect(page.getByLabel("Username")).toHaveAttribute("data-passkey-autofill", "waiting");
  // One finished sign-in, however the autofill's answer and the button's interleave: a second
  // would end the first one's session.
  let finishes = 0;
  page.on("request", (r) => {
    if (r.url().endsWith("/api/passkey_sign_in_finish")) finishes += 1;
  });
  await restore();
  await page.getByRole("button", { name: "Sign in with a passkey" }).click();
  await expectSignedIn(page, kavya);
  await page.goto("/account/sessions");
  await expect(page.getByTestId("session-methods").first()).toHaveText("Signed in with passkey");
  expect(finishes).toBe(1);

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
  const { context, page, hidePasskeys } = await withAuthenticator(browser);
  await signUp(page, request, arjun);
  await page.goto("/account/security");
  await hydrated(page);
  await page.getByLabel("Name for a new passkey").fill("Arjun's phone");
  await page.getByRole("button", { name: "Add a passkey" }).click();
  await expect(page.getByTestId("passkey")).toContainText("Arjun's phone");
  let restore = await hidePasskeys();
  await page.goto("/");
  await signOut(page);

  // SMS was the last factor used, so the code goes at once; the passkey is one link away.
  await page.getByLabel("Username").fill(arjun.username);
  await page.getByLabel("Password").fill(arjun.password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page).toHaveURL(/\/verify$/);
  await restore();
  await page.getByRole("link", { name: "Use a passkey" }).click();
  await hydrated(page);
  await page.getByRole("button", { name: "Use a passkey" }).click();
  await expectSignedIn(page, arjun);
  await page.goto("/account/sessions");
  await expect(page.getByTestId("session-methods").first()).toHaveText("Signed in with password + passkey");

  // Next time the passkey comes first, and no SMS leaves unless asked for.
  restore = await hidePasskeys();
  await page.goto("/");
  await signOut(page);
  await page.getByLabel("Username").fill(arjun.username);
  await page.getByLabel("Password").fill(arjun.password);
  const sent = await messagesTo(request, arjun.e164);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page).toHaveURL(/\/verify$/);
  await hydrated(page);
  await restore();
  await page.getByRole("button", { name: "Use a passkey" }).click();
  await expectSignedIn(page, arjun);
  expect(await messagesTo(request, arjun.e164)).toBe(sent);

  // With the passkey in the authenticator, the username field's autofill alone signs in.
  await signOut(page);
  await expectSignedIn(page, arjun);
  await context.close();
});
