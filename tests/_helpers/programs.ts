/**
 * The external programs tests drive (aws cli, rclone, s3cmd, restic, boto3 and aiosmtpd under
 * python3, Chromium, openssl, Prometheus and promtool) and the one rule for a missing one: on a
 * developer's machine the test is skipped
 * and the reason printed; under CI (`CI` set to anything but "", "0" or "false"; .ci/run sets
 * `CI=true`) the test fails, because .ci/run installs every one of them and a silent skip there
 * would hide a whole family of tests.
 *
 * @example
 * ```ts
 * const restic = await findProgram("restic");
 * Deno.test(needs(restic, {
 *   name: "restic prints its version",
 *   fn: async () => {
 *     await new Deno.Command(restic.path, { args: ["version"] }).output();
 *   },
 * }));
 * ```
 */

export type ProgramName =
  | "aws"
  | "rclone"
  | "s3cmd"
  | "restic"
  | "boto3"
  | "chromium"
  | "aiosmtpd"
  | "openssl"
  | "prometheus"
  | "promtool";

interface ProgramSpec {
  /** The executable looked up on PATH. */
  exe: string;
  /** Arguments that exit 0 only when the program works (pyenv shims exist without it). */
  probe: string[];
  /** The version, from the probe's standard output. */
  version(stdout: string): string;
  /** The Debian package .ci/run installs it from. */
  pkg: string;
}

const firstLine = (s: string) => s.trim().split("\n")[0];

const PROGRAMS: Record<ProgramName, ProgramSpec> = {
  aws: { exe: "aws", probe: ["--version"], version: (s) => s.split(" ")[0], pkg: "awscli" },
  rclone: { exe: "rclone", probe: ["version"], version: firstLine, pkg: "rclone" },
  s3cmd: { exe: "s3cmd", probe: ["--version"], version: firstLine, pkg: "s3cmd" },
  restic: { exe: "restic", probe: ["version"], version: (s) => s.split(" ")[1], pkg: "restic" },
  boto3: {
    exe: "python3",
    probe: ["-c", "import boto3; print('boto3', boto3.__version__)"],
    version: firstLine,
    pkg: "python3-boto3",
  },
  chromium: { exe: "chromium", probe: ["--version"], version: firstLine, pkg: "chromium" },
  aiosmtpd: {
    exe: "python3",
    probe: ["-c", "import aiosmtpd; print('aiosmtpd', aiosmtpd.__version__)"],
    version: firstLine,
    pkg: "python3-aiosmtpd",
  },
  openssl: { exe: "openssl", probe: ["version"], version: (s) => s.split(" ")[1], pkg: "openssl" },
  // "prometheus, version 2.42.0+ds (branch: ...)"; promtool comes in the same package.
  prometheus: {
    exe: "prometheus",
    probe: ["--version"],
    version: (s) => s.split(" ")[2],
    pkg: "prometheus",
  },
  promtool: {
    exe: "promtool",
    probe: ["--version"],
    version: (s) => s.split(" ")[2],
    pkg: "prometheus",
  },
};

/** One working copy of a program. */
export interface Installed {
  path: string;
  version: string;
}

export interface Program {
  name: ProgramName;
  /**
   * Every distinct working copy on PATH, in PATH order (a pip-installed aws cli v1 and Debian's
   * v2 send different headers, so tests that can run each do). Empty when the program is missing.
   */
  installed: Installed[];
  /** The first working copy's path; "" when missing (a test that runs then is skipped or fails). */
  path: string;
}

/** Whether the tests run under CI, where a missing program is a failure instead of a skip. */
export function inCI(): boolean {
  const ci = (Deno.env.get("CI") ?? "").toLowerCase();
  return ci !== "" && ci !== "0" && ci !== "false";
}

/** Looks `name` up on PATH and probes each distinct copy. */
export async function findProgram(name: ProgramName): Promise<Program> {
  const spec = PROGRAMS[name];
  const installed: Installed[] = [];
  for (const path of await onPath(spec.exe)) {
    const stdout = await probe(path, spec.probe);
    if (stdout !== null) installed.push({ path, version: spec.version(stdout) });
  }
  return { name, installed, path: installed[0]?.path ?? "" };
}

/**
 * The copies to run a step for: every installed one, or one stand-in named after the program
 * when none is (its step still appears, and `needs` skips or fails it).
 */
export function copiesOf(p: Program): Installed[] {
  return p.installed.length ? p.installed : [{ path: PROGRAMS[p.name].exe, version: p.name }];
}

/** Why `program` cannot run here (for skip and failure messages). */
function missingReason(p: Program): string {
  const spec = PROGRAMS[p.name];
  const what = spec.exe === "python3" ? `python3 with ${p.name}` : spec.exe;
  return `${what} is not installed (no working ${spec.exe} on PATH); ` +
    `install the Debian package ${spec.pkg}, as .ci/run does`;
}

/** What a test or step definition needs here: a name and a body. */
interface Runnable {
  name: string;
  ignore?: boolean;
  fn: (t: Deno.TestContext) => void | Promise<void>;
}

/**
 * A `Deno.test` or `t.step` definition that runs only when every program in `programs` is
 * installed. When one is missing it is skipped with the reason printed, or under CI it fails with
 * that reason (`opts.ci` overrides what the environment says).
 */
export function needs<D extends Runnable>(
  programs: Program | Program[],
  def: D,
  opts: { ci?: boolean } = {},
): D & { ignore?: boolean } {
  const missing = [programs].flat().filter((p) => p.installed.length === 0);
  if (missing.length === 0) return def;
  const reason = missing.map(missingReason).join("; ");
  if (opts.ci ?? inCI()) {
    return {
      ...def,
      fn: () => {
        throw new Error(`${def.name}: ${reason} (CI is set: every client program is required)`);
      },
    };
  }
  console.warn(`skipping "${def.name}": ${reason}`);
  return { ...def, ignore: true };
}

/** Every executable named `exe` on PATH, one per real file. */
async function onPath(exe: string): Promise<string[]> {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (!dir) continue;
    const path = `${dir}/${exe}`;
    try {
      const st = await Deno.stat(path);
      if (!st.isFile || ((st.mode ?? 0o111) & 0o111) === 0) continue;
      const real = await Deno.realPath(path);
      if (seen.has(real)) continue;
      seen.add(real);
      out.push(path);
    } catch {
      // not in this directory
    }
  }
  return out;
}

/** The probe's standard output when it exits 0 within 30 s, else null. */
async function probe(path: string, args: string[]): Promise<string | null> {
  try {
    const out = await new Deno.Command(path, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "null",
      signal: AbortSignal.timeout(30_000),
    }).output();
    return out.success ? new TextDecoder().decode(out.stdout) : null;
  } catch {
    return null;
  }
}
