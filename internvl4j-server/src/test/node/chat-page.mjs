// The chat page in headless Chromium: node chat-page.mjs BASE_URL KEY IMAGE.png CHROMIUM_PATH
// Drops an image on the page, asks, watches the answer stream in, asks again (the page sends the history),
// then starts a long answer and stops it. Exits 0 when every check passes.
import { chromium } from "playwright-core";
import { readFileSync } from "node:fs";
import assert from "node:assert/strict";

const [base, key, imagePath, executablePath] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
try {
  const page = await browser.newPage();
  const requests = [];
  page.on("request", r => { if (r.url().endsWith("/v1/chat/completions")) requests.push(JSON.parse(r.postData())); });
  await page.goto(base + "/");
  await page.fill("#apiKey", key);
  await page.dispatchEvent("#apiKey", "change");
  await page.fill("#maxTokens", "24");
  await page.dispatchEvent("#maxTokens", "change");

  // drag and drop an image file onto the page
  const b64 = readFileSync(imagePath).toString("base64");
  await page.evaluate(async b64 => {
    const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], "cat.png", { type: "image/png" }));
    document.dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, b64);
  await page.waitForSelector("#attachments img");

  await page.fill("#input", "describe");
  await page.click("#send");
  await page.waitForSelector(".msg.assistant[data-done=true]", { timeout: 120000 });
  const first = await page.textContent(".msg.assistant >> nth=0");
  assert.ok(first.trim().length > 0, "the first answer is not empty");
  const chunks = Number(await page.getAttribute(".msg.assistant >> nth=0", "data-chunks"));
  assert.ok(chunks > 3, "the answer was streamed in several events, got " + chunks);
  assert.equal(requests[0].stream, true);
  assert.equal(requests[0].messages[0].content[0].type, "image_url");

  await page.fill("#input", "and again?");
  await page.click("#send");
  await page.waitForSelector(".msg.assistant[data-done=true] >> nth=1", { timeout: 120000 });
  assert.equal(requests[1].messages.length, 3, "the second question carries the first turn");
  assert.equal(requests[1].messages[1].role, "assistant");
  assert.equal(requests[1].messages[1].content, first);
  assert.ok((await page.textContent(".msg.assistant >> nth=1")).trim().length > 0, "the second answer is not empty");

  // a long answer, stopped
  await page.fill("#maxTokens", "3000");
  await page.dispatchEvent("#maxTokens", "change");
  await page.fill("#input", "tell me everything");
  await page.click("#send");
  await page.waitForFunction(() => document.querySelectorAll(".msg.assistant")[2]?.textContent.length > 0, null, { timeout: 120000 });
  await page.click("#stop");
  await page.waitForSelector(".msg.assistant[data-done=stopped]", { timeout: 30000 });
  assert.equal(await page.isDisabled("#send"), false);
  console.log("chat page: all checks passed");
} finally {
  await browser.close();
}
