/**
 * The load generator. Drives the baselines and the S3 servers with the same code: each scenario
 * runs in slices that alternate between its targets, and prints one JSON line per target.
 * Every request carries the same SigV4 headers (the baselines ignore them).
 *
 * Usage: loadgen.ts <config json>  (see LoadConfig)
 */
import { createHash } from "node:crypto";
import { sha256Hex, Signer, type Signer as SignerT, UNSIGNED_PAYLOAD } from "./sigv4.ts";

/**
 * What a target is: `plain` the baseline that streams bodies to files, `durable` the same with an
 * `fdatasync` per object file, `server` a MaxIOFS process (the default one or a variant).
 */
export type TargetKind = "plain" | "durable" | "server";

export interface BenchTarget {
  name: string;
  kind: TargetKind;
  endpoint: string;
  /** Its process, whose bytes written to the disk are counted per slice (Linux `/proc`). */
  pid?: number;
  /** Bucket subresources put after the bench bucket is created: [query, XML] (followers.ts). */
  setup?: [string, string][];
}

export interface LoadConfig {
  targets: BenchTarget[];
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
  /** `md5`: the MD5 rate of one core in the load generator, no HTTP (see `bigPut`). */
  kind: TargetKind | "md5";
  ops: number;
  bytes: number;
  seconds: number;
  p50: number;
  p95: number;
  p99: number;
  errors: number;
  /** Bytes the target's process caused to be written to the disk during its slices. */
  written?: number;
  /**
   * CPU time (ns, all its threads) the target's process used during its slices: what a request
   * costs, steadier than its rate when other processes share the cores.
   */
  cpuNs?: number;
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
    extra: Record<string, string> = {},
  ): Promise<Response> {
    const url = new URL(this.endpoint + path + (query ? "?" + query : ""));
    const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
    const headers = this.signer.sign(method, url, this.hashOf(bytes), extra);
    return await fetch(url, { method, headers, body: bytes as Uint8Array<ArrayBuffer> | null });
  }

  /** Sends and drains the response; returns status, drained byte count and text (small only). */
  async call(
    method: string,
    path: string,
    body: Uint8Array | string | null = null,
    query = "",
    keepText = false,
    extra: Record<string, string> = {},
  ): Promise<{ status: number; bytes: number; text: string }> {
    const res = await this.send(method, path, body, query, extra);
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
  kind: RunResult["kind"],
  lat: number[],
  bytes: number,
  seconds: number,
  errors: number,
): RunResult {
  const s = lat.slice().sort((a, b) => a - b);
  return {
    scenario,
    target,
    kind,
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
  kind: TargetKind;
  cfg: LoadConfig;
  /** Keys written by the small PUT scenarios, for GET. */
  smallKeys: string[];
  /** Keys written by the small SSE-S3 PUT scenario, for its GET. */
  sseKeys: string[];
  /** Set by a setup step that found the scenario unsupported on this target. */
  skip?: string;
  /** Why the multipart upload was skipped here, so its download is too. */
  multipartSkipped?: string;
}

/** What one timed slice of a scenario measured. */
interface Sample {
  lat: number[];
  bytes: number;
  seconds: number;
  errors: number;
}

/**
 * A scenario runs in `rounds` slices that alternate between its targets (A B C, C B A, ...), so a
 * load spike from other processes on the machine hits every side alike. `setup` is untimed and
 * runs once per target.
 */
interface Scenario {
  name: string;
  rounds: number;
  note?: string;
  /** The kinds of target it runs on (a durable baseline adds nothing to a GET). */
  kinds: TargetKind[];
  setup?: (ctx: Ctx) => Promise<void>;
  slice: (ctx: Ctx, seconds: number, round: number) => Promise<Sample>;
  /** A reference measured in this process, sliced with the targets (target name "md5"). */
  local?: (seconds: number) => Promise<Sample>;
}

const ALL: TargetKind[] = ["plain", "durable", "server"];
const READS: TargetKind[] = ["plain", "server"];
/** Scenarios only a MaxIOFS server can run (encryption): compared with its own plain rows. */
const SERVERS: TargetKind[] = ["server"];
/** What the SSE-S3 scenarios send with each PUT. */
const SSE_S3 = { "x-amz-server-side-encryption": "AES256" };

const SMALL = fill(4 * KiB, 7);
const FILE_SMALL = fill(64 * KiB, 5);
const BIG = fill(64 * MiB, 11);
const PART_SIZE = 8 * MiB;
const MP_SIZE = 256 * MiB;
const MP_CONCURRENCY = 4;
const MP_ROUNDS = 3;
const BUCKET = "bench";
let mpBody: Uint8Array | null = null;
const multipartBody = () => mpBody ??= fill(MP_SIZE, 13);

const pad4 = (i: number) => String(i).padStart(4, "0");

/**
 * PUTs of `body` to new keys from `clients` loops. 4 KiB bodies are stored inline in KV (no file:
 * `--fsync` changes nothing for them) and are read back by the GET scenarios; 64 KiB bodies are
 * the smallest that get a file each, where syncing one file and its directory per object costs
 * the most.
 */
function smallPut(clients: number, body = SMALL, size = "4k"): Scenario {
  return {
    name: `put-${size}-c${clients}`,
    rounds: 4,
    kinds: ALL,
    // Opens the connections; unmeasured.
    setup: async (ctx) => {
      await timed(clients, 0.3, async (w, i) => {
        const r = await ctx.c.call("PUT", `/${BUCKET}/warm/${size}-${clients}-${w}-${i}`, body);
        return { ok: ok(r.status), bytes: 0 };
      });
    },
    slice: (ctx, seconds, round) =>
      timed(clients, seconds, async (w, i) => {
        const key = `${size === "4k" ? "small" : size}/c${clients}/${round}-${w}-${i}`;
        const res = await ctx.c.call("PUT", `/${BUCKET}/${key}`, body);
        if (ok(res.status) && body === SMALL) ctx.smallKeys.push(key);
        return { ok: ok(res.status), bytes: body.length };
      }),
  };
}

function smallGet(clients: number): Scenario {
  return {
    name: `get-4k-c${clients}`,
    rounds: 4,
    kinds: READS,
    setup: (ctx) => {
      if (ctx.smallKeys.length === 0) ctx.skip = "no keys written (run put-4k first)";
      return Promise.resolve();
    },
    slice: (ctx, seconds) => {
      const keys = ctx.smallKeys;
      return timed(clients, seconds, async (_w, i) => {
        const res = await ctx.c.call("GET", `/${BUCKET}/${keys[(i * 7919) % keys.length]}`);
        return { ok: ok(res.status) && res.bytes === SMALL.length, bytes: res.bytes };
      });
    },
  };
}

/**
 * Reads that reach the metadata store while commits queue: 16 clients GET keys that do not exist
 * (404), as sync tools (rclone, restic, aws s3 sync) probe before they upload, while 16 more PUT
 * new 4 KiB keys. No cache holds an absent key, so each GET reads Deno KV while the PUTs' commits
 * run. The GETs are what is timed; a failed PUT counts as an error too.
 */
const mixed: Scenario = {
  name: "mixed-c32",
  rounds: 4,
  kinds: READS,
  note: "GETs of absent keys (404), 16 clients, while 16 more PUT new 4 KiB keys",
  slice: async (ctx, seconds, round) => {
    const puts = timed(16, seconds, async (w, i) => {
      const res = await ctx.c.call("PUT", `/${BUCKET}/mixed/${round}-${w}-${i}`, SMALL);
      return { ok: ok(res.status), bytes: 0 };
    });
    const gets = timed(16, seconds, async (w, i) => {
      const res = await ctx.c.call("GET", `/${BUCKET}/absent/${round}-${w}-${i}`);
      return { ok: res.status === 404, bytes: 0 };
    });
    const [p, g] = await Promise.all([puts, gets]);
    return { ...g, errors: g.errors + p.errors };
  },
};

/**
 * MD5 of the 64 MiB body in this process, one core, in `seconds`: what a server that must compute
 * the ETag of a single-stream PUT can reach at best (node:crypto, as the server uses).
 */
function md5Slice(seconds: number): Promise<Sample> {
  const lat: number[] = [];
  const start = performance.now();
  const deadline = start + seconds * 1000;
  do {
    const t0 = performance.now();
    createHash("md5").update(BIG).digest();
    lat.push(performance.now() - t0);
  } while (performance.now() < deadline);
  const elapsed = (performance.now() - start) / 1000;
  return Promise.resolve({ lat, bytes: lat.length * BIG.length, seconds: elapsed, errors: 0 });
}

const bigPut: Scenario = {
  name: "put-64m-c1",
  rounds: 4,
  kinds: ALL,
  setup: async (ctx) => void await ctx.c.call("PUT", `/${BUCKET}/big/warm`, BIG),
  slice: (ctx, seconds) =>
    timed(1, seconds, async (_w, i) => {
      const res = await ctx.c.call("PUT", `/${BUCKET}/big/${i % 2}`, BIG);
      return { ok: ok(res.status), bytes: BIG.length };
    }),
  local: md5Slice,
};

const bigGet: Scenario = {
  name: "get-64m-c1",
  rounds: 4,
  kinds: READS,
  // Two objects written untimed, read in turn (the first GET of each warms the page cache).
  setup: async (ctx) => {
    for (const k of ["g0", "g1"]) {
      const put = await ctx.c.call("PUT", `/${BUCKET}/big/${k}`, BIG);
      if (!ok(put.status)) throw new Error(`${ctx.target}: PUT big/${k} failed: ${put.status}`);
      await ctx.c.call("GET", `/${BUCKET}/big/${k}`);
    }
  },
  slice: (ctx, seconds) =>
    timed(1, seconds, async (_w, i) => {
      const res = await ctx.c.call("GET", `/${BUCKET}/big/g${i % 2}`);
      return { ok: ok(res.status) && res.bytes === BIG.length, bytes: res.bytes };
    }),
};

const listKeys: Scenario = {
  name: "list-1000-c1",
  rounds: 4,
  kinds: READS,
  note: "ListObjectsV2 prefix=list/, one page of 1000 keys; baseline: a fixed document",
  setup: async (ctx) => {
    // The baseline answers a precomputed listing: nothing to write.
    if (ctx.kind !== "server") return;
    await counted(32, 1000, async (_w, i) => {
      const res = await ctx.c.call("PUT", `/${BUCKET}/list/${pad4(i)}`, SMALL);
      return { ok: ok(res.status), bytes: 0 };
    });
  },
  slice: (ctx, seconds) =>
    timed(1, seconds, async () => {
      const res = await ctx.c.call("GET", `/${BUCKET}`, null, "list-type=2&prefix=list%2F", true);
      const n = res.text.split("<Key>").length - 1;
      return { ok: ok(res.status) && n === 1000, bytes: res.bytes };
    }),
};

const deleteKeys: Scenario = {
  name: "delete-c32",
  rounds: 4,
  kinds: READS,
  note: "1000 existing 4 KiB objects, 32 clients",
  setup: async (ctx) => {
    await counted(32, 1000, async (_w, i) => {
      const res = await ctx.c.call("PUT", `/${BUCKET}/del/${pad4(i)}`, SMALL);
      return { ok: ok(res.status), bytes: 0 };
    });
  },
  slice: (ctx, _seconds, round) =>
    counted(32, 250, async (_w, i) => {
      const res = await ctx.c.call("DELETE", `/${BUCKET}/del/${pad4(round * 250 + i)}`);
      return { ok: res.status === 204, bytes: 0 };
    }),
};

/**
 * The server uploads 256 MiB as 8 MiB parts, 4 in flight, then completes. The baseline has no
 * multipart: it does the single-stream 256 MiB PUT that the target is measured against.
 */
const multipartUpload: Scenario = {
  name: "mpu-256m-put",
  rounds: MP_ROUNDS,
  kinds: READS,
  note: `server: ${MP_SIZE / PART_SIZE} parts of 8 MiB, ${MP_CONCURRENCY} in flight, incl. ` +
    `create+complete; baseline: one single-stream PUT`,
  setup: async (ctx) => {
    multipartBody();
    if (ctx.kind === "plain") return;
    const probe = await ctx.c.call("POST", `/${BUCKET}/mp/probe`, null, "uploads", true);
    if (probe.status === 501 || probe.text.includes("<Code>NotImplemented</Code>")) {
      ctx.skip = "server answers NotImplemented for CreateMultipartUpload";
    } else if (!ok(probe.status)) {
      ctx.skip = `CreateMultipartUpload failed with ${probe.status}`;
    }
  },
  slice: async (ctx, _seconds, round) => {
    const body = multipartBody();
    const key = `/${BUCKET}/mp/obj-${round}`;
    const t0 = performance.now();
    let errors = 0;
    if (ctx.kind === "plain") {
      const res = await ctx.c.call("PUT", key, body);
      if (!ok(res.status)) errors++;
    } else {
      const created = await ctx.c.call("POST", key, null, "uploads", true);
      const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(created.text)?.[1] ?? "";
      const etags: string[] = [];
      await counted(MP_CONCURRENCY, MP_SIZE / PART_SIZE, async (_w, i) => {
        const q = `partNumber=${i + 1}&uploadId=${encodeURIComponent(uploadId)}`;
        const part = body.subarray(i * PART_SIZE, (i + 1) * PART_SIZE);
        const res = await ctx.c.send("PUT", key, part, q);
        await res.body?.cancel();
        etags[i] = res.headers.get("etag") ?? "";
        if (!ok(res.status)) errors++;
        return { ok: ok(res.status), bytes: 0 };
      });
      const xml = `<CompleteMultipartUpload>${
        etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e}</ETag></Part>`)
          .join("")
      }</CompleteMultipartUpload>`;
      const q = `uploadId=${encodeURIComponent(uploadId)}`;
      const done = await ctx.c.call("POST", key, xml, q, true);
      if (!ok(done.status) || done.text.includes("<Error>")) errors++;
    }
    const ms = performance.now() - t0;
    return { lat: [ms], bytes: MP_SIZE, seconds: ms / 1000, errors };
  },
};

const multipartDownload: Scenario = {
  name: "mpu-256m-get",
  rounds: MP_ROUNDS,
  kinds: READS,
  note: "one GET of the whole object",
  setup: (ctx) => {
    ctx.skip = ctx.multipartSkipped;
    return Promise.resolve();
  },
  slice: async (ctx, _seconds, round) => {
    const t0 = performance.now();
    const res = await ctx.c.call("GET", `/${BUCKET}/mp/obj-${round}`);
    const ms = performance.now() - t0;
    const bad = !ok(res.status) || res.bytes !== MP_SIZE;
    return { lat: [ms], bytes: res.bytes, seconds: ms / 1000, errors: bad ? 1 : 0 };
  },
};

/**
 * SSE-S3 (`x-amz-server-side-encryption: AES256` on each PUT): 4 KiB PUTs to new keys and GETs
 * of them, one client, and the 64 MiB PUT and GET; each graded against the same server's plain
 * row of this run (docs/performance.md, "Encryption").
 */
const ssePut: Scenario = {
  name: "put-4k-sse-c1",
  rounds: 4,
  kinds: SERVERS,
  setup: async (ctx) => {
    await timed(1, 0.3, async (w, i) => {
      const r = await ctx.c.call("PUT", `/${BUCKET}/warm/sse-${w}-${i}`, SMALL, "", false, SSE_S3);
      return { ok: ok(r.status), bytes: 0 };
    });
  },
  slice: (ctx, seconds, round) =>
    timed(1, seconds, async (w, i) => {
      const key = `sse/small/${round}-${w}-${i}`;
      const res = await ctx.c.call("PUT", `/${BUCKET}/${key}`, SMALL, "", false, SSE_S3);
      if (ok(res.status)) ctx.sseKeys.push(key);
      return { ok: ok(res.status), bytes: SMALL.length };
    }),
};

const sseGet: Scenario = {
  name: "get-4k-sse-c1",
  rounds: 4,
  kinds: SERVERS,
  setup: (ctx) => {
    if (ctx.sseKeys.length === 0) ctx.skip = "no keys written (run put-4k-sse-c1 first)";
    return Promise.resolve();
  },
  slice: (ctx, seconds) =>
    timed(1, seconds, async (_w, i) => {
      const keys = ctx.sseKeys;
      const res = await ctx.c.call("GET", `/${BUCKET}/${keys[(i * 7919) % keys.length]}`);
      return { ok: ok(res.status) && res.bytes === SMALL.length, bytes: res.bytes };
    }),
};

const bigPutSse: Scenario = {
  name: "put-64m-sse-c1",
  rounds: 4,
  kinds: SERVERS,
  setup: async (ctx) => void await ctx.c.call("PUT", `/${BUCKET}/sse/warm`, BIG, "", false, SSE_S3),
  slice: (ctx, seconds) =>
    timed(1, seconds, async (_w, i) => {
      const res = await ctx.c.call("PUT", `/${BUCKET}/sse/big/${i % 2}`, BIG, "", false, SSE_S3);
      return { ok: ok(res.status), bytes: BIG.length };
    }),
};

const bigGetSse: Scenario = {
  name: "get-64m-sse-c1",
  rounds: 4,
  kinds: SERVERS,
  setup: async (ctx) => {
    for (const k of ["g0", "g1"]) {
      const put = await ctx.c.call("PUT", `/${BUCKET}/sse/big/${k}`, BIG, "", false, SSE_S3);
      if (!ok(put.status)) throw new Error(`${ctx.target}: PUT sse/big/${k} failed: ${put.status}`);
      await ctx.c.call("GET", `/${BUCKET}/sse/big/${k}`);
    }
  },
  slice: (ctx, seconds) =>
    timed(1, seconds, async (_w, i) => {
      const res = await ctx.c.call("GET", `/${BUCKET}/sse/big/g${i % 2}`);
      return { ok: ok(res.status) && res.bytes === BIG.length, bytes: res.bytes };
    }),
};

const SCENARIOS: Scenario[] = [
  smallPut(1),
  ssePut,
  smallPut(32),
  smallPut(1, FILE_SMALL, "64k"),
  smallPut(32, FILE_SMALL, "64k"),
  smallGet(1),
  sseGet,
  smallGet(32),
  mixed,
  bigPut,
  bigPutSse,
  bigGet,
  bigGetSse,
  listKeys,
  deleteKeys,
  multipartUpload,
  multipartDownload,
];

function skipped(scenario: string, ctx: Ctx, why: string): RunResult {
  return {
    scenario,
    target: ctx.target,
    kind: ctx.kind,
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
 * Bytes a process has caused to be written to the storage layer (`write_bytes` of
 * `/proc/<pid>/io`: file data and Deno KV's WAL and checkpoints, counted when the page cache
 * hands them to the disk, so a slice's figure may include some of what the previous one
 * dirtied). Null where `/proc` does not say.
 */
function writtenBytes(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const m = /^write_bytes:\s*(\d+)$/m.exec(Deno.readTextFileSync(`/proc/${pid}/io`));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/**
 * CPU time a process has used, in ns: the sum over its threads of `/proc/<pid>/task/<tid>/schedstat`
 * (time on a CPU, ns resolution; a thread that ended between two readings is not counted). Null
 * where `/proc` does not say.
 */
function cpuNanos(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    let ns = 0;
    for (const t of Deno.readDirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(Deno.readTextFileSync(`/proc/${pid}/task/${t.name}/schedstat`).split(" ")[0]);
      } catch { /* the thread ended */ }
    }
    return ns;
  } catch {
    return null;
  }
}

/** One side of a scenario's alternation: a target, or the in-process reference. */
interface Runner {
  name: string;
  kind: RunResult["kind"];
  ctx?: Ctx;
  slice: (seconds: number, round: number) => Promise<Sample>;
}

async function runScenario(s: Scenario, ctxs: Ctx[], seconds: number): Promise<RunResult[]> {
  const mine = ctxs.filter((c) => s.kinds.includes(c.kind));
  for (const ctx of mine) {
    ctx.skip = undefined;
    await s.setup?.(ctx);
  }
  const runners: Runner[] = mine.map((ctx) => ({
    name: ctx.target,
    kind: ctx.kind,
    ctx,
    slice: (sec, r) => s.slice(ctx, sec, r),
  }));
  if (s.local) runners.push({ name: "md5", kind: "md5", slice: s.local });
  const acc = new Map(
    runners.map((r) => [r, {
      lat: [] as number[],
      bytes: 0,
      seconds: 0,
      errors: 0,
      written: 0 as number | null,
      cpu: 0 as number | null,
    }]),
  );
  for (let r = 0; r < s.rounds; r++) {
    const order = r % 2 === 0 ? runners : [...runners].reverse();
    for (const runner of order) {
      if (runner.ctx?.skip) continue;
      const pid = runner.ctx?.cfg.targets.find((t) => t.name === runner.name)?.pid;
      const w0 = writtenBytes(pid);
      const c0 = cpuNanos(pid);
      const x = await runner.slice(seconds / s.rounds, r);
      const c1 = cpuNanos(pid);
      const w1 = writtenBytes(pid);
      const a = acc.get(runner)!;
      a.written = a.written === null || w0 === null || w1 === null ? null : a.written + w1 - w0;
      a.cpu = a.cpu === null || c0 === null || c1 === null ? null : a.cpu + c1 - c0;
      a.lat.push(...x.lat);
      a.bytes += x.bytes;
      a.seconds += x.seconds;
      a.errors += x.errors;
    }
  }
  return runners.map((runner) => {
    if (runner.ctx?.skip) return skipped(s.name, runner.ctx, runner.ctx.skip);
    const a = acc.get(runner)!;
    const out = summarize(s.name, runner.name, runner.kind, a.lat, a.bytes, a.seconds, a.errors);
    if (runner.ctx && a.written !== null) out.written = a.written;
    if (runner.ctx && a.cpu !== null) out.cpuNs = a.cpu;
    if (s.note) out.note = s.note;
    return out;
  });
}

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
    kind: t.kind,
    cfg,
    smallKeys: [],
    sseKeys: [],
  }));
  for (const ctx of ctxs) {
    const r = await ctx.c.call("PUT", `/${BUCKET}`);
    if (!ok(r.status)) throw new Error(`${ctx.target}: cannot create bucket: ${r.status}`);
    const setup = cfg.targets.find((t) => t.name === ctx.target)?.setup ?? [];
    for (const [query, xml] of setup) {
      const md5 = createHash("md5").update(xml).digest("base64");
      const res = await ctx.c.call("PUT", `/${BUCKET}`, xml, query, true, { "content-md5": md5 });
      if (!ok(res.status)) {
        throw new Error(`${ctx.target}: PUT ?${query}: ${res.status} ${res.text}`);
      }
    }
  }
  for (const s of SCENARIOS) {
    const selected = cfg.only.length === 0 || cfg.only.includes(s.name) ||
      (s === sseGet && cfg.only.includes(ssePut.name)) ||
      (s === multipartDownload && cfg.only.includes(multipartUpload.name));
    if (!selected) continue;
    const results = await runScenario(s, ctxs, cfg.seconds);
    if (s === multipartUpload) {
      for (const ctx of ctxs) ctx.multipartSkipped = ctx.skip;
    }
    for (const r of results) console.log(JSON.stringify(r));
  }
}

if (import.meta.main) await main();
