/**
 * Helpers for round trips with real S3 command-line clients (aws cli, rclone, s3cmd, boto3):
 * running one with a bounded time, its configuration, and building/comparing file trees. Finding
 * a client, and what a missing one does to a test, is programs.ts's business.
 */
import { assertEquals } from "./assert.ts";
import { bodyBytes, randomBytes, type TestServer } from "./server.ts";
import { GetObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";

/** Files every client uploads: a nested folder, an empty file and an odd key name. */
export const FIXTURE: Record<string, Uint8Array> = {
  "hello.txt": new TextEncoder().encode("hello, world\n"),
  "empty.txt": new Uint8Array(0),
  "data.bin": randomBytes(1536 * 1024, 7),
  "nested/deeper/leaf.bin": randomBytes(200 * 1024, 8),
  "nested/odd name + ünï (1) & 100%.txt": new TextEncoder().encode("odd key\n"),
};

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command with a time limit; throws with its output when it fails. */
export async function run(
  cmd: string,
  args: string[],
  opts: {
    env?: Record<string, string>;
    /** Inherited variables to drop (e.g. AWS_CA_BUNDLE, which rclone cannot use over http). */
    unset?: string[];
    cwd?: string;
    timeoutMs?: number;
    check?: boolean;
  } = {},
): Promise<RunResult> {
  const env = { ...Deno.env.toObject(), ...opts.env };
  for (const name of opts.unset ?? []) delete env[name];
  const out = await new Deno.Command(cmd, {
    args,
    env,
    clearEnv: true,
    cwd: opts.cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(opts.timeoutMs ?? 60_000),
  }).output();
  const dec = new TextDecoder();
  const res = { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  if ((opts.check ?? true) && res.code !== 0) {
    throw new Error(
      `${cmd} ${
        args.join(" ")
      } exited with ${res.code}\n--- stdout\n${res.stdout}\n--- stderr\n${res.stderr}`,
    );
  }
  return res;
}

/** Writes a file tree under `dir`. */
export async function writeTree(dir: string, files: Record<string, Uint8Array>): Promise<void> {
  for (const [rel, data] of Object.entries(files)) {
    const path = `${dir}/${rel}`;
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    await Deno.writeFile(path, data);
  }
}

/** Reads every file under `dir` into a map of relative path -> bytes. */
export async function readTree(dir: string): Promise<Record<string, Uint8Array>> {
  const out: Record<string, Uint8Array> = {};
  const walk = async (d: string, rel: string) => {
    for await (const e of Deno.readDir(d)) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory) await walk(`${d}/${e.name}`, r);
      else if (e.isFile) out[r] = await Deno.readFile(`${d}/${e.name}`);
    }
  };
  await walk(dir, "");
  return out;
}

/** Asserts two trees hold the same paths with the same bytes (sizes in the message). */
export function assertSameTree(
  actual: Record<string, Uint8Array>,
  expected: Record<string, Uint8Array>,
  what: string,
): void {
  assertEquals(Object.keys(actual).sort(), Object.keys(expected).sort(), `${what}: paths`);
  for (const [k, v] of Object.entries(expected)) {
    const got = actual[k];
    assertEquals(got.length, v.length, `${what}: size of ${k}`);
    assertEquals(bytesEqual(got, v), true, `${what}: bytes of ${k}`);
  }
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** What the server holds under `prefix`, read back with the AWS SDK (independent of the tool). */
export async function serverTree(
  srv: TestServer,
  bucket: string,
  prefix: string,
): Promise<Record<string, Uint8Array>> {
  const s3 = srv.client();
  try {
    const out: Record<string, Uint8Array> = {};
    let token: string | undefined;
    for (let page = 0; page < 100; page++) {
      const list = await s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const c of list.Contents ?? []) {
        const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: c.Key! }));
        out[c.Key!.slice(prefix.length)] = await bodyBytes(got.Body);
      }
      if (!list.IsTruncated) break;
      token = list.NextContinuationToken;
    }
    return out;
  } finally {
    s3.destroy();
  }
}

/** A fresh temp dir with the fixture written into `src/` and an empty `dl/`. */
export async function workDir(): Promise<{ root: string; src: string; dl: string }> {
  const root = await Deno.makeTempDir({ prefix: "maxiofs-cli-" });
  const src = `${root}/src`;
  const dl = `${root}/dl`;
  await writeTree(src, FIXTURE);
  await Deno.mkdir(dl);
  return { root, src, dl };
}

/**
 * Environment for the aws cli with path-style addressing and no inherited credentials or config
 * (the config file is written under `dir`). `oneAttempt` turns off retries, so a stalled or
 * failed request fails the test instead of hiding behind a retry.
 */
export async function awsEnv(
  srv: TestServer,
  dir: string,
  opts: { oneAttempt?: boolean } = {},
): Promise<Record<string, string>> {
  const config = `${dir}/aws-config`;
  await Deno.writeTextFile(
    config,
    "[default]\nregion = us-east-1\n" +
      (opts.oneAttempt ? "retry_mode = standard\nmax_attempts = 1\n" : "") +
      "s3 =\n  addressing_style = path\n",
  );
  return {
    AWS_ACCESS_KEY_ID: srv.accessKey,
    AWS_SECRET_ACCESS_KEY: srv.secretKey,
    AWS_DEFAULT_REGION: "us-east-1",
    AWS_CONFIG_FILE: config,
    AWS_SHARED_CREDENTIALS_FILE: `${dir}/no-credentials`,
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_PAGER: "",
  };
}

/**
 * rclone configured purely from the environment (remote `<remote>:`), with one retry and a
 * bounded run time. AWS_CA_BUNDLE is dropped: rclone cannot use it over plain http.
 */
export function rcloneRunner(
  rclonePath: string,
  srv: TestServer,
  dir: string,
  remote: string,
): (...args: string[]) => Promise<RunResult> {
  const r = `RCLONE_CONFIG_${remote.toUpperCase()}`;
  const env = {
    RCLONE_CONFIG: `${dir}/rclone.conf`,
    [`${r}_TYPE`]: "s3",
    [`${r}_PROVIDER`]: "Other",
    [`${r}_ACCESS_KEY_ID`]: srv.accessKey,
    [`${r}_SECRET_ACCESS_KEY`]: srv.secretKey,
    [`${r}_ENDPOINT`]: srv.endpoint,
    [`${r}_REGION`]: "us-east-1",
    [`${r}_FORCE_PATH_STYLE`]: "true",
  };
  return (...args: string[]) =>
    run(rclonePath, ["--retries", "1", "--low-level-retries", "1", ...args], {
      env,
      unset: ["AWS_CA_BUNDLE"],
      timeoutMs: 120_000,
    });
}

/** Writes an s3cmd config for the server (SigV4, path style over plain http) plus `extra` lines. */
export async function writeS3cmdConfig(
  srv: TestServer,
  path: string,
  extra: string[] = [],
): Promise<void> {
  const host = new URL(srv.endpoint).host;
  await Deno.writeTextFile(
    path,
    [
      "[default]",
      `access_key = ${srv.accessKey}`,
      `secret_key = ${srv.secretKey}`,
      `host_base = ${host}`,
      `host_bucket = ${host}`,
      "bucket_location = us-east-1",
      "use_https = False",
      "signature_v2 = False",
      ...extra,
      "",
    ].join("\n"),
  );
}
