import { expect, test } from "@playwright/test";

import { codeFor, enterCode, expectSignedIn, hydrated, messagesTo, type Person, signIn, signOut, signUp } from "./helpers";

const raj: Person = {
  username: "raj_sharma",
  fullName: "राज शर्मा",
  phone: "98765 43210",
  e164: "+919876543210",
  email: "raj@example.in",
  password: "raj-password-1",
};

/** Raj's password once the change-password test has run (tests here run in file order). */
const rajsNewPassword = "raj-changed-password-2";

const priya: Person = {
  username: "priya_patel",
  fullName: "प्रिया पटेल",
  phone: "+91 87654 32109",
  e164: "+918765432109",
  email: "priya@example.in",
  password: "priya-password-2",
};

for (const person of [raj, priya]) {
  test(`${person.username}: register, verify, sign out, sign in with a code to their own phone`, async ({
    page,
    request,
  }) => {
    await page.goto("/register");
    await hydrated(page);
    await page.getByLabel("Username").fill(person.username);
    await page.getByLabel("Full name").fill(person.fullName);
    await page.getByLabel("Phone number").fill(person.phone);
    await page.getByLabel("Email").fill(person.email);
    await page.getByLabel("Password").fill(person.password);
    const before = await messagesTo(request, person.e164);
    await page.getByRole("button", { name: "Create account" }).click();

    await expect(page).toHaveURL(/\/verify$/);
    await expect(page.getByRole("heading", { name: "Verify your phone" })).toBeVisible();
    await expect(page.getByTestId("masked-phone")).toHaveText(`+91 ******${person.e164.slice(-4)}`);
    const codeInput = page.getByLabel("Code");
    await expect(codeInput).toHaveAttribute("autocomplete", "one-time-code");
    await expect(codeInput).toHaveAttribute("inputmode", "numeric");
    await enterCode(page, await codeFor(request, person.e164, before));
    await expectSignedIn(page, person);

    await signOut(page);
    await page.goto("/");
    await expect(page).toHaveURL(/\/login$/);

    await hydrated(page);
    await page.getByLabel("Username").fill(person.username);
    await page.getByLabel("Password").fill(person.password);
    const beforeLogin = await messagesTo(request, person.e164);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await expect(page).toHaveURL(/\/verify$/);
    await expect(page.getByRole("heading", { name: "Enter your code" })).toBeVisible();
    await enterCode(page, await codeFor(request, person.e164, beforeLogin));
    await expectSignedIn(page, person);
    await signOut(page);
  });
}

test("a wrong code and a wrong password show clear errors", async ({ page, request }) => {
  await page.goto("/login");
  await hydrated(page);
  await page.getByLabel("Username").fill("raj_sharma");
  await page.getByLabel("Password").fill("not-the-password");
  const before = await messagesTo(request, raj.e164);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByRole("alert")).toHaveText(
    "That username and password do not match. Please try again.",
  );
  expect(await messagesTo(request, raj.e164)).toBe(before);

  await page.getByLabel("Password").fill(raj.password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page).toHaveURL(/\/verify$/);
  await hydrated(page);
  const first = await codeFor(request, raj.e164, before);
  await expect(page.getByTestId("expires")).toHaveText(/^The code expires in [45]:\d\d\.$/);
  // The island counts both waits down in the browser; the resend button waits for its turn.
  const expires = await page.getByTestId("expires").textContent();
  const resendIn = await page.locator("#resend-in").textContent();
  expect(resendIn).toMatch(/^You can ask for a new code in \d+ s\.$/);
  await expect(page.getByTestId("expires")).not.toHaveText(expires ?? "");
  await expect(page.locator("#resend-in")).not.toHaveText(resendIn ?? "");
  const resend = page.getByRole("button", { name: "Resend code" });
  await expect(resend).toBeDisabled();
  // The wait is 5 s in these tests: then the island lets the button go, and a resend comes back
  // with its note and a new code.
  await expect(resend).toBeEnabled();
  await expect(page.locator("#resend-in")).toBeHidden();
  await resend.click();
  await expect(page.locator(".resend [role=status]")).toContainText("A new code is on its way");
  const code = await codeFor(request, raj.e164, before + 1);
  expect(code).not.toBe(first);
  await expect(page.getByRole("link", { name: "Start again" })).toHaveAttribute("href", "/login");
  const wrong = [code, first].includes("000000") ? ([code, first].includes("111111") ? "222222" : "111111") : "000000";
  await enterCode(page, wrong);
  await expect(page.getByRole("alert")).toHaveText("That code is not right. 4 tries left.");
  await expect(page.getByLabel("Code")).toHaveAttribute("aria-invalid", "true");
  // Pasted as the SMS shows it, with a space: still six digits, sent by itself.
  await enterCode(page, `${code.slice(0, 3)} ${code.slice(3)}`);
  await expectSignedIn(page, raj);
});

test("registration errors sit next to their fields", async ({ page }) => {
  await page.goto("/register");
  await hydrated(page);
  await page.getByLabel("Username").fill("Raj Sharma");
  await page.getByLabel("Full name").fill("राज");
  await page.getByLabel("Phone number").fill("12345");
  await page.getByLabel("Email").fill("raj@example.in");
  await page.getByLabel("Password").fill("long-enough-password");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.locator("#field-username-error")).toContainText("Username may use only");
  await expect(page.locator("#field-phone-error")).toHaveText("That is not a valid phone number.");
  await expect(page.getByLabel("Phone number")).toHaveAttribute("aria-describedby", /field-phone-error/);
  // The page came back from the server: what was typed is there again, but not the password.
  await expect(page).toHaveURL(/\/register\?/);
  await expect(page.getByLabel("Username")).toHaveValue("Raj Sharma");
  await expect(page.getByLabel("Full name")).toHaveValue("राज");
  await expect(page.getByLabel("Phone number")).toHaveValue("12345");
  await expect(page.getByLabel("Email")).toHaveValue("raj@example.in");
  await expect(page.getByLabel("Password")).toHaveValue("");
});

test("forgot password: a code to the account's own phone, then the new password works and the old one not", async ({
  page,
  request,
}) => {
  await page.goto("/login");
  await hydrated(page);
  await page.getByRole("link", { name: "Forgot password?" }).click();
  await expect(page).toHaveURL(/\/forgot$/);
  await page.getByLabel("Username").fill(priya.username);
  const before = await messagesTo(request, priya.e164);
  await page.getByRole("button", { name: "Send code" }).click();
  await expect(page).toHaveURL(/\/reset$/);
  await expect(page.getByRole("heading", { name: "Choose a new password" })).toBeVisible();
  const code = await codeFor(request, priya.e164, before);
  await hydrated(page);
  const wrong = code === "000000" ? "111111" : "000000";
  await page.getByLabel("Code").fill(wrong);
  await page.getByLabel("New password").fill("priya-new-password-8");
  await page.getByRole("button", { name: "Set new password" }).click();
  await expect(page.locator("#field-code-error")).toContainText("That code is not right or no longer works.");
  await page.getByLabel("Code").fill(code);
  // A refused form comes back without its secrets.
  await page.getByLabel("New password").fill("priya-new-password-8");
  await page.getByRole("button", { name: "Set new password" }).click();
  await expect(page).toHaveURL(/\/login\?reset=done$/);
  await expect(page.getByRole("status")).toContainText("Your password is changed");

  await hydrated(page);
  await page.getByLabel("Username").fill(priya.username);
  await page.getByLabel("Password").fill(priya.password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByRole("alert")).toHaveText(
    "That username and password do not match. Please try again.",
  );
  await page.getByLabel("Password").fill("priya-new-password-8");
  const beforeLogin = await messagesTo(request, priya.e164);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page).toHaveURL(/\/verify$/);
  await enterCode(page, await codeFor(request, priya.e164, beforeLogin));
  await expectSignedIn(page, priya);
});

test("sessions page: signing out the other devices signs out the other browser", async ({ browser, request }) => {
  const phone = await browser.newContext();
  const laptop = await browser.newContext();
  const onPhone = await phone.newPage();
  const onLaptop = await laptop.newPage();
  for (const page of [onPhone, onLaptop]) {
    await signIn(page, request, raj, raj.password);
  }

  await onPhone.getByRole("link", { name: "Where you are signed in" }).click();
  await expect(onPhone).toHaveURL(/\/account\/sessions$/);
  const list = onPhone.getByTestId("sessions");
  await expect(list.locator("li", { hasText: "(this device)" })).toHaveCount(1);
  await hydrated(onPhone);
  await onPhone.getByRole("button", { name: "Sign out all other devices" }).click();
  await expect(list.locator("li")).toHaveCount(1);

  await onLaptop.reload();
  await expect(onLaptop).toHaveURL(/\/login$/);
  await onPhone.goto("/");
  await expect(onPhone.getByRole("heading", { name: `Welcome, ${raj.fullName}` })).toBeVisible();
  await expect(onPhone.getByTestId("activity").locator("li").first()).toContainText(
    "Other devices signed out",
  );
  await phone.close();
  await laptop.close();
});

test("change password: the current one is checked, then the new one signs in", async ({ page, request }) => {
  await signIn(page, request, raj, raj.password);
  await page.getByRole("link", { name: "Change password" }).click();
  await expect(page).toHaveURL(/\/account\/password$/);
  await hydrated(page);
  await page.getByLabel("Current password").fill("not-my-password");
  await page.getByLabel("New password").fill(rajsNewPassword);
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.locator("#field-current_password-error")).toHaveText("That is not your current password.");
  await page.getByLabel("Current password").fill(raj.password);
  await page.getByLabel("New password").fill(rajsNewPassword);
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByRole("status")).toContainText("Your password is changed.");

  await page.goto("/");
  await signOut(page);
  await signIn(page, request, raj, rajsNewPassword);
});

test("change phone: register, sign in, move to a new number, sign in with its code; the old number is told", async ({
  page,
  request,
}) => {
  const neha: Person = {
    username: "neha_verma",
    fullName: "नेहा वर्मा",
    phone: "99999 54321",
    e164: "+919999954321",
    email: "neha@example.in",
    password: "neha-password-6",
  };
  await signUp(page, request, neha);
  await signOut(page);
  await signIn(page, request, neha, neha.password);

  const moved: Person = { ...neha, phone: "+91 90000 11111", e164: "+919000011111" };
  await page.getByRole("link", { name: "Change phone number" }).click();
  await expect(page).toHaveURL(/\/account\/phone$/);
  await hydrated(page);
  await page.getByLabel("Current password").fill(neha.password);
  await page.getByLabel("New phone number").fill(moved.phone);
  const toOld = await messagesTo(request, neha.e164);
  await page.getByRole("button", { name: "Send code" }).click();
  await expect(page.getByTestId("masked-phone")).toHaveText("+91 ******1111");
  await page.getByLabel("Code sent to the new number").fill(await codeFor(request, moved.e164, 0));
  await page.getByLabel("Code sent to your current number").fill(await codeFor(request, neha.e164, toOld));
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page.getByRole("status")).toContainText("Your phone number is changed.");
  await expect
    .poll(async () => {
      const messages: { recipient: string; body: string }[] = await (await request.get("/dev/outbox.json")).json();
      // Newest first: after the code to the current number, the notice that it was replaced.
      const toNeha = messages.filter((m) => m.recipient === neha.e164);
      return toNeha.length > toOld + 1 ? toNeha[0]?.body : "";
    })
    .toContain("phone number on your account was changed");

  await page.goto("/");
  await signOut(page);
  await signIn(page, request, moved, neha.password);
});

test("lost phone: the new number's code alone starts a 72-hour wait, and the link texted to the current number cancels it without JavaScript", async ({
  page,
  browser,
  request,
}) => {
  const kiran: Person = {
    username: "kiran_rao",
    fullName: "किरण राव",
    phone: "99999 67890",
    e164: "+919999967890",
    email: "kiran@example.in",
    password: "kiran-password-8",
  };
  await signUp(page, request, kiran);

  await page.goto("/account/phone");
  await hydrated(page);
  await page.getByLabel("Current password").fill(kiran.password);
  await page.getByLabel("New phone number").fill("90000 33333");
  await page.getByLabel("I no longer have my current phone").check();
  const toOld = await messagesTo(request, kiran.e164);
  await page.getByRole("button", { name: "Send code" }).click();
  await expect(page.getByTestId("masked-phone")).toHaveText("+91 ******3333");
  await expect(page.getByLabel("Code sent to your current number")).toHaveCount(0);
  expect(await messagesTo(request, kiran.e164), "nothing to the lost phone yet").toBe(toOld);
  await page.getByLabel("Code sent to the new number").fill(await codeFor(request, "+919000033333", 0));
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page.getByTestId("phone-waiting")).toContainText("+91 ******3333");
  await expect(page.getByRole("button", { name: "Cancel the change" })).toBeVisible();

  // The current number is told, with a link; whoever holds that phone opens it, no sign-in.
  let link = "";
  await expect
    .poll(async () => {
      const messages: { recipient: string; body: string }[] = await (await request.get("/dev/outbox.json")).json();
      const toKiran = messages.filter((m) => m.recipient === kiran.e164);
      link = toKiran.length > toOld ? (/\/phone\/cancel\?t=[0-9a-f]{32}/.exec(toKiran[0].body)?.[0] ?? "") : "";
      return link;
    })
    .not.toBe("");
  const oldPhone = await browser.newContext({ javaScriptEnabled: false, baseURL: test.info().project.use.baseURL });
  const onOldPhone = await oldPhone.newPage();
  await onOldPhone.goto(link);
  await onOldPhone.getByRole("button", { name: "Cancel the change" }).click();
  await expect(onOldPhone.getByTestId("change-cancelled")).toContainText("The account keeps this phone number");
  await oldPhone.close();

  await page.reload();
  await hydrated(page);
  await expect(page.getByLabel("I no longer have my current phone")).toBeVisible();
  await expect(page.getByTestId("phone-waiting")).toHaveCount(0);
});

test("a number that begins with 91, typed the local way, registers and gets its code", async ({ page, request }) => {
  // libphonenumber reads "91234 56780" as an Indian mobile; read as +91 and 8 digits it is not one.
  const amit: Person = {
    username: "amit_91",
    fullName: "अमित वर्मा",
    phone: "91234 56780",
    e164: "+919123456780",
    email: "amit@example.in",
    password: "amit-password-3",
  };
  await page.goto("/register");
  await hydrated(page);
  await expect(page.getByLabel("Country")).toHaveValue("IN");
  await page.getByLabel("Username").fill(amit.username);
  await page.getByLabel("Full name").fill(amit.fullName);
  await page.getByLabel("Phone number").pressSequentially("9123456780");
  await expect(page.getByLabel("Phone number")).toHaveValue(amit.phone);
  await page.getByLabel("Email").fill(amit.email);
  await page.getByLabel("Password").fill(amit.password);
  const before = await messagesTo(request, amit.e164);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/verify$/);
  await expect(page.getByTestId("masked-phone")).toHaveText("+91 ******6780");
  await enterCode(page, await codeFor(request, amit.e164, before));
  await expectSignedIn(page, amit);
});

test("the phone field offers only the countries we send to and groups the number as it is typed", async ({
  page,
}) => {
  await page.goto("/register");
  await hydrated(page);
  const country = page.getByLabel("Country");
  await expect(country).toHaveValue("IN");
  await expect(country.locator("option")).toHaveText(["IN +91"]);
  await expect(page.locator("#field-phone-hint")).toHaveText(/^Mobile number, e\.g\. \d{5} \d{5}$/);
  const phone = page.getByLabel("Phone number");
  await phone.pressSequentially("9876543210");
  await expect(phone).toHaveValue("98765 43210");
  // A number typed in international form is left as typed.
  await phone.fill("");
  await phone.pressSequentially("+919876543210");
  await expect(phone).toHaveValue("+919876543210");
});

test("/login loads the islands, not the whole app, and a refused sign-in comes back with its error", async ({ page }) => {
  // Every page loads the one small islands bundle; the forms post as plain HTML forms.
  const code: string[] = [];
  page.on("request", (r) => {
    const path = new URL(r.url()).pathname;
    if (/\.(js|wasm)$/.test(path)) code.push(path);
  });
  await page.goto("/login");
  await hydrated(page);
  expect(code.filter((p) => p.endsWith(".wasm"))).toHaveLength(1);
  await page.getByLabel("Username").fill("raj_sharma");
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByRole("alert")).toHaveText("That username and password do not match. Please try again.");
  await expect(page).toHaveURL(/\/login/);
  // The page came back from the server with the username still in its field.
  await expect(page.getByLabel("Username")).toHaveValue("raj_sharma");
});

test("keyboard only: Tab reaches every control in order, Enter signs in, the code and sign-out need no mouse", async ({
  page,
  request,
}) => {
  const focused = () => page.evaluate(() => document.activeElement?.getAttribute("id") ?? document.activeElement?.textContent?.trim());
  const tabTo = async (target: string) => {
    for (let i = 0; i < 30 && (await focused()) !== target; i++) await page.keyboard.press("Tab");
    expect(await focused()).toBe(target);
  };
  await page.goto("/login");
  const order: (string | undefined)[] = [];
  for (let i = 0; i < 5; i++) {
    await page.keyboard.press("Tab");
    order.push(await focused());
  }
  expect(order).toEqual(["Dynamic OTP", "हिन्दी", "field-username", "field-password", "Sign in"]);
  await page.keyboard.press("Shift+Tab");
  await page.keyboard.press("Shift+Tab");
  await page.keyboard.type(raj.username);
  await page.keyboard.press("Tab");
  await page.keyboard.type(rajsNewPassword);
  const before = await messagesTo(request, raj.e164);
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/verify$/);
  await hydrated(page);
  const code = await codeFor(request, raj.e164, before);
  // The code field has focus-visible styling and takes the digits from the keyboard.
  await tabTo("field-code");
  await page.keyboard.type(code);
  await expectSignedIn(page, raj);
  await tabTo("Sign out");
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/login$/);
});
