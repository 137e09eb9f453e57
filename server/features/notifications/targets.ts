/**
 * Webhook targets: the destinations notification configurations name. The operator registers
 * global ones, a tenant's administrators their tenant's. A target is a URL the server POSTs
 * event messages to, with an optional header (e.g. `Authorization: Bearer ...`) and an optional
 * secret that signs each body (`X-MaxIOFS-Signature: sha256=<hex HMAC of the body>`); both are
 * sealed at rest with the server's secret box.
 *
 * ARN form: `arn:maxiofs:<sqs|sns|lambda>:<region>:<tenant id | global>:<name>`. Queue, Topic and
 * CloudFunction configurations name targets with service sqs, sns and lambda respectively; all
 * three name the same target. A bucket may name its own namespace's targets only (a tenant's
 * targets are registered by its administrators, or by the operator for it), so no tenant learns
 * of or sends to another's endpoints, the operator's included.
 *
 * The URL passes `checkEndpoint` when registered and before each delivery (worker.ts).
 */
import type { Db } from "../../db/mod.ts";
import type { Clock } from "../../clock.ts";
import type { SecretBox } from "../../iam/secrets.ts";
import { checkEndpoint, type OutboundPolicy, type Resolve } from "../../http/outbound.ts";
import type { DestinationKind } from "./config.ts";

/** The account field of a global target's ARN. */
export const GLOBAL_ACCOUNT = "global";

const SERVICE_OF: Record<DestinationKind, string> = {
  Queue: "sqs",
  Topic: "sns",
  CloudFunction: "lambda",
};

/** Target names: as SQS queue names (letters, digits, `-` and `_`, 1 to 80). */
const NAME = /^[A-Za-z0-9_-]{1,80}$/;
/** Header names a target may set (a token), never one the delivery itself sets. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/;
const RESERVED_HEADERS = new Set([
  "content-type",
  "content-length",
  "host",
  "x-maxiofs-signature",
  "x-maxiofs-event",
]);

/** What a registration may get wrong, in words the console and the CLI show. */
export class TargetError extends Error {
  override name = "TargetError";
  constructor(readonly code: "InvalidRequest" | "NotFound" | "Conflict", message: string) {
    super(message);
  }
}

/** A target as listed (no secret is ever returned). */
export interface WebhookTarget {
  /** "" global, else a tenant id. */
  ns: string;
  name: string;
  url: string;
  /** The extra header's name, when one is set (its value is sealed). */
  authHeader: string | null;
  /** Whether bodies are signed with a secret. */
  signed: boolean;
  created: number;
  /** The ARN a Queue configuration names it by (sns/lambda ARNs differ only in the service). */
  arn: string;
}

/** A target with its header value and secret opened (the delivery worker's view). */
export interface OpenedTarget extends WebhookTarget {
  authValue: string | null;
  secret: string | null;
}

export interface NewTarget {
  name: string;
  url: string;
  authHeader?: string | null;
  authValue?: string | null;
  secret?: string | null;
}

interface TargetRow {
  ns: string;
  name: string;
  url: string;
  auth_header: string | null;
  auth_sealed: string | null;
  secret_sealed: string | null;
  created_at: number;
}

/** The target an ARN names: namespace and name, or null when it is not a target ARN of `region`. */
export function parseTargetArn(
  arn: string,
  region: string,
): { ns: string; name: string; kind: DestinationKind } | null {
  const m = /^arn:maxiofs:(sqs|sns|lambda):([^:]*):([^:]+):([^:]+)$/.exec(arn);
  if (!m || m[2] !== region || !NAME.test(m[4])) return null;
  const kind = (Object.keys(SERVICE_OF) as DestinationKind[]).find((k) => SERVICE_OF[k] === m[1])!;
  return { ns: m[3] === GLOBAL_ACCOUNT ? "" : m[3], name: m[4], kind };
}

/** The ARN of a target for a configuration kind. */
export function targetArn(
  ns: string,
  name: string,
  region: string,
  kind: DestinationKind = "Queue",
): string {
  return `arn:maxiofs:${SERVICE_OF[kind]}:${region}:${ns || GLOBAL_ACCOUNT}:${name}`;
}

export interface WebhookTargetsOptions {
  db: Db;
  box: SecretBox;
  clock: Clock;
  region: string;
  outbound: OutboundPolicy;
  /** Host lookup of the endpoint check (tests); DNS by default. */
  resolve?: Resolve;
}

export class WebhookTargets {
  readonly region: string;
  readonly #db: Db;
  readonly #box: SecretBox;
  readonly #clock: Clock;
  readonly #outbound: OutboundPolicy;
  readonly #resolve?: Resolve;

  constructor(opts: WebhookTargetsOptions) {
    this.#db = opts.db;
    this.#box = opts.box;
    this.#clock = opts.clock;
    this.region = opts.region;
    this.#outbound = opts.outbound;
    this.#resolve = opts.resolve;
  }

  /** Checks a URL as registration and delivery do; throws `EndpointRefused`. */
  checkUrl(url: string): Promise<URL> {
    return checkEndpoint(url, this.#outbound, this.#resolve);
  }

  list(ns: string | null): WebhookTarget[] {
    const rows =
      (ns === null
        ? this.#db.prepare("SELECT * FROM webhook_targets ORDER BY ns, name").all()
        : this.#db.prepare("SELECT * FROM webhook_targets WHERE ns = ? ORDER BY name").all(
          ns,
        )) as unknown as TargetRow[];
    return rows.map((r) => this.#listed(r));
  }

  get(ns: string, name: string): WebhookTarget | null {
    const r = this.#row(ns, name);
    return r ? this.#listed(r) : null;
  }

  /** The target with its secrets opened, or null. */
  async open(ns: string, name: string): Promise<OpenedTarget | null> {
    const r = this.#row(ns, name);
    if (!r) return null;
    return {
      ...this.#listed(r),
      authValue: r.auth_sealed ? await this.#box.open(r.auth_sealed) : null,
      secret: r.secret_sealed ? await this.#box.open(r.secret_sealed) : null,
    };
  }

  /**
   * Whether a bucket of namespace `bucketNs` may name `arn` as a destination of a `kind`
   * configuration: the ARN is a target ARN of this region with the kind's service, naming a
   * target of the bucket's namespace.
   */
  usableBy(bucketNs: string, arn: string, kind: DestinationKind): boolean {
    const t = parseTargetArn(arn, this.region);
    if (!t || t.kind !== kind || t.ns !== bucketNs) return false;
    return this.#row(t.ns, t.name) !== null;
  }

  async create(ns: string, input: NewTarget): Promise<WebhookTarget> {
    if (typeof input.name !== "string" || !NAME.test(input.name)) {
      throw new TargetError(
        "InvalidRequest",
        "the name must be 1 to 80 letters, digits, hyphens or underscores",
      );
    }
    if (typeof input.url !== "string") throw new TargetError("InvalidRequest", "url is required");
    try {
      await this.checkUrl(input.url);
    } catch (e) {
      throw new TargetError("InvalidRequest", (e as Error).message);
    }
    const header = input.authHeader || null;
    if (header !== null) {
      if (!HEADER_NAME.test(header) || RESERVED_HEADERS.has(header.toLowerCase())) {
        throw new TargetError("InvalidRequest", `${JSON.stringify(header)} cannot be the header`);
      }
      if (!input.authValue || /[\r\n]/.test(input.authValue)) {
        throw new TargetError("InvalidRequest", "the header needs a value on one line");
      }
    }
    if (this.#row(ns, input.name)) {
      throw new TargetError("Conflict", `a target named ${input.name} exists`);
    }
    const authSealed = header ? await this.#box.seal(input.authValue!) : null;
    const secretSealed = input.secret ? await this.#box.seal(input.secret) : null;
    this.#db.prepare(
      `INSERT INTO webhook_targets (ns, name, url, auth_header, auth_sealed, secret_sealed, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ).run(ns, input.name, input.url, header, authSealed, secretSealed, this.#clock.now());
    return this.get(ns, input.name)!;
  }

  delete(ns: string, name: string): void {
    const r = this.#db.prepare("DELETE FROM webhook_targets WHERE ns = ? AND name = ?").run(
      ns,
      name,
    );
    if (r.changes === 0) throw new TargetError("NotFound", "no such target");
  }

  #row(ns: string, name: string): TargetRow | null {
    return (this.#db.prepare("SELECT * FROM webhook_targets WHERE ns = ? AND name = ?").get(
      ns,
      name,
    ) as unknown as TargetRow | undefined) ?? null;
  }

  #listed(r: TargetRow): WebhookTarget {
    return {
      ns: r.ns,
      name: r.name,
      url: r.url,
      authHeader: r.auth_header,
      signed: r.secret_sealed !== null,
      created: r.created_at,
      arn: targetArn(r.ns, r.name, this.region),
    };
  }
}
