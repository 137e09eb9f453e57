/**
 * The load generator. Drives the baseline and the S3 server with the same code: each scenario
 * runs against the baseline, then against the server, and prints one JSON line per run.
 * Every request carries the same SigV4 headers (the baseline ignores them).
 *
 * Usage: loadgen.ts <config json>  (see LoadConfig)
 */
import { sha256Hex, Signer, type Signer as SignerT, UNSIGNED_PAYLOAD } from "./sigv4.ts";

export interface LoadConfig {
  targets: { name: "baseline" | "server"; endpoint: string }[];
  accessKey: string;
  secretKey: string;
  region: string;
  /** "unsigned" sends UNSIGNED-PAYLOAD; "sha256" sends the precomputed SHA-256 of each body. */
  payload: "unsigned" | "sha256";
  /** Seconds per timed small-object scenario. */
  seconds: number;
  /** Scenario names to run (all when empty). */
  only: string[];
}

export interface RunResult {
  scenario: string;
  target: string;
  ops: number;
  bytes: number;
  seconds: number;
  p50: number;
  p95: number;
  p99: number;
  errors: number;
  skipped?: string;
  note?: string;
}

const KiB = 1024;
const MiB = 1024 * 1024;

function fill(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  const v = new Uint32Array(out.buffer, 0, n >> 2);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < v.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    v[i] = x;
  }
  return out;
}

class Client {
  readonly bodyHash = new Map<Uint8Array, string>();
  constructor(
    readonly endpoint: string,
    readonly signer: SignerT,
    readonly payload: "unsigned" | "sha256",
  ) {}

  hashOf(body: Uint8Array | null): string {
    if (this.payload === "unsigned") return UNSIGNED_PAYLOAD;
    if (!body) return sha256Hex("");
    let h = this.bodyHash.get(body);
    if (!h) this.bodyHash.set(body, h = sha256Hex(body));
    return h;
  }

  async send(
    method: string,
    path: string,
    body: Uint8Array | string | null = null,
    query = "",
  ): Promise<Response> {
    const url = new URL(this.endpoint + path + (query ? "?" + query : ""));
    const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
    const headers = this.signer.sign(method, url, this.hashOf(bytes));
    return await fetch(url, { method, headers, body: bytes as Uint8Array<ArrayBuffer> | null });
  }

  /** Sends and drains the response; returns status, drained byte count and text (small only). */
  async call(
    method: string,
    path: string,
    body: Uint8Array | string | null = null,
    query = "",
    keepText = false,
  ): Promise<{ status: number; bytes: number; text: string }> {
    const res = await this.send(method, path, body, query);
    if (keepText) {
      const text = await res.text();
      return { status: res.status, bytes: text.length, text };
    }
    let bytes = 0;
    if (res.body) { for await (const c of res.body) bytes += c.byteLength; }
    return { status: res.status, bytes, text: "" };
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

function summarize(
  scenario: string,
  target: string,
  lat: number[],
  bytes: number,
  seconds: number,
  errors: number,
): RunResult {
  const s = lat.slice().sort((a, b) => a - b);
  return {
    scenario,
    target,
    ops: lat.length,
    bytes,
    seconds,
    p50: percentile(s, 0.5),
    p95: percentile(s, 0.95),
    p99: percentile(s, 0.99),
    errors,
  };
}

/**
 * Runs `op` from `clients` concurrent loops until `seconds` elapse (or `op` returns false: no
 * more work). A short unmeasured warm-up opens the connections first.
 */
async function timed(
  clients: number,
  seconds: number,
  op: (worker: number, i: number) => Promise<{ ok: boolean; bytes: number } | false>,
): Promise<{ lat: number[]; bytes: number; seconds: number; errors: number }> {
  const lat: number[] = [];
  let bytes = 0, errors = 0, i = 0;
  const start = performance.now();
  const deadline = start + seconds * 1000;
  await Promise.all(Array.from({ length: clients }, async (_, w) => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      const r = await op(w, i++);
      if (r === false) return;
      lat.push(performance.now() - t0);
      bytes += r.bytes;
      if (!r.ok) errors++;
    }
  }));
  return { lat, bytes, seconds: (performance.now() - start) / 1000, errors };
}

/** Runs `n` ops with `clients` concurrent loops (no time bound). */
function counted(
  clients: number,
  n: number,
  op: (worker: number, i: number) => Promise<{ ok: boolean; bytes: number }>,
) {
  let next = 0;
  return timed(clients, 3600, (w) => next < n ? op(w, next++) : Promise.resolve(false));
}

const ok = (s: number) => s >= 200 && s < 300;

interface Ctx {
  c: Client;
  target: string;
  cfg: LoadConfig;
  /** Keys written by the small PUT scenarios, for GET. */
  smallKeys: string[];
}

const SMALL = fill(4 * KiB, 7);
const BIG = fill(64 * MiB, 11);
const PART_SIZE = 8 * MiB;
const MP_SIZE = 256 * MiB;
const MP_CONCURRENCY = 4;
const BUCKET = "bench";

async function smallPut(ctx: Ctx, clients: number): Promise<RunResult> {
  const name = `put-4k-c${clients}`;
  // Warm-up: open connections, unmeasured.
  await timed(clients, 0.3, async (w, i) => {
    const r = await ctx.c.call("PUT", `/${BUCKET}/warm/${w}-${i}`, SMALL);
    return { ok: ok(r.status), bytes: 0 };
  });
  const r = await timed(clients, ctx.cfg.seconds, async (w, i) => {
    const key = `small/c${clients}/${w}-${i}`;
    const res = await ctx.c.call("PUT", `/${BUCKET}/${key}`, SMALL);
    if (ok(res.status)) ctx.smallKeys.push(key);
    return { ok: ok(res.status), bytes: SMALL.length };
  });
  return summarize(name, ctx.target, r.lat, r.bytes, r.seconds, r.errors);
}

async function smallGet(ctx: Ctx, clients: number): Promise<RunResult> {
  const keys = ctx.smallKeys;
  if (keys.length === 0) return skipped(`get-4k-c${clients}`, ctx.target, "no keys written");
  const r = await timed(clients, ctx.cfg.seconds, async (_w, i) => {
    const res = await ctx.c.call("GET", `/${BUCKET}/${keys[(i * 7919) % keys.length]}`);
    return { ok: ok(res.status) && res.bytes === SMALL.length, bytes: res.bytes };
  });
  return summarize(`get-4k-c${clients}`, ctx.target, r.lat, r.bytes, r.seconds, r.errors);
}

async function bigPut(ctx: Ctx): Promise<RunResult> {
  await ctx.c.call("PUT", `/${BUCKET}/big/warm`, BIG);
  const r = await timed(1, ctx.cfg.seconds, async (_w, i) => {
    const res = await ctx.c.call("PUT", `/${BUCKET}/big/${i % 2}`, BIG);
    return { ok: ok(res.status), bytes: BIG.length };
  });
  return summarize("put-64m-c1", ctx.target, r.lat, r.bytes, r.seconds, r.errors);
}

async function bigGet(ctx: Ctx): Promise<RunResult> {
  await ctx.c.call("GET", `/${BUCKET}/big/warm`);
  const r = await timed(1, ctx.cfg.seconds, async (_w, i) => {
    const res = await ctx.c.call("GET", `/${BUCKET}/big/${i % 2}`);
    return { ok: ok(res.status) && res.bytes === BIG.length, bytes: res.bytes };
  });
  return summarize("get-64m-c1", ctx.target, r.lat, r.bytes, r.seconds, r.errors);
}

async function listKeys(ctx: Ctx): Promise<RunResult> {
  // Seed 1000 keys under their own prefix (untimed).
  await counted(32, 1000, async (_w, i) => {
    const res = await ctx.c.call("PUT", `/${BUCKET}/list/${String(i).padStart(4, "0")}`, SMALL);
    return { ok: ok(res.status), bytes: 0 };
  });
  const r = await timed(1, ctx.cfg.seconds, async () => {
    const res = await ctx.c.call("GET", `/${BUCKET}`, null, "list-type=2&prefix=list%2F", true);
    const n = res.text.split("<Key>").length - 1;
    return { ok: ok(res.status) && n === 1000, bytes: res.bytes };
  });
  const out = summarize("list-1000-c1", ctx.target, r.lat, r.bytes, r.seconds, r.errors);
  out.note = "ListObjectsV2, one page of 1000 keys";
  return out;
}

async function deleteKeys(ctx: Ctx): Promise<RunResult> {
  const r = await counted(32, 1000, async (_w, i) => {
    const res = await ctx.c.call("DELETE", `/${BUCKET}/list/${String(i).padStart(4, "0")}`);
    return { ok: res.status === 204, bytes: 0 };
  });
  const out = summarize("delete-c32", ctx.target, r.lat, 0, r.seconds, r.errors);
  out.note = "1000 existing keys, 32 clients";
  return out;
}

function skipped(scenario: string, target: string, why: string): RunResult {
  return {
    scenario,
    target,
    ops: 0,
    bytes: 0,
    seconds: 0,
    p50: NaN,
    p95: NaN,
    p99: NaN,
    errors: 0,
    skipped: why,
  };
}

/**
 * The server uploads 256 MiB as 8 MiB parts, 4 in flight, then completes. The baseline has no
 * multipart, so it does the single-stream 256 MiB PUT the target is measured against.
 */
async function multipartUpload(ctx: Ctx): Promise<RunResult> {
  const name = "mpu-256m-put";
  const parts = MP_SIZE / PART_SIZE;
  const bodies = Array.from(
    { length: parts },
    (_, i) => BIG.subarray(0, PART_SIZE).map((b) => b ^ i),
  );
  const key = `/${BUCKET}/mp/obj`;
  if (ctx.target === "baseline") {
    const whole = new Uint8Array(MP_SIZE);
    bodies.forEach((b, i) => whole.set(b, i * PART_SIZE));
    const t0 = performance.now();
    const res = await ctx.c.call("PUT", key, whole);
    const lat = performance.now() - t0;
    const out = summarize(name, ctx.target, [lat], MP_SIZE, lat / 1000, ok(res.status) ? 0 : 1);
    out.note = "single-stream PUT of 256 MiB";
    return out;
  }
  const t0 = performance.now();
  const created = await ctx.c.call("POST", key, null, "uploads", true);
  if (created.status === 501 || created.text.includes("<Code>NotImplemented</Code>")) {
    return skipped(name, ctx.target, "server answers NotImplemented for CreateMultipartUpload");
  }
  const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(created.text)?.[1];
  if (!ok(created.status) || !uploadId) {
    return skipped(name, ctx.target, `CreateMultipartUpload failed: ${created.status}`);
  }
  const etags: string[] = [];
  const lat: number[] = [];
  let errors = 0;
  await counted(MP_CONCURRENCY, parts, async (_w, i) => {
    const t = performance.now();
    const q = `partNumber=${i + 1}&uploadId=${encodeURIComponent(uploadId)}`;
    const res = await ctx.c.send("PUT", key, bodies[i], q);
    await res.body?.cancel();
    etags[i] = res.headers.get("etag") ?? "";
    lat.push(performance.now() - t);
    if (!ok(res.status)) errors++;
    return { ok: ok(res.status), bytes: 0 };
  });
  const xml = `<CompleteMultipartUpload>${
    etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e}</ETag></Part>`).join("")
  }</CompleteMultipartUpload>`;
  const done = await ctx.c.call(
    "POST",
    key,
    xml,
    `uploadId=${encodeURIComponent(uploadId)}`,
    true,
  );
  if (!ok(done.status) || done.text.includes("<Error>")) errors++;
  const seconds = (performance.now() - t0) / 1000;
  const out = summarize(name, ctx.target, [seconds * 1000], MP_SIZE, seconds, errors);
  const sorted = lat.sort((a, b) => a - b);
  out.note = `${parts} parts of 8 MiB, ${MP_CONCURRENCY} in flight; part PUT p50 ${
    percentile(sorted, 0.5).toFixed(0)
  } ms; time includes create and complete`;
  return out;
}

async function multipartDownload(ctx: Ctx, upload: RunResult): Promise<RunResult> {
  const name = "mpu-256m-get";
  if (upload.skipped || upload.errors) {
    return skipped(name, ctx.target, upload.skipped ?? "upload failed");
  }
  const t0 = performance.now();
  const res = await ctx.c.call("GET", `/${BUCKET}/mp/obj`);
  const lat = performance.now() - t0;
  const bad = !ok(res.status) || res.bytes !== MP_SIZE;
  const out = summarize(name, ctx.target, [lat], res.bytes, lat / 1000, bad ? 1 : 0);
  out.note = "one GET of the whole object";
  return out;
}

type Scenario = {
  name: string;
  run: (ctx: Ctx, prev: Map<string, RunResult>) => Promise<RunResult>;
};

const SCENARIOS: Scenario[] = [
  { name: "put-4k-c1", run: (c) => smallPut(c, 1) },
  { name: "put-4k-c32", run: (c) => smallPut(c, 32) },
  { name: "get-4k-c1", run: (c) => smallGet(c, 1) },
  { name: "get-4k-c32", run: (c) => smallGet(c, 32) },
  { name: "put-64m-c1", run: (c) => bigPut(c) },
  { name: "get-64m-c1", run: (c) => bigGet(c) },
  { name: "list-1000-c1", run: (c) => listKeys(c) },
  { name: "delete-c32", run: (c) => deleteKeys(c) },
  { name: "mpu-256m-put", run: (c) => multipartUpload(c) },
  {
    name: "mpu-256m-get",
    run: (c, prev) => multipartDownload(c, prev.get(`mpu-256m-put/${c.target}`)!),
  },
];

async function main() {
  const cfg = JSON.parse(Deno.args[0]) as LoadConfig;
  const signer = new Signer({
    accessKey: cfg.accessKey,
    secretKey: cfg.secretKey,
    region: cfg.region,
  });
  const ctxs = cfg.targets.map((t): Ctx => ({
    c: new Client(t.endpoint, signer, cfg.payload),
    target: t.name,
    cfg,
    smallKeys: [],
  }));
  for (const ctx of ctxs) {
    const r = await ctx.c.call("PUT", `/${BUCKET}`);
    if (!ok(r.status)) throw new Error(`${ctx.target}: cannot create bucket: ${r.status}`);
  }
  const prev = new Map<string, RunResult>();
  for (const s of SCENARIOS) {
    const selected = cfg.only.length === 0 || cfg.only.includes(s.name) ||
      (s.name === "mpu-256m-get" && cfg.only.includes("mpu-256m-put"));
    if (!selected) continue;
    // Baseline first, then server, scenario by scenario, so both see similar machine load.
    for (const ctx of ctxs) {
      const r = await s.run(ctx, prev);
      prev.set(`${s.name}/${ctx.target}`, r);
      console.log(JSON.stringify(r));
    }
  }
}

if (import.meta.main) await main();
