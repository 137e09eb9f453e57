/**
 * The inventory worker: each pass finds the enabled configurations whose report is due (Daily:
 * 24 hours after the last report began, Weekly: 7 days; a new configuration at once) and writes
 * its report into the destination bucket through the Backend, as report.ts lays it out. The
 * listing is streamed a page at a time into gzip data files (a new file every FILE_ROWS rows),
 * so memory stays bounded whatever the bucket's size. The clock is a parameter: `runDue(now)`
 * runs a pass as of a given time.
 */
import { createHash } from "node:crypto";
import type { Backend } from "../../storage/mod.ts";
import type { BucketRecord, ObjectRecord, PutObjectInput } from "../../storage/types.ts";
import type { Db } from "../../db/mod.ts";
import type { Clock } from "../../clock.ts";
import type { Logger } from "../../log.ts";
import { isS3Error, S3Error } from "../../s3/errors.ts";
import { LIFECYCLE_CONFIG, type LifecycleConfig } from "../lifecycle/config.ts";
import {
  type BucketEncryption,
  ENCRYPTION_CONFIG,
  resolveSse,
} from "../../s3/bucket_encryption.ts";
import { type JobRecorder, UNRECORDED_JOBS } from "../metrics/mod.ts";
import {
  INVENTORY_CONFIG,
  type InventoryConfigs,
  type InventoryConfiguration,
  periodOf,
} from "./config.ts";
import {
  csvLine,
  fileSchema,
  hivePartition,
  jsonLine,
  type ManifestFile,
  manifestJson,
  reportBase,
  reportFolder,
  type RowContext,
  rowValues,
} from "./report.ts";
import { type InventoryRun, InventoryRuns } from "./store.ts";

/** Versions asked of each listing page. */
const PAGE = 1000;
/** Rows per data file. */
export const FILE_ROWS = 1_000_000;
/** Text gathered before it is handed to gzip. */
const CHUNK_BYTES = 64 * 1024;

export interface InventoryPassResult {
  /** Reports written (and failed) in this pass. */
  reports: number;
  failed: number;
}

export interface InventoryWorkerOptions {
  storage: Backend;
  db: Db;
  clock: Clock;
  log: Logger;
  /** How often due reports are looked for (0: only on demand). */
  intervalMs: number;
  jobs?: JobRecorder;
  /** Rows per data file (FILE_ROWS; tests make it small to see files split). */
  fileRows?: number;
  /** `--encrypt-new-objects`: SSE-S3 for reports when neither they nor the destination ask. */
  encryptNewObjects?: boolean;
}

/** Every version (or current object) of a bucket under a prefix, a page at a time. */
async function* eachRow(
  storage: Backend,
  bucket: BucketRecord,
  cfg: InventoryConfiguration,
): AsyncGenerator<{ rec: ObjectRecord; isLatest: boolean }> {
  let keyMarker = "";
  let versionIdMarker = "";
  for (;;) {
    const page = await storage.listObjectVersions(bucket, {
      prefix: cfg.filterPrefix ?? "",
      delimiter: "",
      keyMarker,
      versionIdMarker,
      maxKeys: PAGE,
    });
    for (const v of page.versions) {
      if (cfg.includedVersions === "Current" && (!v.isLatest || v.rec.deleteMarker)) continue;
      yield { rec: v.rec, isLatest: v.isLatest };
    }
    if (!page.truncated || page.nextKeyMarker === null) return;
    keyMarker = page.nextKeyMarker;
    versionIdMarker = page.nextVersionIdMarker ?? "";
  }
}

function sseOf(cfg: InventoryConfiguration): PutObjectInput["sse"] {
  const e = cfg.destination.encryption;
  if (!e) return undefined;
  return e.mode === "SSE-S3" ? { mode: "AES256" } : { mode: "aws:kms", keyId: e.keyId };
}

export class InventoryWorker {
  readonly runs: InventoryRuns;
  readonly #opts: InventoryWorkerOptions;
  readonly #jobs: JobRecorder;
  #timer: ReturnType<typeof setInterval> | null = null;
  /** The pass in progress (at most one). */
  #running: Promise<InventoryPassResult> | null = null;
  /** Reports being written, by `bucketId/configId` (one at a time each). */
  readonly #writing = new Map<string, Promise<InventoryRun>>();

  constructor(opts: InventoryWorkerOptions) {
    this.#opts = opts;
    this.#jobs = opts.jobs ?? UNRECORDED_JOBS;
    this.runs = new InventoryRuns(opts.db);
  }

  /** Starts the timer; reports a crash left `running` are marked failed first. */
  start(): void {
    this.runs.abandonRunning(this.#opts.clock.now());
    if (this.#opts.intervalMs <= 0) return;
    this.#timer = setInterval(() => {
      this.runDue().catch((e) =>
        this.#opts.log.error("inventory pass failed", { error: String(e) })
      );
    }, this.#opts.intervalMs);
  }

  async stop(): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    await this.#running?.catch(() => {});
    await Promise.all([...this.#writing.values()].map((p) => p.catch(() => {})));
  }

  /** One pass as of `now`: every due report of every bucket; concurrent calls share it. */
  runDue(now?: number): Promise<InventoryPassResult> {
    this.#running ??= this.#jobs.run("inventory", () => this.#pass(now ?? this.#opts.clock.now()))
      .finally(() => {
        this.#running = null;
      });
    return this.#running;
  }

  async #pass(now: number): Promise<InventoryPassResult> {
    const { storage } = this.#opts;
    const res: InventoryPassResult = { reports: 0, failed: 0 };
    const configured = new Set(await storage.bucketsWithConfig(INVENTORY_CONFIG));
    if (configured.size === 0) return res;
    for (const bucket of await storage.listAllBuckets()) {
      if (!configured.has(bucket.id)) continue;
      const stored = await storage.getBucketConfig<InventoryConfigs>(bucket.id, INVENTORY_CONFIG);
      for (const cfg of stored?.configs ?? []) {
        if (!cfg.enabled) continue;
        const last = this.runs.lastDone(bucket.id, cfg.id);
        if (last !== null && now - last < periodOf(cfg.frequency)) continue;
        const run = await this.#report(bucket, cfg, now);
        res.reports++;
        if (run.status === "failed") res.failed++;
      }
    }
    return res;
  }

  /**
   * Writes one configuration's report now (or as of `now`), whatever its schedule (the admin
   * CLI's `inventory run`, the console's Run now); `NoSuchConfiguration` when it does not exist.
   */
  async runNow(bucket: BucketRecord, configId: string, now?: number): Promise<InventoryRun> {
    const stored = await this.#opts.storage.getBucketConfig<InventoryConfigs>(
      bucket.id,
      INVENTORY_CONFIG,
    );
    const cfg = stored?.configs.find((c) => c.id === configId);
    if (!cfg) throw new S3Error("NoSuchConfiguration");
    return await this.#report(bucket, cfg, now ?? this.#opts.clock.now());
  }

  #report(bucket: BucketRecord, cfg: InventoryConfiguration, now: number): Promise<InventoryRun> {
    const key = `${bucket.id}/${cfg.id}`;
    const busy = this.#writing.get(key);
    if (busy) return busy;
    const p = this.#write(bucket, cfg, now).finally(() => this.#writing.delete(key));
    this.#writing.set(key, p);
    return p;
  }

  async #write(
    bucket: BucketRecord,
    cfg: InventoryConfiguration,
    now: number,
  ): Promise<InventoryRun> {
    const { clock, log } = this.#opts;
    const runId = this.runs.begin(bucket.id, cfg.id, now, cfg.destination.bucketArn);
    const counts = { objects: 0, bytes: 0, files: 0 };
    try {
      const manifestKey = await this.#writeReport(bucket, cfg, now, counts);
      this.runs.finish(runId, { finishedAt: clock.now(), ...counts, manifestKey });
    } catch (e) {
      const error = isS3Error(e) ? `${e.code}: ${e.message}` : String(e);
      log.error("inventory report failed", { bucket: bucket.name, id: cfg.id, error });
      this.runs.finish(runId, { finishedAt: clock.now(), ...counts, error: error.slice(0, 500) });
    }
    return this.runs.get(runId)!;
  }

  async #writeReport(
    bucket: BucketRecord,
    cfg: InventoryConfiguration,
    now: number,
    counts: { objects: number; bytes: number; files: number },
  ): Promise<string> {
    const { storage } = this.#opts;
    const destName = cfg.destination.bucket.replace(/^[^:]*:/, "");
    // The destination was checked to be of the source's namespace when configured.
    const dest = await storage.getBucket(bucket.ns, destName);
    const base = reportBase(cfg, bucket.name);
    const schema = fileSchema(cfg);
    const json = cfg.destination.format === "JSON";
    const ctx: RowContext = {
      bucket,
      lifecycle: cfg.optionalFields.includes("LifecycleExpirationDate")
        ? await storage.getBucketConfig<LifecycleConfig>(bucket.id, LIFECYCLE_CONFIG)
        : null,
    };
    // The report's own encryption, else the destination's default, as an S3 PUT resolves it.
    const sse = resolveSse(
      sseOf(cfg),
      await storage.getBucketConfig<BucketEncryption>(dest.id, ENCRYPTION_CONFIG),
      this.#opts.encryptNewObjects ?? false,
    );
    const put = (key: string, body: ReadableStream<Uint8Array>, contentType: string) =>
      storage.putObject(dest, {
        key,
        body,
        contentLength: null,
        content: { contentType },
        meta: {},
        ownerId: dest.ownerId,
        sse,
      });
    const rows = eachRow(storage, bucket, cfg);
    /** The row read to learn whether another data file is needed (a full file just ended). */
    let ahead: IteratorResult<{ rec: ObjectRecord; isLatest: boolean }> | null = null;
    const nextRow = () => {
      const a = ahead;
      ahead = null;
      return a ?? rows.next();
    };
    let exhausted = false;
    const enc = new TextEncoder();
    const fileRows = this.#opts.fileRows ?? FILE_ROWS;
    /** The next data file's text: rows until `fileRows` or the end of the listing. */
    const fileStream = () => {
      let inFile = 0;
      return new ReadableStream<Uint8Array>({
        async pull(controller) {
          let text = "";
          while (text.length < CHUNK_BYTES && inFile < fileRows) {
            const next = await nextRow();
            if (next.done) {
              exhausted = true;
              break;
            }
            const { rec, isLatest } = next.value;
            const values = rowValues(cfg, rec, isLatest, ctx);
            text += json ? jsonLine(schema, values) : csvLine(values);
            inFile++;
            counts.objects++;
            if (!rec.deleteMarker) counts.bytes += rec.size;
          }
          if (text) controller.enqueue(enc.encode(text));
          if (exhausted || inFile >= fileRows) controller.close();
        },
      });
    };
    const files: ManifestFile[] = [];
    const ext = json ? "json.gz" : "csv.gz";
    // At least one data file (empty for an empty bucket); another only while rows remain.
    while (files.length === 0 || !exhausted) {
      const key = `${base}data/${crypto.randomUUID()}.${ext}`;
      const rec = await put(
        key,
        fileStream().pipeThrough(
          new CompressionStream("gzip") as ReadableWritablePair<Uint8Array, Uint8Array>,
        ),
        "application/x-gzip",
      );
      files.push({ key, size: rec.size, MD5checksum: rec.etag.replace(/"/g, "") });
      counts.files++;
      if (!exhausted) {
        ahead = await rows.next();
        exhausted = ahead.done === true;
      }
    }
    const folder = `${base}${reportFolder(now)}/`;
    const manifest = manifestJson({
      sourceBucket: bucket.name,
      destinationArn: cfg.destination.bucketArn,
      created: now,
      format: cfg.destination.format,
      schema,
      files,
    });
    const text = (s: string) => new Blob([s]).stream();
    const manifestKey = `${folder}manifest.json`;
    await put(manifestKey, text(manifest), "application/json");
    const md5 = createHash("md5").update(manifest).digest("hex");
    await put(`${folder}manifest.checksum`, text(md5), "text/plain");
    const destArnBucket = cfg.destination.bucketArn.slice("arn:aws:s3:::".length);
    const symlinks = files.map((f) => `s3://${destArnBucket}/${f.key}\n`).join("");
    await put(`${base}hive/${hivePartition(now)}/symlink.txt`, text(symlinks), "text/plain");
    return manifestKey;
  }
}
