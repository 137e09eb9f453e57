/**
 * Replication destinations: remote S3 endpoints registered per namespace under a name that
 * rules' Destination ARNs use (`arn:aws:s3:::<name>`). The secret key is sealed with the master
 * key (SecretBox) like the other stored secrets, opened only to sign requests, and never logged
 * or returned: `Destination` carries no secret; `openCredentials` is the one way to it.
 */
import type { Db } from "../../db/mod.ts";
import type { SecretBox } from "../../iam/secrets.ts";
import type { Clock } from "../../clock.ts";
import { checkEndpoint, type OutboundPolicy, type Resolve } from "../../http/outbound.ts";

/** What the API shows of a destination (no secret). */
export interface Destination {
  ns: string;
  name: string;
  /** The S3 endpoint URL (`https://s3.example.com`). */
  endpoint: string;
  region: string;
  /** The bucket at the endpoint objects are copied into. */
  bucket: string;
  /** Path-style requests (`endpoint/bucket/key`); false: virtual-host style. */
  pathStyle: boolean;
  /**
   * When the destination already holds the key: "source" overwrites it (the source wins);
   * "newer" keeps a destination object modified after the source version (last writer wins).
   */
  conflict: ConflictPolicy;
  accessKey: string;
  createdAt: number;
  updatedAt: number;
}

export type ConflictPolicy = "source" | "newer";

export interface DestinationInput {
  name: string;
  endpoint: string;
  region?: string;
  bucket: string;
  pathStyle?: boolean;
  conflict?: ConflictPolicy;
  accessKey: string;
  /** Required when creating; kept as it was when absent on an update. */
  secretKey?: string;
}

/** A destination input refused, with the reason in words a user can act on. */
export class DestinationError extends Error {
  override name = "DestinationError";
}

const NAME = /^[a-z0-9](?:[a-z0-9.-]{0,61}[a-z0-9])?$/;
/** Bucket names AWS allows (the remote bucket; its rules are the remote's to enforce). */
const REMOTE_BUCKET = /^[A-Za-z0-9][A-Za-z0-9._-]{1,253}[A-Za-z0-9]$/;

interface Row {
  ns: string;
  name: string;
  endpoint: string;
  region: string;
  bucket: string;
  path_style: number;
  conflict: ConflictPolicy;
  access_key: string;
  sealed_secret: string;
  created_at: number;
  updated_at: number;
}

function fromRow(r: Row): Destination {
  return {
    ns: r.ns,
    name: r.name,
    endpoint: r.endpoint,
    region: r.region,
    bucket: r.bucket,
    pathStyle: r.path_style === 1,
    conflict: r.conflict,
    accessKey: r.access_key,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export interface DestinationStoreDeps {
  db: Db;
  box: SecretBox;
  clock: Clock;
  outbound: OutboundPolicy;
  /** Host lookups of the endpoint check (tests); DNS by default. */
  resolve?: Resolve;
}

export class DestinationStore {
  readonly #deps: DestinationStoreDeps;
  /**
   * Opened secrets by `ns/name@` and sealed value (sealed anew whenever it is set or rewrapped):
   * the worker opens its destination's credentials for every copy. One per destination.
   */
  readonly #opened = new Map<string, string>();

  constructor(deps: DestinationStoreDeps) {
    this.#deps = deps;
  }

  list(ns: string): Destination[] {
    const rows = this.#deps.db.prepare(
      "SELECT * FROM replication_destinations WHERE ns = ? ORDER BY name",
    ).all(ns) as unknown as Row[];
    return rows.map(fromRow);
  }

  get(ns: string, name: string): Destination | null {
    const r = this.#row(ns, name);
    return r ? fromRow(r) : null;
  }

  #row(ns: string, name: string): Row | undefined {
    return this.#deps.db.prepare(
      "SELECT * FROM replication_destinations WHERE ns = ? AND name = ?",
    ).get(ns, name) as unknown as Row | undefined;
  }

  /**
   * Creates or replaces the destination `input.name` of `ns`, once its endpoint passes the
   * outbound check (EndpointRefused otherwise) and its fields are well formed.
   */
  async put(ns: string, input: DestinationInput): Promise<Destination> {
    if (!NAME.test(input.name ?? "")) {
      throw new DestinationError(
        `Cannot use destination name ${
          JSON.stringify(input.name)
        }: 1 to 63 lower-case letters, digits, dots and hyphens`,
      );
    }
    if (!REMOTE_BUCKET.test(input.bucket ?? "")) {
      throw new DestinationError(`Cannot use bucket ${JSON.stringify(input.bucket)}: not a name`);
    }
    if (!input.accessKey || /\s/.test(input.accessKey)) {
      throw new DestinationError("An access key is required");
    }
    const region = input.region || "us-east-1";
    if (!/^[a-z0-9-]{1,64}$/.test(region)) {
      throw new DestinationError(`Cannot use region ${JSON.stringify(region)}`);
    }
    const conflict = input.conflict ?? "source";
    if (conflict !== "source" && conflict !== "newer") {
      throw new DestinationError(`Cannot use conflict policy ${JSON.stringify(conflict)}`);
    }
    const url = await checkEndpoint(input.endpoint, this.#deps.outbound, this.#deps.resolve);
    const endpoint = url.origin + url.pathname.replace(/\/+$/, "");
    const had = this.#row(ns, input.name);
    let sealed: string;
    if (input.secretKey) sealed = await this.#deps.box.seal(input.secretKey);
    else if (had) sealed = had.sealed_secret;
    else throw new DestinationError("A secret key is required");
    const now = this.#deps.clock.now();
    this.#deps.db.prepare(
      `INSERT INTO replication_destinations
         (ns, name, endpoint, region, bucket, path_style, conflict, access_key, sealed_secret,
          created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (ns, name) DO UPDATE SET endpoint = excluded.endpoint,
         region = excluded.region, bucket = excluded.bucket, path_style = excluded.path_style,
         conflict = excluded.conflict, access_key = excluded.access_key, sealed_secret = excluded.sealed_secret,
         updated_at = excluded.updated_at`,
    ).run(
      ns,
      input.name,
      endpoint,
      region,
      input.bucket,
      input.pathStyle === false ? 0 : 1,
      conflict,
      input.accessKey,
      sealed,
      had?.created_at ?? now,
      now,
    );
    return this.get(ns, input.name)!;
  }

  /** Removes a destination; false when there was none. */
  delete(ns: string, name: string): boolean {
    const r = this.#deps.db.prepare(
      "DELETE FROM replication_destinations WHERE ns = ? AND name = ?",
    ).run(ns, name);
    return Number(r.changes) > 0;
  }

  /** The destination with its secret opened, to sign requests with (never shown or logged). */
  async openCredentials(
    ns: string,
    name: string,
  ): Promise<{ dest: Destination; secretKey: string } | null> {
    const r = this.#row(ns, name);
    if (!r) return null;
    const id = `${ns}/${name}@${r.sealed_secret}`;
    let secretKey = this.#opened.get(id);
    if (secretKey === undefined) {
      secretKey = await this.#deps.box.open(r.sealed_secret);
      for (const k of this.#opened.keys()) {
        if (k.startsWith(`${ns}/${name}@`)) this.#opened.delete(k);
      }
      this.#opened.set(id, secretKey);
    }
    return { dest: fromRow(r), secretKey };
  }

  /** Checks a destination's endpoint again before connecting (a name may resolve elsewhere). */
  async checkBeforeConnect(dest: Destination): Promise<void> {
    await checkEndpoint(dest.endpoint, this.#deps.outbound, this.#deps.resolve);
  }
}
