/**
 * The server in-process (the same `createServerApp` main.ts uses), for tests that drive
 * background work directly with an injected clock (e.g. `app.lifecycle.runOnce(now)` "days
 * later", or `app.storage.backend.multipartMaintenance(...)`), with an SDK client on it.
 */
import { S3Client } from "@aws-sdk/client-s3";
import { loadConfig } from "../../server/config.ts";
import { createServerApp } from "../../server/app.ts";
import type { Clock } from "../../server/clock.ts";
import { REGION, TEST_ACCESS_KEY, TEST_SECRET_KEY } from "./server.ts";

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

export interface AppOptions {
  /** An existing data dir (kept at stop); by default a fresh temp dir, removed at stop. */
  dataDir?: string;
  /** Flags after the defaults (so they win), e.g. `["--multipart-max-age", "600"]`. */
  args?: string[];
  /** The app's clock (requests are signed with the real one: stay within 15 minutes of it). */
  clock?: Clock;
  /** Stop each rewrap pass of a master-key rotation after this many entries. */
  rotationPassLimit?: number;
}

export async function startApp(opts: AppOptions = {}) {
  const dir = opts.dataDir ?? await Deno.makeTempDir({ prefix: "maxiofs-lc-" });
  const cfg = loadConfig({
    args: [
      "--data-dir",
      dir,
      "--lifecycle-interval",
      "0",
      "--sweep-interval",
      "0",
      "--root-access-key",
      TEST_ACCESS_KEY,
      "--root-secret-key",
      TEST_SECRET_KEY,
      ...(opts.args ?? []),
    ],
    env: {},
  });
  const app = await createServerApp(cfg, {
    log: quiet,
    clock: opts.clock,
    rotationPassLimit: opts.rotationPassLimit,
  });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req, info) => app.handler(req, app.clients.resolve(req, info.remoteAddr.hostname)),
  );
  const endpoint = `http://127.0.0.1:${server.addr.port}`;
  const client = (accessKeyId: string, secretAccessKey: string) =>
    new S3Client({
      endpoint,
      region: REGION,
      forcePathStyle: true,
      credentials: { accessKeyId, secretAccessKey },
      maxAttempts: 1,
    });
  const s3 = client(TEST_ACCESS_KEY, TEST_SECRET_KEY);
  return {
    app,
    /** A client with the root key. */
    s3,
    /** A client with another key (e.g. of an IAM user); the caller destroys it. */
    client,
    dataDir: dir,
    /** The S3 listener's URL (for requests the SDK will not send). */
    endpoint,
    async stop() {
      s3.destroy();
      await server.shutdown();
      await app.close();
      if (!opts.dataDir) await Deno.remove(dir, { recursive: true });
    },
  };
}
