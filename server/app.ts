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
import {
  type Backend,
  lockDataDir,
  type OpenedStorage,
  openStorage,
  unlockDataDir,
} from "./storage/mod.ts";
import { loadOrCreateSecrets, SecretBox, type ServerSecrets } from "./iam/secrets.ts";
import { loadRootCredential, rootCredentialStore } from "./iam/root.ts";
import { chainCredentialStores } from "./iam/types.ts";
import { createIam, type Iam, tenantQuotas } from "./iam/mod.ts";
import { BucketQuotas } from "./iam/bucket_quotas.ts";
import { ClientResolver } from "./iam/net.ts";
import { createS3Handler, type S3Front } from "./s3/handler.ts";
import { type LifecycleWorker, startLifecycleWorker } from "./features/lifecycle/worker.ts";
import { type AlertMonitor, startAlertMonitor } from "./features/alerts/monitor.ts";
import { corruptionCondition } from "./features/alerts/conditions.ts";
import { listTenants } from "./iam/tenants.ts";
import { openSecret } from "./iam/settings.ts";
import type { EmailSettings } from "./features/alerts/mailer.ts";
import { HistoryRecorder } from "./features/history/recorder.ts";
import type { StorageSample } from "./features/history/store.ts";
import type { RequestInfo } from "./s3/context.ts";
import { MasterKeyRotation } from "./features/encryption/rotation.ts";
import type { S3Handler } from "./s3/context.ts";
import { type ProbeDeps, probeResponse, S3_PROBES } from "./http/probes.ts";
import { accessLogLine, BatchedLines } from "./http/access_log.ts";
import { Keyring } from "./crypto/keyring.ts";
import { createObjectKeys } from "./crypto/object_keys.ts";
import { Scrubber, type Sleep } from "./features/integrity/scrubber.ts";
import { FeedDispatcher } from "./features/feed/dispatcher.ts";
import type { FeedFollower } from "./storage/mod.ts";
import { recordAudit } from "./iam/audit.ts";
import { EventHub } from "./http/events.ts";
import { type GateSettings, S3Gate } from "./s3/gate.ts";
import type { Settings } from "./iam/settings.ts";
import {
  createRecorders,
  type JobRecorder,
  metricsRegistry,
  UNRECORDED_JOBS,
} from "./features/metrics/mod.ts";
import type { MetricsEndpoint } from "./http/metrics_endpoint.ts";
import { VERSION } from "./version.ts";
import { BuiltinKms } from "./crypto/builtin_kms.ts";
import { Notifications } from "./features/notifications/mod.ts";
import { getTenant } from "./iam/tenants.ts";
import { InventoryWorker } from "./features/inventory/worker.ts";
import { AccessLogDelivery } from "./features/access_logging/delivery.ts";
import { ShareLinks } from "./features/shares/store.ts";
import { ShareServer } from "./features/shares/serve.ts";
import { Replication } from "./features/replication/service.ts";

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
   * The S3 listener's handler: the health probes (`/minio/health/live|ready`), share links
   * (`/_share/<token>`), then the S3 front end; listeners pass who sent each request
   * (`clients.resolve`).
   */
  handler: S3Handler;
  /** What the readiness probes check (the console listener answers `/health` and `/ready`). */
  probes: ProbeDeps;
  /** Runs an S3 request as an already authenticated principal (the console's object API). */
  handleAs: S3Front["handleAs"];
  /** Turns a listener's socket peer into a request's client (trusted proxies applied). */
  clients: ClientResolver;
  /** The consoles' event stream (`GET /api/v1/events`): maintenance mode, alerts. */
  events: EventHub;
  /** The built-in key service of SSE-KMS (keys in IAM's database, sealed by the keyring). */
  kms: BuiltinKms;
  /** Bucket lifecycle rules; `runOnce(now)` runs a pass as of a given time (admin, tests). */
  lifecycle: LifecycleWorker;
  /**
   * Bucket inventory reports: `runDue(now)` writes the reports due as of a time, `runNow`
   * one configuration's report now, `runs` the report history.
   */
  inventory: InventoryWorker;
  /** Server access logging: records per logged bucket, delivered as log objects (`flush`). */
  accessLogs: AccessLogDelivery;
  /** The integrity scrubber (`--scrub-rate`): its status, and on-demand bucket checks. */
  integrity: Scrubber;
  /** Alerts: the periodic check, the alert center (list, read marks) and the mail it sends. */
  alerts: AlertMonitor;
  /** The mail settings in force with the password opened (alert mail, the Test email button). */
  emailSettings(): Promise<EmailSettings | null>;
  /** Per-minute and per-hour request figures and storage used (the console's charts). */
  history: HistoryRecorder;
  /** What `/metrics` answers (and the token it asks for); null with `--metrics=false`. */
  metrics: MetricsEndpoint | null;
  /**
   * Master-key rotation: status, `rotate()`, and the background rewrap (resumed at start when a
   * rotation was unfinished).
   */
  encryption: MasterKeyRotation;
  /**
   * Hands the change feed (object changes of buckets with notifications or replication) to its
   * followers.
   */
  feed: FeedDispatcher;
  /**
   * Event notifications: webhook targets, the delivery queue and its dead letters, the change
   * feed's "notifications" follower and the delivery worker.
   */
  notifications: Notifications;
  /** Public links to objects (`/_share/<token>` on the S3 listener): create, list, revoke. */
  shares: ShareLinks;
  /**
   * Bucket replication: destinations, rules' status, failures and retry, sync now; its
   * `follower` is the change feed's "replication" follower.
   */
  replication: Replication;
  /** Stops the background jobs, then closes IAM and storage. */
  close(): Promise<void>;
}

export interface ServerAppOptions {
  log: Logger;
  clock?: Clock;
  /** Where access log lines go (`--access-log`); standard output by default. */
  accessSink?: (line: string) => void;
  /** How the integrity scrubber waits (tests); the real clock by default. */
  sleep?: Sleep;
  /** Stop each rewrap pass of a rotation after this many entries (tests: a rotation midway). */
  rotationPassLimit?: number;
}

export async function createServerApp(cfg: Config, opts: ServerAppOptions): Promise<ServerApp> {
  const clock = opts.clock ?? systemClock;
  const accessLines = opts.accessSink ? null : new BatchedLines();
  const accessSink = opts.accessSink ?? ((line: string) => accessLines!.write(line));
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
  let bucketQuotas: BucketQuotas;
  try {
    keyring = await Keyring.open(cfg.dataDir);
    bucketQuotas = new BucketQuotas({ db });
  } catch (e) {
    db.close();
    await unlockDataDir(lock);
    throw e;
  }
  // SSE-KMS's key service keeps its keys in IAM's database, sealed by the keyring.
  const kms = new BuiltinKms({ db, keyring, region: cfg.region, clock });
  const keys = createObjectKeys({ keyring, kms, macSecret: keyring.secret });
  // Built before what feeds them; registered with the scrape-time figures once those exist.
  const recorders = cfg.metrics ? createRecorders(clock) : null;
  const jobRecorder: JobRecorder = recorders?.jobs ?? UNRECORDED_JOBS;
  const storage = await openStorage({
    dataDir: cfg.dataDir,
    fsync: cfg.fsync,
    bodyIdleMs: cfg.bodyTimeoutSeconds * 1000,
    hotCacheBytes: cfg.objectCacheMiB * 1024 * 1024,
    listCacheEntries: cfg.listCacheEntries,
    recordCacheBytes: cfg.recordCacheMiB * 1024 * 1024,
    lock,
    quota: tenantQuotas(db, bucketQuotas),
    keys,
    tuning,
    observer: recorders?.storage,
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
      bucketQuotas,
    });
    const ownIam = iam;
    const events = new EventHub();
    const gate = new S3Gate(gateSettingsOf(iam.settings.current()), clock);
    iam.settings.onChange((s, changed) => {
      gate.configure(gateSettingsOf(s));
      if (changed.some((f) => f.startsWith("system."))) {
        events.publish({ type: "maintenance", data: maintenanceOf(s) });
      }
      events.publish({ type: "settings", data: { changed } }, (who) => who.role === "global_admin");
    });
    const history = new HistoryRecorder({
      db,
      clock,
      log,
      storageUsed: () => storedTotal(storage.backend, ownIam),
    });
    // What each finished S3 request feeds: IAM (audit, authorizer upkeep), Prometheus metrics,
    // the access log, the metrics history.
    const hooks: ((info: RequestInfo) => void)[] = [iam.onS3Request];
    if (recorders) {
      const requests = recorders.requests;
      hooks.push((info) => requests.observe(info));
    }
    if (cfg.accessLog) {
      hooks.push((info) => accessSink(accessLogLine(info, cfg.logFormat, new Date(clock.now()))));
    }
    hooks.push((info) => history.record(info));
    const notifications = new Notifications({
      db,
      box,
      storage: storage.backend,
      clock,
      log,
      region: cfg.region,
      outbound: { allowPrivate: cfg.allowPrivateEndpoints },
      metrics: recorders?.notifications,
      tenantName: (ns) => getTenant(ownIam.core, ns)?.name ?? ns,
    });
    // Server access logging: one Map lookup per request for a bucket without it.
    const accessLogs = new AccessLogDelivery({
      storage: storage.backend,
      grantees: iam.grantees,
      clock,
      log,
      intervalMs: cfg.accessLogDeliverySeconds * 1000,
      region: cfg.region,
      encryptNewObjects: cfg.encryptNewObjects,
    });
    await accessLogs.load();
    hooks.push((info) => accessLogs.record(info));
    const replication = new Replication({
      db,
      box,
      storage: storage.backend,
      clock,
      log,
      outbound: { allowPrivate: cfg.allowPrivateEndpoints },
      concurrency: Math.max(1, cfg.replicationWorkers),
    });
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
      replication,
      quotas: tenantQuotas(db, bucketQuotas),
      gate,
      notificationTargets: notifications,
      accessLogs,
      onRequest: (info) => {
        for (const hook of hooks) hook(info);
      },
      region: cfg.region,
      domain: cfg.domain,
      websiteDomain: cfg.websiteDomain,
      tuning,
      clock,
      log,
    });
    // At start no Complete can be running, so seals left by a crash are cleared too.
    const uploadMaxAgeMs = cfg.multipartMaxAgeSeconds > 0
      ? cfg.multipartMaxAgeSeconds * 1000
      : Infinity;
    await jobRecorder.run(
      "multipart_maintenance",
      () => storage.backend.multipartMaintenance({ maxAgeMs: uploadMaxAgeMs, startup: true }),
    );
    // A throw of the first pass fails the start, as before there were metrics.
    await jobRecorder.run("iam_maintenance", () => Promise.try(() => ownIam.maintenance()));
    const jobs = startJobs(cfg, storage, iam, log, uploadMaxAgeMs, jobRecorder);
    const encryption = new MasterKeyRotation({
      keyring,
      storage: storage.backend,
      // The key service's material is rewrapped with the object keys, before an old key retires.
      kms,
      log,
      passLimit: opts.rotationPassLimit,
    });
    encryption.resume();
    const lifecycle = startLifecycleWorker(storage.backend, {
      intervalMs: cfg.lifecycleIntervalSeconds * 1000,
      log,
      clock,
      jobs: jobRecorder,
    });
    const inventory = new InventoryWorker({
      storage: storage.backend,
      db,
      clock,
      log,
      intervalMs: cfg.inventoryIntervalSeconds * 1000,
      jobs: jobRecorder,
      encryptNewObjects: cfg.encryptNewObjects,
    });
    inventory.start();
    accessLogs.start();
    const emailSettings = async (): Promise<EmailSettings> => {
      const e = ownIam.settings.current().email;
      return { ...e, password: await openSecret(ownIam.core, e.password) };
    };
    const alerts = startAlertMonitor({
      db,
      storage: storage.backend,
      clock,
      log,
      intervalMs: cfg.alertIntervalSeconds * 1000,
      thresholds: () => ownIam.settings.current().alerts,
      email: () => emailSettings(),
      quotaTenants: () =>
        listTenants(ownIam.core).flatMap((t) =>
          t.quota.maxBytes === null ? [] : [{ id: t.id, name: t.name, maxBytes: t.quota.maxBytes }]
        ),
      quotaBuckets: () => quotaBuckets(storage.backend, ownIam),
      serverName: cfg.domain ?? `MaxIOFS at ${cfg.listen}`,
    });
    // Open consoles hear of each alert change (global admins all, a tenant's admins its own) and
    // of each minute's figures (the dashboard's live panel, global admins).
    alerts.center.subscribe((n) =>
      events.publish(
        { type: "alert", data: { kind: n.kind, alert: n.alert } },
        (who) =>
          who.role === "global_admin" ||
          (who.role === "tenant_admin" && n.alert.tenantId !== null &&
            who.tenantId === n.alert.tenantId),
      )
    );
    history.onMinute((p) =>
      events.publish({ type: "metrics", data: p }, (who) => who.role === "global_admin")
    );
    const integrity = new Scrubber(storage.backend, {
      db,
      rate: cfg.scrubRate,
      intervalMs: cfg.scrubIntervalSeconds * 1000,
      clock,
      log,
      sleep: opts.sleep,
      runJob: (job, pass) => jobRecorder.run(job, pass),
      onFinding: (f, source) => {
        recordAudit(ownIam.core, {
          actorName: "system",
          tenantId: f.ns || null,
          action: "integrity.corrupt",
          resource: `bucket/${f.bucket}/${f.key}`,
          result: "failure",
          detail: `${source}: version ${f.versionId}: ${f.reason}`.slice(0, 500),
        });
        alerts.center.raise(corruptionCondition({ ...f, tenantId: f.ns || null }));
      },
    });
    integrity.start();
    // Followers of the change feed (event notifications, replication) register here.
    const followers: FeedFollower[] = [notifications.follower, replication.follower];
    const feed = new FeedDispatcher(storage.backend, followers, log);
    feed.start();
    notifications.start();
    replication.start();
    const metrics = recorders
      ? metricsRegistry(recorders, {
        storage: storage.backend.stats,
        disk: () => storage.backend.diskSpace(),
        usage: storage.backend.usage,
        tenants: () =>
          listTenants(ownIam.core).map((t) => ({
            ns: t.id,
            name: t.name,
            maxBytes: t.quota.maxBytes,
            maxBuckets: t.quota.maxBuckets,
          })),
        inFlight: s3.inFlight,
        notificationQueue: () => notifications.depths(),
        clock,
        version: VERSION,
      }, replication.metrics.all())
      : null;
    const shares = new ShareLinks({ db, clock });
    const shareServer = new ShareServer({
      links: shares,
      core: ownIam.core,
      storage: storage.backend,
      handleAs: s3.handleAs,
      domain: cfg.domain,
      websiteDomain: cfg.websiteDomain,
      gate,
      log,
    });
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
      handler: (req, client) =>
        probeResponse(req, S3_PROBES, probes) ?? shareServer.response(req, client) ??
          s3.handle(req, client),
      probes,
      handleAs: s3.handleAs,
      events,
      clients: new ClientResolver(trustedProxyList(cfg.trustedProxies)),
      kms,
      lifecycle,
      inventory,
      accessLogs,
      metrics: metrics && { metrics, token: cfg.metricsToken },
      encryption,
      integrity,
      alerts,
      emailSettings,
      history,
      feed,
      notifications,
      shares,
      replication,
      close: async () => {
        // Passes in progress end before what they use is closed under them.
        await Promise.all([
          feed.stop(),
          lifecycle.stop(),
          inventory.stop(),
          jobs.stop(),
          integrity.stop(),
          alerts.stop(),
          history.stop(),
          encryption.stop(),
          notifications.stop(),
          replication.stop(),
        ]);
        // Last: the records of every request answered before the stop are delivered.
        await accessLogs.stop();
        events.close();
        metrics?.close();
        await accessLines?.flush();
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
 * The buckets whose bytes a quota limits (their own, or the default for buckets when one is set:
 * then every bucket), with the names the console shows (`tenant:bucket` outside the global one).
 */
async function quotaBuckets(
  storage: Backend,
  iam: Iam,
): Promise<{ id: string; ns: string; name: string; maxBytes: number }[]> {
  const q = iam.bucketQuotas;
  const own = new Set(q.ownIds());
  if (!own.size && !q.hasDefaults()) return [];
  const tenants = new Map(listTenants(iam.core).map((t) => [t.id, t.name]));
  const out = [];
  for (const b of await storage.listAllBuckets()) {
    if (!own.has(b.id) && !q.hasDefaults()) continue;
    const maxBytes = q.limitsOf(b.id)?.maxBytes ?? null;
    if (maxBytes === null) continue;
    const name = b.ns ? `${tenants.get(b.ns) ?? b.ns}:${b.name}` : b.name;
    out.push({ id: b.id, ns: b.ns, name, maxBytes });
  }
  return out;
}

/** Bytes and objects stored in every namespace (the global one and each tenant's). */
async function storedTotal(storage: Backend, iam: Iam): Promise<StorageSample> {
  let bytes = 0;
  let objects = 0;
  for (const ns of ["", ...listTenants(iam.core).map((t) => t.id)]) {
    const u = await storage.usage.read(ns);
    bytes += u.bytes;
    objects += u.objects;
  }
  return { bytes, objects };
}

/** What the S3 gate needs of the settings (maintenance mode, rate limits). */
function gateSettingsOf(s: Settings): GateSettings {
  return {
    maintenance: maintenanceOf(s),
    perKey: { perSecond: s.security.s3RequestsPerSecondPerKey, burst: s.security.s3BurstPerKey },
    perAddress: {
      perSecond: s.security.s3RequestsPerSecondPerAddress,
      burst: s.security.s3BurstPerAddress,
    },
  };
}

/** The maintenance state as the consoles' banner and the gate take it. */
export function maintenanceOf(s: Settings): { enabled: boolean; message: string } {
  return { enabled: s.system.maintenanceMode, message: s.system.maintenanceMessage };
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
  recorder: JobRecorder,
) {
  const timers: ReturnType<typeof setInterval>[] = [];
  /** The passes in progress (at most one per job). */
  const running = new Set<Promise<void>>();
  /** `job`: the name metrics give it (`maxiofs_job_*{job}`). */
  const every = (ms: number, name: string, job: string, pass: () => Promise<unknown>) => {
    let busy = false;
    timers.push(setInterval(() => {
      if (busy) return;
      busy = true;
      const p: Promise<void> = recorder.run(job, pass).then(
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
    every(
      cfg.sweepIntervalSeconds * 1000,
      "sweep",
      "orphan_sweep",
      () => storage.backend.sweep(SWEEP_GRACE_MS),
    );
  }
  every(
    Math.max(1000, Math.min(3600_000, uploadMaxAgeMs / 2)),
    "multipart maintenance",
    "multipart_maintenance",
    () => storage.backend.multipartMaintenance({ maxAgeMs: uploadMaxAgeMs, startup: false }),
  );
  every(
    IAM_MAINTENANCE_MS,
    "IAM maintenance",
    "iam_maintenance",
    () => Promise.resolve(iam.maintenance()),
  );
  return {
    /** Stops the timers; resolves once the passes in progress have ended. */
    async stop() {
      for (const t of timers) clearInterval(t);
      await Promise.all(running);
    },
  };
}
