import { expect, test } from "@playwright/test";

import { hydrated, messagesTo, smsTo } from "./helpers";

// A reader whose browser asks for Hindi, and one who picks it with the switcher. Every label,
// heading and error they meet is checked in Devanagari, and so is the SMS they get.

const asha = {
  username: "asha_verma",
  fullName: "आशा वर्मा",
  phone: "98123 45670",
  e164: "+919812345670",
  email: "asha@example.in",
  password: "asha-password-7",
};

const devanagari = /[\u0900-\u097F]/;

test.describe("a browser that asks for Hindi", () => {
  test.use({ locale: "hi-IN" });

  test("the server sends Hindi pages: lang, labels and headings, before any script runs", async ({
    request,
  }) => {
    const res = await request.get("/register", { headers: { "Accept-Language": "hi-IN,hi;q=0.9" } });
    const html = await res.text();
    expect(html).toMatch(/<html[^>]*\blang="hi"/);
    for (const text of ["अपना खाता बनाएँ", "यूज़रनेम", "पूरा नाम", "फ़ोन नंबर", "पासवर्ड", "खाता बनाएँ"]) {
      expect(html).toContain(text);
    }
    expect(html).not.toContain("Create your account");
  });

  test("register, verify, sign out, sign in: every label, error and the SMS in Hindi", async ({
    page,
    request,
  }) => {
    await page.goto("/register");
    await hydrated(page);
    await expect(page.locator("html")).toHaveAttribute("lang", "hi");
    await expect(page.getByRole("heading", { name: "अपना खाता बनाएँ" })).toBeVisible();

    // Wrong input first: each field's error is in Hindi and tied to its field.
    await page.getByLabel("यूज़रनेम").fill("Asha Verma");
    await page.getByLabel("पूरा नाम").fill(asha.fullName);
    await page.getByLabel("फ़ोन नंबर").fill("12345");
    // Passes the browser's own email check, not ours (no dot in the domain).
    await page.getByLabel("ईमेल").fill("asha@example");
    await page.getByLabel("पासवर्ड").fill("short");
    await page.getByRole("button", { name: "खाता बनाएँ" }).click();
    await expect(page.locator("#field-username-error")).toHaveText(
      "यूज़रनेम में केवल a–z अक्षर, 0–9 अंक, _ और . हो सकते हैं।",
    );
    await expect(page.locator("#field-phone-error")).toHaveText("यह सही फ़ोन नंबर नहीं है।");
    await expect(page.locator("#field-email-error")).toHaveText("यह ईमेल पता सही नहीं लगता।");
    await expect(page.locator("#field-password-error")).toHaveText("पासवर्ड कम से कम 8 अक्षरों का होना चाहिए।");
    await expect(page.getByLabel("फ़ोन नंबर")).toHaveAttribute("aria-describedby", /field-phone-error/);

    await page.getByLabel("यूज़रनेम").fill(asha.username);
    await page.getByLabel("फ़ोन नंबर").fill(asha.phone);
    await page.getByLabel("ईमेल").fill(asha.email);
    await page.getByLabel("पासवर्ड").fill(asha.password);
    await page.getByRole("button", { name: "खाता बनाएँ" }).click();
    await expect(page).toHaveURL(/\/verify$/);
    await expect(page.getByRole("heading", { name: "अपने फ़ोन की पुष्टि करें" })).toBeVisible();
    await expect(page.getByTestId("expires")).toHaveText(/^कोड [45]:\d\d में समाप्त हो जाएगा।$/);
    const sms = await smsTo(request, asha.e164, 0);
    expect(sms.body).toMatch(devanagari);
    expect(sms.body).toContain(`आपका फ़ोन पुष्टि कोड ${sms.code} है`);
    expect(sms.body).toContain("किसी को न बताएं");

    await hydrated(page);
    await page.getByLabel("कोड").fill(sms.code);
    await expect(page.getByRole("heading", { name: `स्वागत है, ${asha.fullName}` })).toBeVisible();
    await expect(page.getByRole("heading", { name: "हाल की गतिविधि" })).toBeVisible();
    await expect(page.getByTestId("activity").locator("li").first()).toContainText("साइन इन किया");

    await page.getByRole("button", { name: "साइन आउट करें" }).click();
    await expect(page).toHaveURL(/\/login$/);
    await hydrated(page);
    await page.getByLabel("यूज़रनेम").fill(asha.username);
    await page.getByLabel("पासवर्ड").fill("not-the-password");
    await page.getByRole("button", { name: "साइन इन करें", exact: true }).click();
    await expect(page.getByRole("alert")).toHaveText(
      "यूज़रनेम और पासवर्ड मेल नहीं खाते। कृपया फिर से कोशिश करें।",
    );

    const before = await messagesTo(request, asha.e164);
    await page.getByLabel("पासवर्ड").fill(asha.password);
    await page.getByRole("button", { name: "साइन इन करें", exact: true }).click();
    await expect(page.getByRole("heading", { name: "अपना कोड डालें" })).toBeVisible();
    const signIn = await smsTo(request, asha.e164, before);
    expect(signIn.body).toMatch(devanagari);

    await hydrated(page);
    const wrong = signIn.code === "000000" ? "111111" : "000000";
    await page.getByLabel("कोड").fill(wrong);
    await expect(page.getByRole("alert")).toHaveText("यह कोड सही नहीं है। 4 प्रयास बाकी हैं।");
    await page.getByLabel("कोड").fill(signIn.code);
    await expect(page.getByRole("heading", { name: `स्वागत है, ${asha.fullName}` })).toBeVisible();
    await expect(page.getByTestId("activity").locator("li").first()).toContainText("साइन इन किया");
  });

  test("account pages in Hindi: a wrong current password, the new one, and the devices", async ({
    page,
    request,
  }) => {
    await page.goto("/login");
    await page.getByLabel("यूज़रनेम").fill(asha.username);
    await page.getByLabel("पासवर्ड").fill(asha.password);
    const before = await messagesTo(request, asha.e164);
    await page.getByRole("button", { name: "साइन इन करें", exact: true }).click();
    await expect(page).toHaveURL(/\/verify$/);
    await hydrated(page);
    await page.getByLabel("कोड").fill((await smsTo(request, asha.e164, before)).code);
    await expect(page.getByRole("heading", { name: `स्वागत है, ${asha.fullName}` })).toBeVisible();

    await page.getByRole("link", { name: "आप कहाँ-कहाँ साइन इन हैं" }).click();
    await expect(page.getByRole("heading", { name: "आप कहाँ-कहाँ साइन इन हैं" })).toBeVisible();
    await expect(page.getByTestId("sessions")).toContainText("Linux पर Chrome (यह डिवाइस)");

    await page.goto("/account/password");
    await hydrated(page);
    await expect(page.getByRole("heading", { name: "अपना पासवर्ड बदलें" })).toBeVisible();
    await page.getByLabel("मौजूदा पासवर्ड").fill("not-my-password");
    await page.getByLabel("नया पासवर्ड").fill("asha-new-password-9");
    await page.getByRole("button", { name: "पासवर्ड बदलें" }).click();
    await expect(page.locator("#field-current_password-error")).toHaveText("यह आपका मौजूदा पासवर्ड नहीं है।");
    await page.getByLabel("मौजूदा पासवर्ड").fill(asha.password);
    await page.getByLabel("नया पासवर्ड").fill("asha-new-password-9");
    await page.getByRole("button", { name: "पासवर्ड बदलें" }).click();
    await expect(page.getByRole("status")).toHaveText(
      "आपका पासवर्ड बदल गया है। दूसरे डिवाइस से साइन आउट कर दिया गया है।",
    );
  });

  test("without JavaScript the server's answers are Hindi too", async ({ browser }) => {
    const context = await browser.newContext({ javaScriptEnabled: false, locale: "hi-IN" });
    const page = await context.newPage();
    await page.goto("/login");
    await expect(page.locator("html")).toHaveAttribute("lang", "hi");
    await page.getByLabel("यूज़रनेम").fill("nobody_here");
    await page.getByLabel("पासवर्ड").fill("not-the-password");
    await page.getByRole("button", { name: "साइन इन करें", exact: true }).click();
    await expect(page.getByRole("alert")).toHaveText(
      "यूज़रनेम और पासवर्ड मेल नहीं खाते। कृपया फिर से कोशिश करें।",
    );
    await context.close();
  });
});

test("the switcher changes the language on every page, remembers it, and the SMS follows", async ({
  page,
  request,
}) => {
  const meera = { username: "meera_iyer", phone: "97123 45608", e164: "+919712345608" };
  await page.goto("/login");
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();

  await page.getByRole("link", { name: "हिन्दी" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.locator("html")).toHaveAttribute("lang", "hi");
  await expect(page.getByRole("heading", { name: "साइन इन करें" })).toBeVisible();

  // Remembered: the next page comes in Hindi without asking again.
  await hydrated(page);
  await page.getByRole("link", { name: "खाता बनाएँ" }).click();
  await expect(page).toHaveURL(/\/register$/);
  await expect(page.getByRole("heading", { name: "अपना खाता बनाएँ" })).toBeVisible();
  await page.goto("/forgot");
  await expect(page.getByRole("heading", { name: "पासवर्ड भूल गए?" })).toBeVisible();
  await page.goto("/no-such-page");
  await expect(page.getByRole("heading", { name: "पेज नहीं मिला" })).toBeVisible();

  // The SMS follows the language picked here, though the browser itself asks for English.
  await page.goto("/register");
  await hydrated(page);
  await page.getByLabel("यूज़रनेम").fill(meera.username);
  await page.getByLabel("पूरा नाम").fill("Meera Iyer");
  await page.getByLabel("फ़ोन नंबर").fill(meera.phone);
  await page.getByLabel("ईमेल").fill("meera@example.in");
  await page.getByLabel("पासवर्ड").fill("meera-password-3");
  await page.getByRole("button", { name: "खाता बनाएँ" }).click();
  await expect(page).toHaveURL(/\/verify$/);
  const sms = await smsTo(request, meera.e164, 0);
  expect(sms.body).toMatch(devanagari);

  await page.getByRole("link", { name: "English" }).click();
  await expect(page).toHaveURL(/\/verify$/);
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
  await expect(page.getByRole("heading", { name: "Verify your phone" })).toBeVisible();
});
