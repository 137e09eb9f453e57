/**
 * The server under test for the scale benchmark: main.ts as a child process on 127.0.0.1:0 with
 * default settings, and what the benchmark reads from outside it: resident memory and bytes
 * written (/proc/<pid>/status and /proc/<pid>/io; the child is the deno process itself, so its
 * pid is the server's) and the data dir's size on disk. Started by the tests' helper; a restart
 * is a stop and a new start on the same data dir (the port changes; the client is rebuilt).
 */

import { startServer, type TestServer } from "../../tests/_helpers/server.ts";

/** Byte counters of /proc/<pid>/io. */
export interface IoCounters {
  /** Bytes handed to write(2) and friends. */
  wchar: number;
  /** Bytes this process caused to be sent to the storage layer (dirtied page cache included). */
  writeBytes: number;
}

export interface MemoryFigures {
  rssBytes: number;
  peakRssBytes: number;
}

export interface DiskUsage {
  /** Allocated bytes (st_blocks * 512), what `du` shows. */
  allocated: number;
  /** Sum of file sizes. */
  apparent: number;
  /** Allocated bytes by top-level entry of the data dir. */
  byEntry: Record<string, number>;
}

export class ScaleServer {
  private constructor(readonly server: TestServer) {}

  get pid(): number {
    return this.server.child.pid;
  }

  get url(): string {
    return this.server.endpoint;
  }

  /** The console listener (the object search step uses its API). */
  get consoleUrl(): string {
    return this.server.consoleUrl;
  }

  /** Starts main.ts on `dataDir` (kept on stop) and resolves once it listens. */
  static async start(dataDir: string, env: Record<string, string>): Promise<ScaleServer> {
    return new ScaleServer(await startServer({ dataDir, env }));
  }

  /** SIGTERM (graceful stop) and the time until the process exited, in ms. */
  async stop(): Promise<number> {
    const t0 = performance.now();
    await this.server.stop({ keepData: true });
    return performance.now() - t0;
  }

  async memory(): Promise<MemoryFigures> {
    const status = await Deno.readTextFile(`/proc/${this.pid}/status`);
    const kib = (name: string) =>
      Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1]);
    return { rssBytes: kib("VmRSS") * 1024, peakRssBytes: kib("VmHWM") * 1024 };
  }

  async io(): Promise<IoCounters> {
    const io = await Deno.readTextFile(`/proc/${this.pid}/io`);
    const field = (name: string) => Number(new RegExp(`^${name}: (\\d+)`, "m").exec(io)?.[1]);
    return { wchar: field("wchar"), writeBytes: field("write_bytes") };
  }

  /** Errors the server logged (its log level is warn, so these are the lines worth a look). */
  errorLines(): string[] {
    return this.server.output.filter((l) => /error/i.test(l));
  }
}

/** Size on disk of everything under `dir`. */
export async function diskUsage(dir: string): Promise<DiskUsage> {
  const out: DiskUsage = { allocated: 0, apparent: 0, byEntry: {} };
  const walk = async (path: string, top: string) => {
    // Temp files come and go while the server runs.
    const st = await Deno.lstat(path).catch((e) => {
      if (e instanceof Deno.errors.NotFound) return null;
      throw e;
    });
    if (!st) return;
    const allocated = (st.blocks ?? 0) * 512;
    out.allocated += allocated;
    out.apparent += st.size;
    out.byEntry[top] = (out.byEntry[top] ?? 0) + allocated;
    if (!st.isDirectory) return;
    try {
      for await (const e of Deno.readDir(path)) await walk(`${path}/${e.name}`, top);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  };
  for await (const e of Deno.readDir(dir)) await walk(`${dir}/${e.name}`, e.name);
  return out;
}
