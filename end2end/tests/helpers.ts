import { createHmac } from "node:crypto";

import { expect, type APIRequestContext, type Page } from "@playwright/test";

// What several specs need: reading the dev outbox (the console SMS provider) and waiting until
// a page is ready for typing.

type Sms = { recipient: string; body: string };

async function outboxTo(request: APIRequestContext, e164: string): Promise<Sms[]> {
  const messages: Sms[] = await (await request.get("/dev/outbox.json")).json();
  return messages.filter((m) => m.recipient === e164);
}

/** How many SMS went to `e164` so far. */
export async function messagesTo(request: APIRequestContext, e164: string): Promise<number> {
  return (await outboxTo(request, e164)).length;
}

/** The newest SMS to `e164` after `seen` earlier ones: its code (from the WebOTP line, the same
 *  in every language) and its text. */
export async function smsTo(request: APIRequestContext, e164: string, seen: number) {
  let found = { code: "", body: "" };
  await expect
    .poll(async () => {
      const mine = await outboxTo(request, e164);
      if (mine.length <= seen) return "";
      found = { code: /#(\d{6})/.exec(mine[0].body)?.[1] ?? "", body: mine[0].body };
      return found.code;
    })
    .not.toBe("");
  return found;
}

/** The newest code sent to `e164` after `seen` earlier SMS. */
export async function codeFor(request: APIRequestContext, e164: string, seen: number): Promise<string> {
  return (await smsTo(request, e164, seen)).code;
}

/** Ready for typing: the page's islands have hydrated. */
export async function hydrated(page: Page) {
  await expect(page.locator("body[data-hydrated]")).toHaveCount(1);
}

export type Person = {
  username: string;
  fullName: string;
  phone: string; // as typed
  e164: string;
  email: string;
  password: string;
};

/** Types the code; the page sends it by itself once six digits are in (no click). */
export async function enterCode(page: Page, code: string) {
  await hydrated(page);
  await page.getByLabel("Code").fill(code);
}

export async function expectSignedIn(page: Page, p: Person) {
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole("heading", { name: `Welcome, ${p.fullName}` })).toBeVisible();
  await expect(page.getByTestId("username")).toHaveText(p.username);
  const last4 = p.e164.slice(-4);
  await expect(page.getByTestId("phone")).toHaveText(`+91 ******${last4}`);
  const activity = page.getByTestId("activity");
  await expect(page.getByRole("heading", { name: "Recent activity" })).toBeVisible();
  await expect(activity.locator("li").first()).toContainText("Signed in");
}

/** Signs `p` in from /login with `password`, through the code sent to their phone. */
export async function signIn(page: Page, request: APIRequestContext, p: Person, password: string) {
  await page.goto("/login");
  await hydrated(page);
  await page.getByLabel("Username").fill(p.username);
  await page.getByLabel("Password").fill(password);
  const before = await messagesTo(request, p.e164);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page).toHaveURL(/\/verify$/);
  await enterCode(page, await codeFor(request, p.e164, before));
  await expectSignedIn(page, p);
}

/** Registers `p` through the form and verifies the phone: signed in on the home page. */
export async function signUp(page: Page, request: APIRequestContext, p: Person) {
  await page.goto("/register");
  await hydrated(page);
  await page.getByLabel("Username").fill(p.username);
  await page.getByLabel("Full name").fill(p.fullName);
  await page.getByLabel("Phone number").fill(p.phone);
  await page.getByLabel("Email").fill(p.email);
  await page.getByLabel("Password").fill(p.password);
  const before = await messagesTo(request, p.e164);
  await page.getByRole("button", { name: "Create account" }).click();
  await enterCode(page, await codeFor(request, p.e164, before));
  await expectSignedIn(page, p);
}

/** Waits for the sign-in page to be reached, not to be still there: a passkey in the browser
 * may sign in again from it at once (conditional mediation). */
export async function signOut(page: Page) {
  await Promise.all([
    page.waitForURL(/\/login$/, { waitUntil: "commit" }),
    page.getByRole("button", { name: "Sign out" }).click(),
  ]);
}

/** RFC 4648 base32, as the security page shows an app key. */
export function base32(text: string): Buffer {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of text.replace(/\s/g, "")) bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

/** RFC 6238 (SHA-1, 30 s, 6 digits), computed here rather than by the app. */
export function appCode(key: Buffer, ms: number): string {
  const step = Buffer.alloc(8);
  step.writeBigUInt64BE(BigInt(Math.floor(ms / 30_000)));
  const digest = createHmac("sha1", key).update(step).digest();
  const offset = digest[19] & 0xf;
  return ((digest.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).toString().padStart(6, "0");
}

