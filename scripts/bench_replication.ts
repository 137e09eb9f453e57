/**
 * Replication lag: two servers on loopback (main.ts, temp data dirs, --allow-private-endpoints),
 * a real-time rule from the source bucket to the destination, then small objects PUT at a steady
 * rate. Lag is the time from a PUT's answer at the source to the key's first sighting in the
 * destination's listing (listed every `--poll` ms, so figures are that coarse). The same rate is
 * also PUT first to a bucket of the same server without a rule, then to one whose rule is paused
 * (the write path's share: the feed entry and the queue rows, no copying), for the PUT latency
 * with and without replication.
 *
 *   deno run -A --unstable-kv --unstable-net scripts/bench_replication.ts \
 *     [--rate 50] [--seconds 10] [--size 1024] [--poll 10] [--workers 4]
 */
import {
  CreateBucketCommand,
  ListObjectsV2Command,
  PutBucketReplicationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { startServer, type TestServer } from "../tests/_helpers/server.ts";

function flag(name: string, def: number): number {
  const i = Deno.args.indexOf(`--${name}`);
  const v = i >= 0 ? Number(Deno.args[i + 1]) : def;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`Cannot parse --${name}: a positive number`);
  return v;
}

const RATE = flag("rate", 50);
const SECONDS = flag("seconds", 10);
const SIZE = flag("size", 1024);
const POLL_MS = flag("poll", 10);
const WORKERS = flag("workers", 4);
const ADMIN = "admin";
const PASSWORD = "Bench-replication-1";

/** The value at quantile `q` of sorted `xs`. */
export function quantile(xs: number[], q: number): number {
  if (!xs.length) return NaN;
  return xs[Math.min(xs.length - 1, Math.floor(q * xs.length))];
}

async function consoleToken(srv: TestServer): Promise<string> {
  const res = await fetch(`${srv.consoleUrl}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: ADMIN, password: PASSWORD }),
  });
  const body = await res.json();
  if (!res.ok) throw new Error(`login: ${res.status} ${JSON.stringify(body)}`);
  return body.token;
}

async function versioned(s3: S3Client, bucket: string) {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(
    new PutBucketVersioningCommand({
      Bucket: bucket,
      VersioningConfiguration: { Status: "Enabled" },
    }),
  );
}

/** PUTs `n` objects at RATE per second; the time each PUT answered (ms, performance.now). */
async function steadyPuts(
  s3: S3Client,
  bucket: string,
  n: number,
  onDone: (i: number, at: number, latency: number) => void,
): Promise<void> {
  const body = new Uint8Array(SIZE).fill(97);
  const start = performance.now();
  const running: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const due = start + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const t0 = performance.now();
    running.push(
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: keyOf(i), Body: body })).then(() => {
        const t1 = performance.now();
        onDone(i, t1, t1 - t0);
      }),
    );
  }
  await Promise.all(running);
}

const keyOf = (i: number) => `bench/${String(i).padStart(7, "0")}`;

function summary(name: string, xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const f = (v: number) => `${v.toFixed(1)} ms`;
  return `${name.padEnd(28)} n=${s.length}  p50 ${f(quantile(s, 0.5))}  p95 ${
    f(quantile(s, 0.95))
  }  max ${f(s.at(-1) ?? NaN)}`;
}

async function main(): Promise<number> {
  const env = { MAXIOFS_ROOT_USER: ADMIN, MAXIOFS_ROOT_PASSWORD: PASSWORD };
  const args = ["--allow-private-endpoints", "--replication-workers", String(WORKERS)];
  const dst = await startServer({ env, args });
  const src = await startServer({ env, args });
  try {
    const a = src.client();
    const b = dst.client();
    await versioned(b, "dst");
    await versioned(a, "src");
    await versioned(a, "plain");
    await versioned(a, "held");
    const token = await consoleToken(src);
    const put = await fetch(`${src.consoleUrl}/api/v1/replication/destinations/dst`, {
      method: "PUT",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({
        endpoint: dst.endpoint,
        bucket: "dst",
        accessKey: dst.accessKey,
        secretKey: dst.secretKey,
      }),
    });
    if (!put.ok) throw new Error(`destination: ${put.status} ${await put.text()}`);
    for (const bucket of ["src", "held"]) {
      await a.send(
        new PutBucketReplicationCommand({
          Bucket: bucket,
          ReplicationConfiguration: {
            Role: "",
            Rules: [{
              ID: "bench",
              Priority: 1,
              Status: "Enabled",
              Filter: { Prefix: "" },
              DeleteMarkerReplication: { Status: "Disabled" },
              Destination: { Bucket: "arn:aws:s3:::dst" },
            }],
          },
        }),
      );
    }
    const paused = await fetch(
      `${src.consoleUrl}/api/v1/buckets/held/replication/rules/bench/pause`,
      { method: "POST", headers: { authorization: `Bearer ${token}` } },
    );
    if (!paused.ok) throw new Error(`pause: ${paused.status} ${await paused.text()}`);
    const n = Math.round(RATE * SECONDS);

    const plainLatency: number[] = [];
    await steadyPuts(a, "plain", n, (_i, _at, l) => plainLatency.push(l));
    const heldLatency: number[] = [];
    await steadyPuts(a, "held", n, (_i, _at, l) => heldLatency.push(l));

    const putAt = new Map<number, number>();
    const replLatency: number[] = [];
    const lag: number[] = [];
    let done = false;
    let oldest = 0;
    const seen = new Set<number>();
    let doneAt = Infinity;
    const watcher = (async () => {
      while (!done || seen.size < n) {
        if (performance.now() - doneAt > 60_000) {
          throw new Error(`${n - seen.size} objects never reached the destination`);
        }
        const out = await b.send(
          new ListObjectsV2Command({
            Bucket: "dst",
            StartAfter: oldest > 0 ? keyOf(oldest - 1) : undefined,
            MaxKeys: 1000,
          }),
        );
        const now = performance.now();
        for (const o of out.Contents ?? []) {
          const i = Number(o.Key!.slice("bench/".length));
          const at = putAt.get(i);
          if (at === undefined || seen.has(i)) continue; // listed before its PUT answered
          seen.add(i);
          lag.push(Math.max(0, now - at));
        }
        while (seen.has(oldest)) oldest++;
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
    })();
    await steadyPuts(a, "src", n, (i, at, l) => {
      putAt.set(i, at);
      replLatency.push(l);
    });
    done = true;
    doneAt = performance.now();
    await watcher;

    console.log(
      `replication lag, ${n} objects of ${SIZE} B at ${RATE}/s, ${WORKERS} workers, listing every ${POLL_MS} ms`,
    );
    console.log(summary("PUT, bucket without a rule", plainLatency));
    console.log(summary("PUT, rule paused (queued)", heldLatency));
    console.log(summary("PUT, bucket with a rule", replLatency));
    console.log(summary("lag (PUT answer to listed)", lag));
    return 0;
  } finally {
    await src.stop();
    await dst.stop();
  }
}

if (import.meta.main) Deno.exit(await main());
