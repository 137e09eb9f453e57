/**
 * Server access logging: requests to a bucket whose logging is on become records (format.ts),
 * kept in memory per source bucket and delivered as log objects into the target bucket every
 * `intervalMs`, when a bucket's records pass `maxBufferBytes`, and at shutdown. Best effort, as
 * S3's: records in memory when the process dies are lost, and a delivery that fails is logged
 * and dropped.
 *
 * The request hook costs one Map lookup for a bucket without logging: the configurations in
 * force are held here (read from every bucket at start, then told of each PutBucketLogging).
 */
import type { Backend } from "../../storage/mod.ts";
import type { BucketRecord, StoredAcl } from "../../storage/types.ts";
import type { RequestInfo } from "../../s3/context.ts";
import type { Clock } from "../../clock.ts";
import type { Logger } from "../../log.ts";
import { randomHex } from "../../hex.ts";
import { type GranteeLookup, privateAcl } from "../../iam/acl.ts";
import { canonicalUser } from "../../iam/ownership.ts";
import { type BucketLogging, LOGGING_CONFIG } from "./config.ts";
import { logRecord } from "./format.ts";
import {
  type BucketEncryption,
  ENCRYPTION_CONFIG,
  resolveSse,
} from "../../s3/bucket_encryption.ts";

/** A source bucket's logging in force, with what its records need. */
interface Source {
  bucketName: string;
  ownerId: string;
  cfg: BucketLogging;
}

/** Records of one source bucket waiting for delivery. */
interface Pending {
  source: Source;
  lines: string[];
  bytes: number;
  /** When the first record was made (a partitioned prefix's EventTime). */
  first: number;
}

export interface AccessLogDeliveryOptions {
  storage: Backend;
  grantees: GranteeLookup;
  clock: Clock;
  log: Logger;
  /** How often buffered records are delivered (0: only at `flush` and when a buffer fills). */
  intervalMs: number;
  /** A source bucket's records are delivered early once they reach this many bytes. */
  maxBufferBytes?: number;
  /** `--encrypt-new-objects`: SSE-S3 for log objects when the target has no default. */
  encryptNewObjects?: boolean;
}

const pad = (n: number) => String(n).padStart(2, "0");

/** `YYYY-mm-DD-HH-MM-SS` of a time (UTC). */
function stamp(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}-${
    pad(d.getUTCHours())
  }-${pad(d.getUTCMinutes())}-${pad(d.getUTCSeconds())}`;
}

/**
 * A log object's key: `<prefix>YYYY-mm-DD-HH-MM-SS-<unique>`, or partitioned
 * `<prefix><owner>/<region>/<bucket>/YYYY/MM/DD/YYYY-mm-DD-HH-MM-SS-<unique>`.
 */
export function logObjectKey(
  cfg: Pick<BucketLogging, "targetPrefix" | "keyFormat">,
  source: { ownerId: string; region: string; bucketName: string },
  times: { delivery: number; event: number },
  unique: string,
): string {
  const name = `${stamp(times.delivery)}-${unique}`;
  const f = cfg.keyFormat;
  if (f?.kind !== "PartitionedPrefix") return `${cfg.targetPrefix}${name}`;
  const d = new Date(f.dateSource === "EventTime" ? times.event : times.delivery);
  const day = `${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}`;
  return `${cfg.targetPrefix}${source.ownerId}/${source.region}/${source.bucketName}/${day}/${name}`;
}

export class AccessLogDelivery {
  readonly #opts: AccessLogDeliveryOptions;
  readonly #maxBufferBytes: number;
  /** Source bucket id -> its logging in force. */
  readonly #sources = new Map<string, Source>();
  /** Source bucket id -> records not yet delivered. */
  readonly #pending = new Map<string, Pending>();
  /** Deliveries in progress. */
  readonly #delivering = new Set<Promise<void>>();
  #timer: ReturnType<typeof setInterval> | null = null;
  readonly #region: string;

  constructor(opts: AccessLogDeliveryOptions & { region: string }) {
    this.#opts = opts;
    this.#region = opts.region;
    this.#maxBufferBytes = opts.maxBufferBytes ?? 4 * 1024 * 1024;
  }

  /**
   * Reads the logging configuration of every logged bucket (once, at start): one short scan
   * finds them, so a server of many buckets and few logged ones starts as fast as without.
   */
  async load(): Promise<void> {
    const storage = this.#opts.storage;
    const ids = new Set(await storage.bucketsWithConfig(LOGGING_CONFIG));
    if (ids.size === 0) return;
    for (const b of await storage.listAllBuckets()) {
      if (!ids.has(b.id)) continue;
      const cfg = await storage.getBucketConfig<BucketLogging>(b.id, LOGGING_CONFIG);
      if (cfg) this.#sources.set(b.id, { bucketName: b.name, ownerId: b.ownerId, cfg });
    }
  }

  /** PutBucketLogging changed a bucket's logging (null: off). */
  configured(bucket: BucketRecord, cfg: BucketLogging | null): void {
    if (cfg) {
      this.#sources.set(bucket.id, { bucketName: bucket.name, ownerId: bucket.ownerId, cfg });
    } else this.#sources.delete(bucket.id);
  }

  /** Whether a bucket's requests are logged now. */
  isLogged(bucketId: string): boolean {
    return this.#sources.has(bucketId);
  }

  /** The request hook: one record when the request's bucket has logging on. */
  record(info: RequestInfo): void {
    const b = info.bucketRecord;
    if (!b) return;
    const source = this.#sources.get(b.id);
    if (!source) return;
    const now = this.#opts.clock.now();
    const line = logRecord(info, source.ownerId, source.bucketName, now) + "\n";
    let p = this.#pending.get(b.id);
    if (!p || p.source !== source) {
      if (p) this.#deliver(b.id, p);
      p = { source, lines: [], bytes: 0, first: now };
      this.#pending.set(b.id, p);
    }
    p.lines.push(line);
    p.bytes += line.length;
    if (info.op === "DeleteBucket" && info.status < 300) this.#sources.delete(b.id);
    if (p.bytes >= this.#maxBufferBytes) {
      this.#pending.delete(b.id);
      this.#deliver(b.id, p);
    }
  }

  /** Delivers every buffered record now; resolves once every delivery has ended. */
  async flush(): Promise<void> {
    for (const [id, p] of this.#pending) {
      this.#pending.delete(id);
      this.#deliver(id, p);
    }
    await Promise.all(this.#delivering);
  }

  /** Delivers on a timer every `intervalMs`. */
  start(): void {
    if (this.#opts.intervalMs > 0 && this.#timer === null) {
      this.#timer = setInterval(() => void this.flush(), this.#opts.intervalMs);
    }
  }

  /** Stops the timer and delivers what is buffered. */
  async stop(): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    await this.flush();
  }

  #deliver(sourceId: string, p: Pending): void {
    const d: Promise<void> = this.#write(p).catch((e) =>
      this.#opts.log.error("access log delivery failed", {
        sourceBucket: sourceId,
        targetBucket: p.source.cfg.targetBucket,
        records: p.lines.length,
        error: String(e),
      })
    ).finally(() => this.#delivering.delete(d));
    this.#delivering.add(d);
  }

  async #write(p: Pending): Promise<void> {
    const { storage, clock, grantees } = this.#opts;
    const cfg = p.source.cfg;
    const target = await storage.getBucket(cfg.targetNs, cfg.targetBucket.replace(/^[^:]*:/, ""));
    if (target.id !== cfg.targetId) {
      throw new Error(`target bucket ${cfg.targetBucket} was deleted and created again`);
    }
    const key = logObjectKey(
      cfg,
      { ownerId: p.source.ownerId, region: this.#region, bucketName: p.source.bucketName },
      { delivery: clock.now(), event: p.first },
      randomHex(8).toUpperCase(),
    );
    const bytes = new TextEncoder().encode(p.lines.join(""));
    const owner = canonicalUser(grantees, target.ownerId);
    const acl: StoredAcl | undefined = cfg.grants.length
      ? { owner, grants: [...privateAcl(owner).grants, ...cfg.grants] }
      : undefined;
    // Encrypted as an S3 PUT without encryption headers would be: the target's default.
    const sse = resolveSse(
      undefined,
      await storage.getBucketConfig<BucketEncryption>(target.id, ENCRYPTION_CONFIG),
      this.#opts.encryptNewObjects ?? false,
    );
    await storage.putObject(target, {
      key,
      body: new Blob([bytes]).stream(),
      contentLength: bytes.length,
      content: { contentType: "text/plain" },
      meta: {},
      ownerId: target.ownerId,
      ...(acl ? { acl } : {}),
      ...(sse ? { sse } : {}),
    });
  }
}
