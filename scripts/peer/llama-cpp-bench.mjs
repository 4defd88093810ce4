// The bench model peer: times llama.cpp (through node-llama-cpp's prebuilt binaries) on a GGUF file,
// prefill of N given tokens then M greedy decode steps with T threads, and prints one JSON object.
//
//   node llama-cpp-bench.mjs --model FILE --threads T --decode-tokens M (--prompt-tokens N | --tokens FILE.json)
//
// FILE.json holds the prompt's token ids as a JSON array (bench model passes the ids it fed our model).
// Weights are read into memory (no mmap), as `bench model` copies ours. Opt-in: install with
// `npm ci --prefix scripts/peer`; the default build never runs this.
import { getLlama, LlamaLogLevel } from "node-llama-cpp";
import { readFileSync } from "node:fs";

function args(argv) {
  const a = {};
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i], v = argv[i + 1];
    if (!k.startsWith("--") || v === undefined) fail(`expected --name value pairs, got '${k}'`);
    a[k.slice(2)] = v;
  }
  for (const k of ["model", "threads", "decode-tokens"]) if (!(k in a)) fail(`--${k} is required`);
  return a;
}

function fail(message) {
  process.stderr.write(`llama-cpp-bench: ${message}\n`);
  process.exit(2);
}

function positive(a, k) {
  const n = Number(a[k]);
  if (!Number.isInteger(n) || n < 1) fail(`--${k} must be a positive integer, got '${a[k]}'`);
  return n;
}

const a = args(process.argv.slice(2));
const threads = positive(a, "threads"), decode = positive(a, "decode-tokens");
let tokens;
if (a.tokens) {
  tokens = JSON.parse(readFileSync(a.tokens, "utf8"));
  if (!Array.isArray(tokens) || tokens.length < 1 || !tokens.every(Number.isInteger)) fail(`${a.tokens} must hold a JSON array of token ids`);
} else {
  const n = positive(a, "prompt-tokens");
  tokens = Array.from({ length: n }, (_, i) => i); // fixed ids, reduced into the vocabulary once it is known; the weights are random anyway
}

const llama = await getLlama({
  gpu: false, build: "never", // the prebuilt CPU binaries only: nothing is compiled or downloaded
  logLevel: LlamaLogLevel.info,
  logger: (level, message) => { if (process.env.PEER_DEBUG) process.stderr.write(`[${level}] ${message}\n`); },
});
const t0 = performance.now();
const model = await llama.loadModel({ modelPath: a.model, gpuLayers: 0, useMmap: false });
const loadS = (performance.now() - t0) / 1e3;
const vocab = model.fileInfo.metadata.tokenizer.ggml.tokens.length;
if (!a.tokens) tokens = tokens.map((i) => 3 + ((i * 7919) % (vocab - 3)));
for (const t of tokens) if (t < 0 || t >= vocab) fail(`token id ${t} is outside the model's vocabulary of ${vocab}`);
const context = await model.createContext({
  contextSize: tokens.length + decode + 16,
  batchSize: tokens.length, // the whole prompt in one batch, as our prefill takes it
  threads: { ideal: threads, min: threads },
  sequences: 1,
});
const seq = context.getSequence();

// Warm-up, as our bench and llama-bench do: one token through every layer starts the thread pool; then forget it.
await seq.evaluateWithoutGeneratingNewTokens([tokens[0]]);
await seq.clearHistory();

const p0 = performance.now();
await seq.evaluateWithoutGeneratingNewTokens(tokens);
const prefillS = (performance.now() - p0) / 1e3;

// Greedy decode: each step evaluates one token and picks the next; the first step feeds the last prompt id again
// (its logits were not kept), which costs the same one-token forward pass.
let steps = 0;
const d0 = performance.now(), stepMs = [];
let last = d0;
for await (const _ of seq.evaluate([tokens[tokens.length - 1]], { temperature: 0 })) {
  const now = performance.now();
  stepMs.push(now - last);
  last = now;
  if (++steps >= decode) break;
}
const decodeS = (performance.now() - d0) / 1e3;
stepMs.sort((x, y) => x - y);

console.log(JSON.stringify({
  peer: "llama.cpp",
  llama_cpp_release: llama.llamaCppRelease?.release ?? null,
  node_llama_cpp: JSON.parse(readFileSync(new URL("./node_modules/node-llama-cpp/package.json", import.meta.url), "utf8")).version,
  system_info: llama.systemInfo,
  model: a.model,
  threads: context.currentThreads ?? threads,
  load_s: loadS,
  prompt_tokens: tokens.length,
  prefill_s: prefillS,
  prefill_tokens_per_s: tokens.length / prefillS,
  decode_tokens: steps,
  decode_s: decodeS,
  decode_tokens_per_s: steps / decodeS,
  decode_step_ms_min: stepMs[0],
  decode_step_ms_median: stepMs[stepMs.length >> 1],
  decode_step_ms_max: stepMs[stepMs.length - 1],
}));
await context.dispose();
await model.dispose();
await llama.dispose();
