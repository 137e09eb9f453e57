/**
 * What the S3 front end checks before an operation runs, from the server's settings as they are
 * now: maintenance mode (writes refused, reads go on) and the rate limits per client address
 * (before authentication) and per access key (once the signature is verified, so nobody spends
 * another's allowance by naming its key). Both answer 503, as S3 does when it sheds load:
 * `SlowDown` with `Retry-After` over a rate limit, `ServiceUnavailable` during maintenance.
 */
import { S3Error } from "./errors.ts";
import type { Endpoint } from "./endpoint.ts";
import type { Client } from "../iam/net.ts";
import type { Clock } from "../clock.ts";
import { TokenBuckets } from "./rate_limit.ts";

/** A token bucket's refill rate (per second) and size (0: one second's worth); rate 0: off. */
export interface RateLimit {
  perSecond: number;
  burst: number;
}

export interface GateSettings {
  maintenance: { enabled: boolean; message: string };
  perKey: RateLimit;
  perAddress: RateLimit;
}

/** Operations that change nothing: everything a maintenance window lets through. */
export function isReadOnlyOp(op: Endpoint["op"]): boolean {
  return op === "Options" || /^(Get|Head|List)/.test(op);
}

export class S3Gate {
  readonly #keys: TokenBuckets;
  readonly #addresses: TokenBuckets;
  /** The settings in force, replaced as a whole when they change (`configure`). */
  #settings: GateSettings;

  constructor(settings: GateSettings, private readonly clock: Clock, maxTracked = 10_000) {
    this.#settings = settings;
    this.#keys = new TokenBuckets(maxTracked);
    this.#addresses = new TokenBuckets(maxTracked);
  }

  /** Applies changed settings from the next request on. */
  configure(settings: GateSettings): void {
    this.#settings = settings;
  }

  /**
   * Before authentication: maintenance mode and the client address's rate (none for requests
   * from inside the server, `client` null).
   */
  admitRequest(ep: Endpoint, client: Client | null): void {
    const s = this.#settings;
    if (s.maintenance.enabled && !isReadOnlyOp(ep.op)) {
      throw new S3Error("ServiceUnavailable", {
        message: s.maintenance.message
          ? `Service is unable to handle request: ${s.maintenance.message}`
          : undefined,
        headers: { "retry-after": "60" },
      });
    }
    this.admitAddress(client);
  }

  /**
   * The client address's rate alone (requests answered before any S3 operation is parsed: a share
   * link's refusals).
   */
  admitAddress(client: Client | null): void {
    if (client?.ip) this.#take(this.#addresses, client.ip, this.#settings.perAddress);
  }

  /** Once the signature is verified: the access key's rate. */
  admitKey(accessKeyId: string): void {
    this.#take(this.#keys, accessKeyId, this.#settings.perKey);
  }

  #take(buckets: TokenBuckets, id: string, limit: RateLimit): void {
    if (limit.perSecond <= 0) return;
    // No burst set: one second's worth.
    const burst = limit.burst > 0 ? limit.burst : Math.ceil(limit.perSecond);
    const waitMs = buckets.take(id, limit.perSecond, burst, this.clock.now());
    if (waitMs > 0) {
      throw new S3Error("SlowDown", {
        headers: { "retry-after": String(Math.max(1, Math.ceil(waitMs / 1000))) },
      });
    }
  }
}
