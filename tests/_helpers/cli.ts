/**
 * Helpers for round trips with real S3 command-line clients (aws cli, rclone, s3cmd, boto3):
 * finding the tool, running it with a bounded time, and building/comparing file trees.
 *
 * A missing tool fails the test under CI (where .ci/run installs it) and skips it elsewhere.
 */
import { assertEquals } from "./assert.ts";
import { bodyBytes, randomBytes, type TestServer } from "./server.ts";
import { GetObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";

export const IN_CI = !!Deno.env.get("CI");

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

/** The first executable named `name` on PATH, or null. */
export function which(name: string): string | null {
  if (name.includes("/")) return isExecutable(name) ? name : null;
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (dir && isExecutable(`${dir}/${name}`)) return `${dir}/${name}`;
  }
  return null;
}

function isExecutable(path: string): boolean {
  try {
    const st = Deno.statSync(path);
    return st.isFile && ((st.mode ?? 0o111) & 0o111) !== 0;
  } catch {
    return false;
  }
}

/** Whether `cmd args` runs and exits 0 (pyenv shims exist even when the tool does not). */
export async function works(cmd: string, args: string[]): Promise<boolean> {
  try {
    return (await run(cmd, args, { check: false, timeoutMs: 30_000 })).code === 0;
  } catch {
    return false;
  }
}

/** Step options for a tool: skipped locally when missing, failing under CI. */
export function toolStep(
  name: string,
  available: boolean,
  fn: () => Promise<void>,
): { name: string; ignore: boolean; fn: () => Promise<void> } {
  return {
    name,
    ignore: !available && !IN_CI,
    fn: available ? fn : () => {
      throw new Error(
        `${name}: the tool is not installed. CI installs it with .ci/run (apt-get install awscli ` +
          `rclone s3cmd python3-boto3); install it locally the same way.`,
      );
    },
  };
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

/** `name` on PATH when `name probe` exits 0 (pyenv shims exist even when the tool does not). */
export async function findTool(name: string, probe: string[]): Promise<string | null> {
  const path = which(name);
  return path && await works(path, probe) ? path : null;
}

/** The distinct paths among `paths` whose `path probe` exits 0 (PATH's and Debian's may differ). */
export async function workingPaths(paths: (string | null)[], probe: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    if (p && !out.includes(p) && await works(p, probe)) out.push(p);
  }
  return out;
}

/** Like `workingPaths`, each with the version `versionOf` reads from it (for step names). */
export async function workingVersions(
  paths: (string | null)[],
  probe: string[],
  versionOf: (path: string) => Promise<string>,
): Promise<{ path: string; version: string }[]> {
  const out: { path: string; version: string }[] = [];
  for (const path of await workingPaths(paths, probe)) {
    out.push({ path, version: await versionOf(path) });
  }
  return out;
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
