// The OpenAI Node client against a running server: node openai-client.mjs BASE_URL KEY IMAGE.png EXPECTED_TEXT
// Exits 0 when every check passes; prints what differs otherwise.
import OpenAI from "openai";
import { readFileSync } from "node:fs";
import assert from "node:assert/strict";

const [base, key, imagePath, expected] = process.argv.slice(2);
const client = new OpenAI({ baseURL: base + "/v1", apiKey: key, maxRetries: 0 });
const image = "data:image/png;base64," + readFileSync(imagePath).toString("base64");
const messages = [{ role: "user", content: [
  { type: "image_url", image_url: { url: image } },
  { type: "text", text: "describe" },
] }];

const models = await client.models.list();
assert.ok(models.data.some(m => m.id === "tiny"), "the model list names the served model");

const whole = await client.chat.completions.create({ model: "tiny", messages, max_tokens: 12, temperature: 0 });
assert.equal(whole.choices[0].message.content, expected, "non-streaming answer");
assert.ok(["stop", "length"].includes(whole.choices[0].finish_reason));

const stream = await client.chat.completions.create({ model: "tiny", messages, max_tokens: 12, temperature: 0,
  stream: true, stream_options: { include_usage: true } });
let text = "", usage = null, chunks = 0;
for await (const chunk of stream) {
  chunks++;
  for (const c of chunk.choices) text += c.delta?.content ?? "";
  if (chunk.usage) usage = chunk.usage;
}
assert.equal(text, expected, "streamed answer");
assert.ok(chunks > 2 && usage && usage.completion_tokens > 0, "chunks and usage arrive");

const bad = new OpenAI({ baseURL: base + "/v1", apiKey: "wrong", maxRetries: 0 });
await assert.rejects(bad.chat.completions.create({ model: "tiny", messages, max_tokens: 2 }),
  e => e instanceof OpenAI.AuthenticationError && e.status === 401);
console.log("openai node client: all checks passed");
