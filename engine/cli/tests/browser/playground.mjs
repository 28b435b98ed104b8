// Drives `linewall playground` in headless Debian chromium: completion offers schema keys;
// an edit turns a policy test red, the fix turns it green; a card is highlighted in the
// text and masked in the delivered copy; a pasted JSONL is replayed against the start set.
// usage: node playground.mjs PLAYGROUND_URL OUT_DIR
import { chromium } from "playwright-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [url, outDir] = process.argv.slice(2);
if (!outDir) {
  console.error("usage: node playground.mjs PLAYGROUND_URL OUT_DIR");
  process.exit(2);
}
const fail = (why) => { throw new Error(why); };
const profile = mkdtempSync(join(tmpdir(), "lw-playground-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1400, height: 1000 },
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const steps = [];
try {
  const page = context.pages()[0] || (await context.newPage());
  // Each edit compiles the whole set and runs its tests (slow in a debug build).
  page.setDefaultTimeout(90000);
  const settled = () => page.waitForSelector('#status[data-state="ok"]');

  // 0. The page loads the policy directory; its test passes.
  await page.goto(url);
  await page.waitForSelector("#tests li.pass");
  const original = await page.inputValue("#editor");
  if (!original.includes("a card is masked")) fail("the policy file is not in the editor");

  // 1. Schema completion: a half-typed key offers `action`; Tab inserts it.
  await page.fill("#editor", original + "    - id: extra\n      acti");
  await page.waitForSelector('#completions li[data-value="action"]', { state: "visible" });
  await page.press("#editor", "Tab");
  if (!(await page.inputValue("#editor")).endsWith("      action: ")) fail("completion did not insert `action: `");
  steps.push("completion");

  // 2. An edit makes the test fail: the card rule now blocks, the test expects redact.
  const broken = original.replace("action: redact\n      redact: {style: mask, keep_last: 4}", "action: block");
  if (broken === original) fail("fixture does not have the expected rule");
  await page.fill("#editor", broken);
  await page.waitForSelector("#tests li.fail");
  const red = await page.textContent("#tests li.fail");
  if (!red.includes("a card is masked")) fail(`unexpected failing test: ${red}`);
  await page.screenshot({ path: join(outDir, "playground-test-red.png"), fullPage: true });
  steps.push("red");

  // 3. The fix makes it pass again.
  await page.fill("#editor", original);
  await page.waitForFunction(() => document.querySelectorAll("#tests li.fail").length === 0
    && document.querySelectorAll("#tests li.pass").length > 0);
  await settled();
  await page.screenshot({ path: join(outDir, "playground-test-green.png"), fullPage: true });
  steps.push("green");

  // 4. A card in the message: highlighted in the text, masked in the delivered copy.
  await page.fill("#msg-text", "Please pay with 4111 1111 1111 1111 today");
  const mark = await page.waitForSelector('#highlighted mark[data-detector="credit_card"]');
  if ((await mark.textContent()) !== "4111 1111 1111 1111") fail("the highlighted span is not the card");
  await settled();
  const action = await page.textContent("#verdict-action");
  if (action !== "redact") fail(`verdict ${action}, expected redact`);
  const delivered = await page.textContent("#delivered");
  if (delivered.includes("4111 1111 1111 1111") || !delivered.includes("1111 today")) fail(`delivered copy: ${delivered}`);
  await page.screenshot({ path: join(outDir, "playground-verdict.png"), fullPage: true });
  steps.push("verdict");

  // 5. Replay a pasted JSONL against the set loaded at start: the blocking candidate
  //    turns the card message from redact to block and leaves the other alone.
  await page.fill("#editor", broken);
  await page.waitForSelector("#tests li.fail");
  await page.fill("#jsonl", '{"id":"a","text":"card 4111 1111 1111 1111"}\n{"id":"b","text":"hello"}\n');
  await page.click("#replay-btn");
  await page.waitForFunction(() => document.querySelector("#replay-summary").textContent.includes("2 messages, 1 changed"));
  const report = await page.getAttribute("#replay-report", "srcdoc");
  if (!report.includes("redact→block")) fail("the replay report lacks the redact→block transition");
  if (report.includes("4111")) fail("the replay report shows text without `show text`");
  await page.screenshot({ path: join(outDir, "playground-replay.png"), fullPage: true });
  steps.push("replay");
  console.log(JSON.stringify({ ok: true, steps }));
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
