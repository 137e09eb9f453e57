/**
 * Builds the S3 side of the server from a configuration: storage, credentials, the handler and
 * background jobs. main.ts composes this with the console.
 */
import type { Config } from "./config.ts";
import type { Clock, Logger } from "./storage/core.ts";
import { systemClock } from "./storage/core.ts";
import { type OpenedStorage, openStorage } from "./storage/backend.ts";
import { loadOrCreateSecrets, SecretBox, type ServerSecrets } from "./iam/secrets.ts";
import { loadRootCredential, rootCredentialStore } from "./iam/root.ts";
import type { CredentialStore } from "./iam/types.ts";
import { ownerOnlyAuthorizer } from "./iam/authorizer.ts";
import { createS3Handler } from "./s3/handler.ts";
import { type LifecycleWorker, startLifecycleWorker } from "./features/lifecycle/worker.ts";
import type { Authorizer, S3Deps } from "./s3/context.ts";

/** How long a blob may sit unpublished before the periodic sweep treats it as an orphan. */
export const SWEEP_GRACE_MS = 6 * 3600 * 1000;

export interface S3App {
  storage: OpenedStorage;
  secrets: ServerSecrets;
  box: SecretBox;
  root: { accessKeyId: string; secretAccessKey: string; generated: boolean };
  handler: (req: Request) => Promise<Response>;
  deps: S3Deps;
  /** Bucket lifecycle rules; `runOnce(now)` runs a pass as of a given time (admin, tests). */
  lifecycle: LifecycleWorker;
  /** Stops timers and closes storage. */
  close(): Promise<void>;
}

export interface S3AppOptions {
  log: Logger;
  clock?: Clock;
  /** Extra credential stores (IAM users) consulted after the root key. */
  credentials?: CredentialStore[];
  authorizer?: Authorizer;
}

export async function createS3App(cfg: Config, opts: S3AppOptions): Promise<S3App> {
  const clock = opts.clock ?? systemClock;
  const storage = await openStorage({
    dataDir: cfg.dataDir,
    fsync: cfg.fsync,
    bodyIdleMs: cfg.bodyTimeoutSeconds * 1000,
    hotCacheBytes: cfg.objectCacheMiB * 1024 * 1024,
    listCacheEntries: cfg.listCacheEntries,
    clock,
    log: opts.log,
  });
  try {
    const secrets = await loadOrCreateSecrets(cfg.dataDir);
    const box = new SecretBox(secrets.masterKey);
    const root = await loadRootCredential(cfg.dataDir, box, {
      accessKey: cfg.rootAccessKey,
      secretKey: cfg.rootSecretKey,
    });
    const rootStore = rootCredentialStore(root);
    const extra = opts.credentials ?? [];
    const credentials: CredentialStore = extra.length === 0 ? rootStore : {
      async lookup(id) {
        return (await rootStore.lookup(id)) ?? await firstHit(extra, id);
      },
      touch(id) {
        for (const s of extra) s.touch?.(id);
      },
    };
    const deps: S3Deps = {
      storage: storage.backend,
      credentials,
      authorizer: opts.authorizer ?? ownerOnlyAuthorizer,
      region: cfg.region,
      domain: cfg.domain,
      clock,
      log: opts.log,
    };
    const timers: ReturnType<typeof setInterval>[] = [];
    if (cfg.sweepIntervalSeconds > 0) {
      // One sweep at a time: on a large data dir a pass can outlast a short interval.
      let sweeping = false;
      timers.push(setInterval(() => {
        if (sweeping) return;
        sweeping = true;
        storage.backend.sweep(SWEEP_GRACE_MS)
          .catch((e) => opts.log.error("sweep failed", { error: String(e) }))
          .finally(() => sweeping = false);
      }, cfg.sweepIntervalSeconds * 1000));
    }
    // Multipart upkeep: at start (no Complete can be running, so seals left by a crash are
    // cleared and interrupted cleanups finished), then periodically: uploads older than
    // multipartMaxAgeSeconds (0 = never) are aborted and their blobs freed.
    const mpAgeMs = cfg.multipartMaxAgeSeconds > 0 ? cfg.multipartMaxAgeSeconds * 1000 : Infinity;
    await storage.backend.multipartMaintenance({ maxAgeMs: mpAgeMs, startup: true });
    let mpRunning = false;
    timers.push(setInterval(() => {
      if (mpRunning) return;
      mpRunning = true;
      storage.backend.multipartMaintenance({ maxAgeMs: mpAgeMs, startup: false })
        .catch((e) => opts.log.error("multipart maintenance failed", { error: String(e) }))
        .finally(() => mpRunning = false);
    }, Math.max(1000, Math.min(3600_000, mpAgeMs / 2))));
    const lifecycle = startLifecycleWorker(storage.core, {
      intervalMs: cfg.lifecycleIntervalSeconds * 1000,
      log: opts.log,
    });
    return {
      storage,
      secrets,
      box,
      root,
      handler: createS3Handler(deps),
      deps,
      lifecycle,
      close: async () => {
        lifecycle.stop();
        for (const t of timers) clearInterval(t);
        await storage.close();
      },
    };
  } catch (e) {
    await storage.close();
    throw e;
  }
}

async function firstHit(stores: CredentialStore[], id: string) {
  for (const s of stores) {
    const c = await s.lookup(id);
    if (c) return c;
  }
  return null;
}
