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

/** Ready for typing: hydrated, or a plain-HTML page (/login) that loads no app script. */
export async function hydrated(page: Page) {
  if ((await page.locator('script[type="module"]').count()) === 0) return;
  await expect(page.locator("body[data-hydrated]")).toHaveCount(1);
}
