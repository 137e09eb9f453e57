/**
 * Builds the server from a configuration, in dependency order and nothing after: the data-dir
 * lock -> IAM's database -> storage (enforcing the tenant quotas that database holds) -> secrets
 * -> IAM (over that storage and database) -> the S3 handler (with IAM's credentials, authorizer
 * and request hook) -> background jobs. main.ts adds the listeners and the console
 * (docs/decisions/0005).
 */
import { type Config, trustedProxyList, tuningOf } from "./config.ts";
import { type Clock, systemClock } from "./clock.ts";
import type { Logger } from "./log.ts";
import { type Db, openDb } from "./db/mod.ts";
import { lockDataDir, type OpenedStorage, openStorage, unlockDataDir } from "./storage/mod.ts";
import { loadOrCreateSecrets, SecretBox, type ServerSecrets } from "./iam/secrets.ts";
import { loadRootCredential, rootCredentialStore } from "./iam/root.ts";
import { chainCredentialStores } from "./iam/types.ts";
import { createIam, type Iam, tenantQuotas } from "./iam/mod.ts";
import { ClientResolver } from "./iam/net.ts";
import { createS3Handler, type S3Front } from "./s3/handler.ts";
import { type LifecycleWorker, startLifecycleWorker } from "./features/lifecycle/worker.ts";
import type { S3Handler } from "./s3/context.ts";
import { type ProbeDeps, probeResponse, S3_PROBES } from "./http/probes.ts";
import { accessLogLine } from "./http/access_log.ts";
import { Keyring } from "./crypto/keyring.ts";
import { createObjectKeys } from "./crypto/object_keys.ts";

/** How long a blob may sit unpublished before the periodic sweep treats it as an orphan. */
export const SWEEP_GRACE_MS = 6 * 3600 * 1000;
/** IAM upkeep (audit retention, expired sessions). */
const IAM_MAINTENANCE_MS = 24 * 3600 * 1000;

export interface ServerApp {
  storage: OpenedStorage;
  /** The master keys of encryption at rest (`data_dir/keyring.json`). */
  keyring: Keyring;
  secrets: ServerSecrets;
  box: SecretBox;
  root: { accessKeyId: string; secretAccessKey: string; generated: boolean };
  iam: Iam;
  /**
   * The S3 listener's handler: the health probes (`/minio/health/live|ready`), then the S3 front
   * end; listeners pass who sent each request (`clients.resolve`).
   */
  handler: S3Handler;
  /** What the readiness probes check (the console listener answers `/health` and `/ready`). */
  probes: ProbeDeps;
  /** Runs an S3 request as an already authenticated principal (the console's object API). */
  handleAs: S3Front["handleAs"];
  /** Turns a listener's socket peer into a request's client (trusted proxies applied). */
  clients: ClientResolver;
  /** Bucket lifecycle rules; `runOnce(now)` runs a pass as of a given time (admin, tests). */
  lifecycle: LifecycleWorker;
  /** Stops the background jobs, then closes IAM and storage. */
  close(): Promise<void>;
}

export interface ServerAppOptions {
  log: Logger;
  clock?: Clock;
  /** Where access log lines go (`--access-log`); standard output by default. */
  accessSink?: (line: string) => void;
}

export async function createServerApp(cfg: Config, opts: ServerAppOptions): Promise<ServerApp> {
  const clock = opts.clock ?? systemClock;
  const accessSink = opts.accessSink ?? ((line: string) => console.log(line));
  const log = opts.log;
  // One process per data dir: the lock comes before anything of the dir is opened.
  const lock = await lockDataDir(cfg.dataDir);
  let db: Db;
  try {
    db = openDb(`${cfg.dataDir}/maxiofs.db`);
  } catch (e) {
    await unlockDataDir(lock);
    throw e;
  }
  const tuning = tuningOf(cfg);
  let keyring: Keyring;
  try {
    keyring = await Keyring.open(cfg.dataDir);
  } catch (e) {
    db.close();
    await unlockDataDir(lock);
    throw e;
  }
  // SSE-KMS has no key service until one is wired in: its requests fail as not implemented.
  const keys = createObjectKeys({ keyring, kms: null, macSecret: keyring.secret });
  const storage = await openStorage({
    dataDir: cfg.dataDir,
    fsync: cfg.fsync,
    bodyIdleMs: cfg.bodyTimeoutSeconds * 1000,
    hotCacheBytes: cfg.objectCacheMiB * 1024 * 1024,
    listCacheEntries: cfg.listCacheEntries,
    recordCacheBytes: cfg.recordCacheMiB * 1024 * 1024,
    lock,
    quota: tenantQuotas(db),
    keys,
    tuning,
    clock,
    log,
  }).catch(async (e) => {
    db.close();
    await unlockDataDir(lock);
    throw e;
  });
  let iam: Iam | null = null;
  try {
    const secrets = await loadOrCreateSecrets(cfg.dataDir);
    const box = new SecretBox(secrets.masterKey);
    const root = await loadRootCredential(cfg.dataDir, box, {
      accessKey: cfg.rootAccessKey,
      secretKey: cfg.rootSecretKey,
    });
    iam = createIam({
      db,
      box,
      signingKey: secrets.signingKey,
      clock,
      log,
      storage,
    });
    const ownAccessIam = iam;
    const s3 = createS3Handler({
      storage: storage.backend,
      credentials: chainCredentialStores(rootCredentialStore(root), iam.credentials),
      authorizer: iam.authorizer,
      namespaces: iam.namespaces,
      grantees: iam.grantees,
      defaultObjectOwnership: cfg.objectOwnership,
      encryptNewObjects: cfg.encryptNewObjects,
      sseCOverHttp: cfg.sseCOverHttp,
      principals: iam.principals,
      quotas: tenantQuotas(db),
      onRequest: cfg.accessLog
        ? (info) => {
          ownAccessIam.onS3Request(info);
          accessSink(accessLogLine(info, cfg.logFormat, new Date(clock.now())));
        }
        : iam.onS3Request,
      region: cfg.region,
      domain: cfg.domain,
      tuning,
      clock,
      log,
    });
    // At start no Complete can be running, so seals left by a crash are cleared too.
    const uploadMaxAgeMs = cfg.multipartMaxAgeSeconds > 0
      ? cfg.multipartMaxAgeSeconds * 1000
      : Infinity;
    await storage.backend.multipartMaintenance({ maxAgeMs: uploadMaxAgeMs, startup: true });
    const jobs = startJobs(cfg, storage, iam, log, uploadMaxAgeMs);
    const lifecycle = startLifecycleWorker(storage.backend, {
      intervalMs: cfg.lifecycleIntervalSeconds * 1000,
      log,
      clock,
    });
    const ownIam = iam;
    const probes: ProbeDeps = {
      storage: (minFree) => storage.backend.health(minFree),
      database: () => void db.prepare("SELECT 1").get(),
      minFreeBytes: cfg.readyMinFreeMiB * 2 ** 20,
    };
    return {
      storage,
      keyring,
      secrets,
      box,
      root,
      iam: ownIam,
      handler: (req, client) => probeResponse(req, S3_PROBES, probes) ?? s3.handle(req, client),
      probes,
      handleAs: s3.handleAs,
      clients: new ClientResolver(trustedProxyList(cfg.trustedProxies)),
      lifecycle,
      close: async () => {
        // Passes in progress end before what they use is closed under them.
        await Promise.all([lifecycle.stop(), jobs.stop()]);
        ownIam.close();
        await storage.close();
      },
    };
  } catch (e) {
    // IAM closes the database it was given; before IAM, it is closed here.
    if (iam) iam.close();
    else db.close();
    await storage.close();
    throw e;
  }
}

/**
 * The periodic jobs: the orphan-blob sweep, multipart upkeep (uploads older than
 * multipartMaxAgeSeconds are aborted, interrupted cleanups finished) and IAM upkeep. Each runs
 * one pass at a time: on a large data dir a pass can outlast a short interval.
 */
function startJobs(
  cfg: Config,
  storage: OpenedStorage,
  iam: Iam,
  log: Logger,
  uploadMaxAgeMs: number,
) {
  const timers: ReturnType<typeof setInterval>[] = [];
  /** The passes in progress (at most one per job). */
  const running = new Set<Promise<void>>();
  const every = (ms: number, name: string, pass: () => Promise<unknown>) => {
    let busy = false;
    timers.push(setInterval(() => {
      if (busy) return;
      busy = true;
      const p: Promise<void> = pass().then(
        () => {},
        (e) => log.error(`${name} failed`, { error: String(e) }),
      ).finally(() => {
        busy = false;
        running.delete(p);
      });
      running.add(p);
    }, ms));
  };
  if (cfg.sweepIntervalSeconds > 0) {
    every(cfg.sweepIntervalSeconds * 1000, "sweep", () => storage.backend.sweep(SWEEP_GRACE_MS));
  }
  every(
    Math.max(1000, Math.min(3600_000, uploadMaxAgeMs / 2)),
    "multipart maintenance",
    () => storage.backend.multipartMaintenance({ maxAgeMs: uploadMaxAgeMs, startup: false }),
  );
  iam.maintenance();
  every(IAM_MAINTENANCE_MS, "IAM maintenance", () => Promise.resolve(iam.maintenance()));
  return {
    /** Stops the timers; resolves once the passes in progress have ended. */
    async stop() {
      for (const t of timers) clearInterval(t);
      await Promise.all(running);
    },
  };
}
