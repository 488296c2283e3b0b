import { createServer, type Server } from "node:http";

import { expect, test } from "@playwright/test";
import * as oidc from "openid-client";

import { codeFor, enterCode, hydrated, messagesTo, type Person, signUp } from "./helpers";

// A relying party made with openid-client (an OpenID-certified library, not our code): it
// discovers us, sends the browser to /oauth2/authorize with PKCE, state and nonce, and on the
// way back trades the code, checks the ID token's signature and claims, and shows the phone.
// It refreshes its tokens, and signs its user out of us too (RP-initiated logout).

const kiran: Person = {
  username: "kiran_menon",
  fullName: "किरण मेनन",
  phone: "94123 67890",
  e164: "+919412367890",
  email: "kiran.menon@example.in",
  password: "kiran-password-4",
};

const RP = "http://127.0.0.1:3108";

function startRelyingParty(issuer: string): Promise<Server> {
  const waiting = new Map<string, { verifier: string; nonce: string }>();
  let config: oidc.Configuration | undefined;
  let last: oidc.TokenEndpointResponse | undefined;
  const page = (body: string) =>
    `<!DOCTYPE html><title>Clinic</title>${body}`;
  const server = createServer(async (req, res) => {
    try {
      config ??= await oidc.discovery(
        new URL(issuer),
        "e2e-clinic",
        "e2e-clinic-secret-0123456789abcdef",
        undefined,
        { execute: [oidc.allowInsecureRequests] },
      );
      const url = new URL(req.url ?? "/", RP);
      if (url.pathname === "/login") {
        const verifier = oidc.randomPKCECodeVerifier();
        const state = oidc.randomState();
        const nonce = oidc.randomNonce();
        waiting.set(state, { verifier, nonce });
        const to = oidc.buildAuthorizationUrl(config, {
          redirect_uri: `${RP}/callback`,
          scope: "openid profile phone",
          code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
          code_challenge_method: "S256",
          state,
          nonce,
        });
        res.writeHead(302, { Location: to.href }).end();
        return;
      }
      if (url.pathname === "/refresh") {
        last = await oidc.refreshTokenGrant(config, last?.refresh_token ?? "");
        const info = await oidc.fetchUserInfo(config, last.access_token, oidc.skipSubjectCheck);
        res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" })
          .end(page(`<p id="refreshed">${info.phone_number}</p>`));
        return;
      }
      if (url.pathname === "/logout") {
        const to = oidc.buildEndSessionUrl(config, {
          id_token_hint: last?.id_token ?? "",
          post_logout_redirect_uri: `${RP}/bye`,
          state: "bye-state",
        });
        res.writeHead(302, { Location: to.href }).end();
        return;
      }
      if (url.pathname === "/bye") {
        res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" })
          .end(page(`<p id="bye">${url.searchParams.get("state")}</p>`));
        return;
      }
      const state = url.searchParams.get("state") ?? "";
      const pending = waiting.get(state);
      if (!pending) throw new Error(`no login waits for state ${state}: ${url.search}`);
      const tokens = await oidc.authorizationCodeGrant(config, url, {
        pkceCodeVerifier: pending.verifier,
        expectedState: state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
      last = tokens;
      const claims = tokens.claims()!;
      const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
      res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" }).end(
        page(
          `<p id="phone">${claims.phone_number}</p>` +
            `<p id="verified">${claims.phone_number_verified}</p><p id="name">${info.name}</p>` +
            `<p id="amr">${(claims.amr as string[]).join(" ")}</p>`,
        ),
      );
    } catch (error) {
      // openid-client's ResponseBodyError carries the OAuth error code apart from its message.
      const code = (error as { error?: string }).error ?? "";
      res.writeHead(500, { "Content-Type": "text/plain" }).end(`${error} ${code}`);
    }
  });
  return new Promise((resolve) => server.listen(3108, "127.0.0.1", () => resolve(server)));
}

test("an app signs its user in through us with openid-client and shows the verified phone", async ({
  page,
  request,
  baseURL,
}) => {
  const rp = await startRelyingParty(String(baseURL));
  try {
    await signUp(page, request, kiran);
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/login$/);

    // The app sends the browser to us; we ask for the password, then the code to the phone.
    await page.goto(`${RP}/login`);
    await expect(page).toHaveURL(/\/login\?next=%2Foauth2%2Fcontinue%2F/);
    await hydrated(page);
    await page.getByLabel("Username").fill(kiran.username);
    await page.getByLabel("Password").fill(kiran.password);
    const before = await messagesTo(request, kiran.e164);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await expect(page).toHaveURL(/\/verify$/);
    await enterCode(page, await codeFor(request, kiran.e164, before));

    // A third-party app: the user sees what it will learn, and agrees.
    await expect(page.getByRole("heading", { name: "Clinic wants to sign you in" })).toBeVisible();
    await expect(page.getByTestId("consent-scopes")).toContainText("your verified phone number");
    await page.getByRole("button", { name: "Continue" }).click();

    await expect(page).toHaveURL(new RegExp(`^${RP}/callback`));
    await expect(page.locator("#phone")).toHaveText(kiran.e164);
    await expect(page.locator("#verified")).toHaveText("true");
    await expect(page.locator("#name")).toHaveText(kiran.fullName);
    await expect(page.locator("#amr")).toHaveText("pwd sms mfa");

    // Signed in already, and consent remembered: the app gets its answer at once.
    await page.goto(`${RP}/login`);
    await expect(page).toHaveURL(new RegExp(`^${RP}/callback`));
    await expect(page.locator("#phone")).toHaveText(kiran.e164);

    // The app refreshes its tokens (the library checks the new ID token too).
    await page.goto(`${RP}/refresh`);
    await expect(page.locator("#refreshed")).toHaveText(kiran.e164);

    // The user cuts the app off on "Connected apps": its refresh token stops working at once.
    await page.goto("/");
    await page.getByRole("link", { name: "Connected apps" }).click();
    await expect(page).toHaveURL(/\/account\/apps$/);
    await hydrated(page);
    await expect(page.getByTestId("connected-apps")).toContainText("Clinic");
    await expect(page.getByTestId("connected-apps")).toContainText("your verified phone number");
    await page.getByRole("button", { name: "Disconnect Clinic" }).click();
    await expect(page.getByTestId("no-apps")).toBeVisible();
    const refused = await page.goto(`${RP}/refresh`);
    expect(refused?.status()).toBe(500);
    await expect(page.locator("body")).toContainText("invalid_grant");

    // Next time the app must ask again; then signing out of the app signs the user out here.
    await page.goto(`${RP}/login`);
    await expect(page.getByRole("heading", { name: "Clinic wants to sign you in" })).toBeVisible();
    await hydrated(page);
    await page.getByRole("button", { name: "Continue" }).click();
    await expect(page.locator("#phone")).toHaveText(kiran.e164);
    await page.goto(`${RP}/logout`);
    await expect(page).toHaveURL(`${RP}/bye?state=bye-state`);
    await expect(page.locator("#bye")).toHaveText("bye-state");
    await page.goto("/");
    await expect(page).toHaveURL(/\/login$/);
  } finally {
    rp.close();
  }
});
