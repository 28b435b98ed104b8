// Drives the agent inbox in headless Debian chromium: a blocked message shows Linewall's
// notice; a closed window shows the template picker and a template goes out.
// usage: node inbox.mjs GATEWAY_URL OPEN_PHONE CLOSED_PHONE OUT_DIR
import { chromium } from "playwright-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [url, openPhone, closedPhone, outDir] = process.argv.slice(2);
if (!outDir) {
  console.error("usage: node inbox.mjs GATEWAY_URL OPEN_PHONE CLOSED_PHONE OUT_DIR");
  process.exit(2);
}
const profile = mkdtempSync(join(tmpdir(), "wa-inbox-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1100, height: 700 },
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = context.pages()[0] || (await context.newPage());
  page.setDefaultTimeout(15000);

  // 1. A card number: blocked, the notice is shown, the message is marked not sent.
  await page.goto(`${url}/?phone=${encodeURIComponent(openPhone)}`);
  await page.waitForSelector("#contact-header .badge");
  await page.fill("#composer-text", "Your card 4111 1111 1111 1111 is active again");
  await page.click("#send-btn");
  await page.waitForSelector("#notice", { state: "visible" });
  const notice = await page.textContent("#notice");
  if (!notice.includes("Card numbers can't be sent")) throw new Error(`unexpected notice: ${notice}`);
  await page.waitForSelector(".msg.blocked");
  await page.waitForFunction(() => document.querySelector("#thread-list").textContent.includes("(not sent"));
  const shown = await page.textContent("#threads") + await page.textContent("#messages");
  if (shown.includes("4111 1111 1111 1111")) throw new Error("the blocked card is shown in clear");
  if (await page.isVisible("#template-picker")) throw new Error("template picker shown with an open window");
  await page.screenshot({ path: join(outDir, "inbox-blocked.png") });

  // 2. Window closed: the template picker is offered and a template goes out.
  await page.goto(`${url}/?phone=${encodeURIComponent(closedPhone)}`);
  await page.waitForSelector("#template-picker", { state: "visible" });
  await page.selectOption("#template-select", { index: 1 });
  await page.fill(".template-param", "Tuesday 10:00");
  await page.click("#template-send");
  await page.waitForFunction(() => document.querySelector("#messages").textContent.includes("[template appointment_reminder] Tuesday 10:00"));
  await page.screenshot({ path: join(outDir, "inbox-template.png") });
  console.log(JSON.stringify({ notice, ok: true }));
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
