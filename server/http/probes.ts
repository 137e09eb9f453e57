/**
 * Health probes, at the paths load balancers and Helm charts already use for S3 servers: on the
 * S3 listener `/minio/health/live` (the process answers) and `/minio/health/ready` (storage and
 * IAM's database answer, the data dir takes a synced write, free space is above the threshold);
 * on the console listener `/health` and `/ready`. Unauthenticated, answered before anything else,
 * never logged at info. GET and HEAD; a ready probe that fails is 503 with what failed (JSON).
 */
import type { StorageHealth } from "../storage/mod.ts";

export interface ProbeDeps {
  /** Storage's own checks (Backend.health). */
  storage(minFreeBytes: number): Promise<StorageHealth>;
  /** IAM's database answers a query (throws when it does not). */
  database(): void;
  minFreeBytes: number;
}

export const S3_PROBES = { live: "/minio/health/live", ready: "/minio/health/ready" } as const;
export const CONSOLE_PROBES = { live: "/health", ready: "/ready" } as const;

export interface ReadyReport {
  ready: boolean;
  kv: string;
  database: string;
  dataDir: string;
  space: string;
  freeBytes: number;
}

/** Runs the readiness checks. */
export async function readiness(deps: ProbeDeps): Promise<ReadyReport> {
  let database = "ok";
  try {
    deps.database();
  } catch (e) {
    database = `database: ${e instanceof Error ? e.message : String(e)}`;
  }
  const st = await deps.storage(deps.minFreeBytes);
  return {
    ready: st.ok && database === "ok",
    kv: st.kv.detail,
    database,
    dataDir: st.writable.detail,
    space: st.space.detail,
    freeBytes: st.space.freeBytes,
  };
}

/**
 * The probe answer for `req`, or null when it is no probe (`paths`: the listener's). The path is
 * compared raw: a query string is allowed, as probes sometimes carry one.
 */
export function probeResponse(
  req: Request,
  paths: { live: string; ready: string },
  deps: ProbeDeps,
): Promise<Response> | null {
  if (req.method !== "GET" && req.method !== "HEAD") return null;
  const url = req.url;
  const start = url.indexOf("/", url.indexOf("//") + 2);
  const end = url.indexOf("?", start);
  const path = end < 0 ? url.slice(start) : url.slice(start, end);
  const head = req.method === "HEAD";
  if (path === paths.live) {
    return Promise.resolve(new Response(head ? null : "ok\n", { status: 200, headers: NO_STORE }));
  }
  if (path !== paths.ready) return null;
  return readiness(deps).then((r) =>
    new Response(head ? null : JSON.stringify(r) + "\n", {
      status: r.ready ? 200 : 503,
      headers: { ...NO_STORE, "content-type": "application/json" },
    })
  );
}

const NO_STORE = { "cache-control": "no-store" };
