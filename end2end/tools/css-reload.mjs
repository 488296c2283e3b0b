// Opens /register from a running `cargo leptos watch`, changes style/main.css on disk and waits
// (without reloading the page) until the open page shows the new style. Run by
// scripts/css-reload-check.sh, which starts and stops the watcher.
import { chromium } from "@playwright/test";
import { readFileSync, writeFileSync } from "node:fs";

const [base, stylesheet] = process.argv.slice(2);
const marker = "rgb(1, 2, 3)";
const original = readFileSync(stylesheet, "utf8");
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu"],
});
let failed = "";
try {
  const page = await browser.newPage();
  await page.goto(`${base}/register`);
  await page.waitForSelector("body[data-hydrated]", { timeout: 60_000 });
  const outline = () => page.evaluate(() => getComputedStyle(document.body).outlineColor);
  if ((await outline()) === marker) throw new Error("the marker colour is there before the edit");
  let navigations = 0;
  page.on("framenavigated", (frame) => {
    if (frame === page.mainFrame()) navigations++;
  });
  const started = Date.now();
  writeFileSync(stylesheet, `${original}\nbody { outline: 3px solid ${marker}; }\n`);
  while ((await outline()) !== marker) {
    if (Date.now() - started > 60_000) throw new Error("the edit did not show within 60 s");
    await new Promise((r) => setTimeout(r, 200));
  }
  console.log(`css-reload: the edit showed in the open page after ${Date.now() - started} ms, ${navigations} reloads`);
  if (navigations > 0) failed = "the page was reloaded rather than its stylesheet swapped";
} catch (error) {
  failed = String(error);
} finally {
  writeFileSync(stylesheet, original);
  await browser.close();
}
if (failed) {
  console.error(`css-reload: FAILED: ${failed}`);
  process.exit(1);
}
