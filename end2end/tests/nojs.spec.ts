import { expect, type APIRequestContext, test } from "@playwright/test";

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

async function outboxCount(request: APIRequestContext): Promise<number> {
  const res = await request.get("/dev/outbox.json");
  const messages: { recipient: string }[] = await res.json();
  return messages.filter((m) => m.recipient === amit.e164).length;
}

async function newestCode(request: APIRequestContext, seen: number): Promise<string> {
  let code = "";
  await expect
    .poll(async () => {
      const res = await request.get("/dev/outbox.json");
      const messages: { recipient: string; body: string }[] = await res.json();
      const mine = messages.filter((m) => m.recipient === amit.e164);
      if (mine.length <= seen) return "";
      code = /code is (\d{6})/.exec(mine[0].body)?.[1] ?? "";
      return code;
    })
    .not.toBe("");
  return code;
}

test("register, verify, sign out and sign in with JavaScript disabled", async ({ page, request }) => {
  await page.goto("/register");
  await page.getByLabel("Username").fill(amit.username);
  await page.getByLabel("Full name").fill(amit.fullName);
  await page.getByLabel("Phone number").fill(amit.phone);
  await page.getByLabel("Email").fill(amit.email);
  await page.getByLabel("Password").fill(amit.password);
  const before = await outboxCount(request);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/verify$/);
  await expect(page.getByRole("heading", { name: "Verify your phone" })).toBeVisible();
  await page.getByLabel("Code").fill(await newestCode(request, before));
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
  const beforeLogin = await outboxCount(request);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/verify$/);
  const code = await newestCode(request, beforeLogin);
  const wrong = code === "000000" ? "111111" : "000000";
  await page.getByLabel("Code").fill(wrong);
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page.getByRole("alert")).toHaveText("That code is not right. 4 tries left.");
  await page.getByLabel("Code").fill(code);
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole("heading", { name: `Welcome, ${amit.fullName}` })).toBeVisible();
});
