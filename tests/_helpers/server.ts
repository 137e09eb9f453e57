/**
 * Starts the real server (main.ts) as a child process on ephemeral ports with a temp data dir,
 * and builds clients for it.
 */
import { S3Client } from "@aws-sdk/client-s3";

export const TEST_ACCESS_KEY = "AKIATESTROOT00000001";
export const TEST_SECRET_KEY = "testsecretkey0000000000000000000000000000";
export const REGION = "us-east-1";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

export interface TestServer {
  endpoint: string;
  consoleUrl: string;
  port: number;
  dataDir: string;
  accessKey: string;
  secretKey: string;
  child: Deno.ChildProcess;
  /** Output lines seen so far (stdout and stderr). */
  output: string[];
  /**
   * The first output line from index `from` on (default 0) that matches `re`, once it is printed;
   * rejects when the server's output ends without one.
   */
  waitForOutput(re: RegExp, from?: number): Promise<string>;
  client(opts?: { forcePathStyle?: boolean; endpoint?: string }): S3Client;
  /** Graceful stop (SIGTERM) and removal of the data dir unless `keepData`. */
  stop(opts?: { keepData?: boolean }): Promise<void>;
  /** SIGKILL, keeping the data dir. */
  kill9(): Promise<void>;
}

export interface StartOptions {
  dataDir?: string;
  env?: Record<string, string>;
  args?: string[];
  /** Run a different entry (e.g. the bundled single file). */
  entry?: string;
  /** Use the fixed test root credentials (default true). */
  fixedRoot?: boolean;
}

async function readLines(stream: ReadableStream<Uint8Array>, onLine: (l: string) => void) {
  const dec = new TextDecoder();
  let buf = "";
  for await (const chunk of stream) {
    buf += dec.decode(chunk, { stream: true });
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      onLine(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  }
  if (buf) onLine(buf);
}

export async function startServer(opts: StartOptions = {}): Promise<TestServer> {
  const dataDir = opts.dataDir ?? await Deno.makeTempDir({ prefix: "maxiofs-test-" });
  const env: Record<string, string> = { ...opts.env };
  if (opts.fixedRoot !== false) {
    env.MAXIOFS_ROOT_ACCESS_KEY ??= TEST_ACCESS_KEY;
    env.MAXIOFS_ROOT_SECRET_KEY ??= TEST_SECRET_KEY;
  }
  env.MAXIOFS_LOG_LEVEL ??= "warn";
  const entry = opts.entry ?? MAIN;
  const cmd = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "--unstable-kv",
      "--unstable-net",
      entry,
      "--data-dir",
      dataDir,
      "--listen",
      "127.0.0.1:0",
      "--console-listen",
      "127.0.0.1:0",
      ...(opts.args ?? []),
    ],
    env,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  });
  const child = cmd.spawn();
  const output: string[] = [];
  const waiters = new Set<{ re: RegExp; from: number } & PromiseWithResolvers<string>>();
  const s3Ready = Promise.withResolvers<string>();
  const consoleReady = Promise.withResolvers<string>();
  const onLine = (l: string) => {
    output.push(l);
    for (const w of waiters) {
      if (output.length - 1 >= w.from && w.re.test(l)) {
        waiters.delete(w);
        w.resolve(l);
      }
    }
    const m = /S3 API listening on (https?:\/\/\S+)/.exec(l);
    if (m) s3Ready.resolve(m[1]);
    const c = /Console listening on (https?:\/\/\S+)/.exec(l);
    if (c) consoleReady.resolve(c[1]);
  };
  const pumps = Promise.all([readLines(child.stdout, onLine), readLines(child.stderr, onLine)]);
  const outputEnded = () => {
    for (const w of waiters) {
      w.reject(new Error(`no output line matched ${w.re}:\n${output.join("\n")}`));
    }
    waiters.clear();
  };
  pumps.then(outputEnded, outputEnded);
  const timeout = setTimeout(() => {
    s3Ready.reject(new Error(`server did not start:\n${output.join("\n")}`));
  }, 30_000);
  // The output is complete only once both pipes are drained, which can be after the exit status.
  Promise.all([child.status, pumps]).then(([s]) => {
    s3Ready.reject(new Error(`server exited with ${s.code}:\n${output.join("\n")}`));
  });
  let endpoint: string;
  let consoleUrl: string;
  try {
    endpoint = await s3Ready.promise;
    consoleUrl = await consoleReady.promise;
  } finally {
    clearTimeout(timeout);
  }
  const port = Number(new URL(endpoint).port);
  const accessKey = env.MAXIOFS_ROOT_ACCESS_KEY ?? "";
  const secretKey = env.MAXIOFS_ROOT_SECRET_KEY ?? "";
  let stopped = false;
  const finish = async (signal: Deno.Signal) => {
    if (stopped) return;
    stopped = true;
    try {
      child.kill(signal);
    } catch { /* already gone */ }
    await child.status;
    await pumps;
  };
  return {
    endpoint,
    consoleUrl,
    port,
    dataDir,
    accessKey,
    secretKey,
    child,
    output,
    waitForOutput: (re, from = 0) => {
      const seen = output.slice(from).find((l) => re.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      const waiter = { re, from, ...Promise.withResolvers<string>() };
      waiters.add(waiter);
      return waiter.promise;
    },
    client: (o = {}) =>
      new S3Client({
        endpoint: o.endpoint ?? endpoint,
        region: REGION,
        forcePathStyle: o.forcePathStyle ?? true,
        credentials: { accessKeyId: accessKey, secretAccessKey: secretKey },
        maxAttempts: 1,
      }),
    stop: async (o = {}) => {
      await finish("SIGTERM");
      if (!o.keepData && !opts.dataDir) {
        await Deno.remove(dataDir, { recursive: true }).catch(() => {});
      }
    },
    kill9: () => finish("SIGKILL"),
  };
}

/** Reads a whole response body stream from the SDK into bytes. */
export async function bodyBytes(body: unknown): Promise<Uint8Array> {
  const b = body as { transformToByteArray?: () => Promise<Uint8Array> };
  if (b?.transformToByteArray) return await b.transformToByteArray();
  throw new Error("unexpected body type");
}

/** Deterministic pseudo-random bytes (fast, for large test bodies). */
export function randomBytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
