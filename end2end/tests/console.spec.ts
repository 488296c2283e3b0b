import { readFileSync } from "node:fs";
import { resolve } from "node:path";

import { expect, type Page, test } from "@playwright/test";
import { codeFor, messagesTo } from "./helpers";

// Every page, signed out, at the code step and signed in, in English and Hindi, at phone and
// laptop widths: the app must hydrate without one console error or uncaught page error. CI runs
// this against the release configuration too (what users get), where a hydration mismatch shows
// only there. The pages are the routes src/app.rs declares, read from it, so a new page is
// checked without being listed here; those that send a signed-out visitor away are visited
// again signed in.

const languages = ["en", "hi"] as const;
const widths = [375, 1280] as const;

const notFound = "/no-such-page";

/** The paths of every `<Route>` in src/app.rs, e.g. `(StaticSegment("account"),
 *  StaticSegment("apps"))` is `/account/apps`. */
function appRoutes(): string[] {
  const source = readFileSync(resolve(test.info().project.testDir, "../../src/app.rs"), "utf8");
  const paths = [...source.matchAll(/path=\(?((?:StaticSegment\("[^"]*"\),?\s*)+)\)?/g)].map(
    (route) =>
      "/" +
      [...route[1].matchAll(/StaticSegment\("([^"]*)"\)/g)]
        .map((segment) => segment[1])
        .filter(Boolean)
        .join("/"),
  );
  return [...new Set(paths)];
}

function recordErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (msg) => {
    // The not-found page's own 404 status is the one error that belongs there.
    const notFoundPage = msg.location().url.endsWith(notFound) && msg.text().includes("status of 404");
    if (msg.type() === "error" && !notFoundPage) errors.push(`console: ${msg.text()}`);
  });
  page.on("pageerror", (error) => errors.push(`pageerror: ${error.message}`));
  return errors;
}

/** Loads `path` and waits until its islands have hydrated, or an error was recorded. */
async function visit(page: Page, path: string, errors: string[]) {
  await page.goto(path);
  await expect
    .poll(async () => errors.length > 0 || (await page.locator("body[data-hydrated]").count()) === 1, {
      message: `${path} hydrates`,
    })
    .toBe(true);
}

/** Visits every path in every variant; returns the paths that sent the visitor elsewhere. */
async function everyVariant(page: Page, paths: string[], errors: string[]): Promise<string[]> {
  const movedAway = new Set<string>();
  for (const language of languages) {
    await page.goto(`/lang/${language}?next=/login`);
    for (const width of widths) {
      await page.setViewportSize({ width, height: 800 });
      for (const path of paths) {
        const before = errors.length;
        await visit(page, path, errors);
        if (new URL(page.url()).pathname !== path.split("?")[0]) movedAway.add(path);
        // Name where each error happened.
        for (let i = before; i < errors.length; i++) errors[i] = `${language} ${width}px ${path}: ${errors[i]}`;
      }
    }
  }
  return [...movedAway];
}

test("every page hydrates without a console error or page error", async ({ page, request }) => {
  test.setTimeout(600_000);
  const errors = recordErrors(page);
  const routes = appRoutes();
  expect(routes, "routes read from src/app.rs").toContain("/account/security");
  // A route's page with an address from a message, as it is opened.
  const signedOut = [...routes, "/phone/cancel?t=00", notFound];
  const signedIn = await everyVariant(page, signedOut, errors);
  expect(errors, "signed out").toEqual([]);
  expect(signedIn, "pages that need a session").toContain("/");

  const e164 = "+919812300042";
  await page.goto("/lang/en?next=/register");
  await page.getByLabel("Username").fill("console_check");
  await page.getByLabel("Full name").fill("कंसोल जाँच");
  await page.getByLabel("Phone number").fill("98123 00042");
  await page.getByLabel("Email").fill("console@example.in");
  await page.getByLabel("Password").fill("console-check-password-1");
  const before = await messagesTo(request, e164);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/verify$/);
  await everyVariant(page, ["/verify"], errors);
  expect(errors, "the code step").toEqual([]);

  await page.goto("/lang/en?next=/verify");
  await visit(page, "/verify", errors);
  await page.getByLabel("Code").fill(await codeFor(request, e164, before));
  await expect(page).toHaveURL(/\/$/);
  await everyVariant(page, signedIn, errors);

  expect(errors).toEqual([]);
});
