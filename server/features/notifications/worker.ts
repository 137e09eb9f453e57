/**
 * The delivery worker of event notifications: POSTs each due delivery's event message, built from
 * its queued change (event_json.ts), to its webhook target (`Content-Type: application/json`). A 2xx answer delivers it; anything else (an error, a
 * timeout, a redirect, another status, a URL the endpoint check now refuses) postpones it with
 * exponential backoff, and after the last attempt it becomes a dead letter. The queue is SQLite,
 * so what was not delivered before a stop or a crash is delivered after the next start; an
 * attempt is recorded only once it ended, so one cut short by a crash is simply made again.
 *
 * Time is the injected clock; the wait between passes is an injected sleep that `wake()` (new
 * deliveries queued, a dead letter retried, a test moving its clock) ends early.
 */
import type { Clock } from "../../clock.ts";
import type { Logger } from "../../log.ts";
import { type NotificationRecorder, UNRECORDED_NOTIFICATIONS } from "../metrics/mod.ts";
import { realSleep, type Sleep } from "../integrity/scrubber.ts";
import type { Delivery, DeliveryQueue } from "./queue.ts";
import type { OpenedTarget, WebhookTargets } from "./targets.ts";
import { deliveryBody } from "./event_json.ts";

/** Attempts before a delivery becomes a dead letter. */
export const MAX_ATTEMPTS = 12;
/** Delay after the first failed attempt; doubled after each next one, up to `MAX_DELAY_MS`. */
export const BASE_DELAY_MS = 5_000;
export const MAX_DELAY_MS = 3_600_000;
/** How long one POST may take. */
const TIMEOUT_MS = 10_000;
/** POSTs in flight at once. */
const CONCURRENCY = 8;
/** Rows read per step of a pass. */
const BATCH = 64;
/** The longest wait between passes when nothing is due. */
const IDLE_MS = 60_000;
/** How long delivered rows wait, when no deliveries are queued, before their own removal. */
const REMOVE_AFTER_MS = 250;
/** The reason `wake()` gives the wait it ends. */
const WOKEN = "woken";

/** The delay before attempt `attempts + 1`, after `attempts` failed ones. */
export function backoffMs(attempts: number, base = BASE_DELAY_MS, max = MAX_DELAY_MS): number {
  return Math.min(max, base * 2 ** Math.max(0, attempts - 1));
}

/** The outcome of one POST. */
export type AttemptResult = { ok: true; status: number } | { ok: false; error: string };

export interface DeliveryWorkerOptions {
  queue: DeliveryQueue;
  targets: WebhookTargets;
  clock: Clock;
  log: Logger;
  /** The region event messages name (`awsRegion`). */
  region: string;
  metrics?: NotificationRecorder;
  /** The tenant name metrics show for a namespace ("" is `_global`). */
  tenantName?: (ns: string) => string;
  maxAttempts?: number;
  baseDelayMs?: number;
  sleep?: Sleep;
  /** The HTTP client (tests); the runtime's fetch by default. */
  fetch?: typeof fetch;
}

export interface PassResult {
  delivered: number;
  failed: number;
  dead: number;
}

export class DeliveryWorker {
  readonly #opts: DeliveryWorkerOptions;
  readonly #metrics: NotificationRecorder;
  readonly #fetch: typeof fetch;
  readonly #sleep: Sleep;
  readonly #stop = new AbortController();
  /** Aborted by `wake()` to end the current wait. */
  #wait = new AbortController();
  #loop: Promise<void> | null = null;
  /** The pass running now (passes never overlap). */
  #pass: Promise<{ res: PassResult; until: number }> | null = null;
  /** `wake()` came during a pass: the loop runs another at once. */
  #again = false;

  constructor(opts: DeliveryWorkerOptions) {
    this.#opts = opts;
    this.#metrics = opts.metrics ?? UNRECORDED_NOTIFICATIONS;
    this.#fetch = opts.fetch ?? fetch;
    this.#sleep = opts.sleep ?? realSleep;
  }

  start(): void {
    if (this.#loop) return;
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    this.#wait.abort();
    await this.#loop;
    await this.#pass;
    this.#opts.queue.removeSent();
  }

  /** Ends the current wait: deliveries were queued or became due. */
  wake(): void {
    this.#again = true;
    // A reason of our own: abort() without one builds a DOMException (its stack trace too) at
    // every wake, which is every batch of changes queued.
    if (!this.#wait.signal.aborted) this.#wait.abort(WOKEN);
  }

  async #run(): Promise<void> {
    const { queue, clock } = this.#opts;
    while (!this.#stop.signal.aborted) {
      this.#again = false;
      // Every row due at `until` was taken by the pass (those queued since woke it again):
      // what comes next is a failure's retry, due later. Delivered rows waiting for their
      // removal were due before; a cheap MIN(next_at) above `until` leaves them out.
      let until: number;
      try {
        until = (await this.#passAfter()).until;
      } catch (e) {
        this.#opts.log.error("notification delivery pass failed", { error: String(e) });
        queue.removeSent();
        until = Number.MIN_SAFE_INTEGER;
      }
      if (this.#stop.signal.aborted) return;
      if (this.#again) continue;
      const next = queue.nextDueAt(until);
      let wait = next === null ? IDLE_MS : Math.min(IDLE_MS, next - clock.now());
      if (wait <= 0) continue;
      // Delivered rows wait for the next deliveries queued, which remove them in their own
      // transaction; when none come, they are removed after a short while.
      const removing = queue.sentWaiting;
      if (removing) wait = Math.min(wait, REMOVE_AFTER_MS);
      this.#wait = new AbortController();
      if (this.#again) continue;
      await this.#sleep(wait, AbortSignal.any([this.#wait.signal, this.#stop.signal]));
      if (removing && !this.#again) queue.removeSent();
    }
  }

  /**
   * Delivers every delivery due now, and removes the delivered rows (one pass at a time: a second
   * call waits for the first).
   */
  async deliverDue(): Promise<PassResult> {
    const { res } = await this.#passAfter();
    this.#opts.queue.removeSent();
    return res;
  }

  /** A pass, once the one running (if any) has ended; with the time it delivered what was due at. */
  #passAfter(): Promise<{ res: PassResult; until: number }> {
    const prev = this.#pass ?? Promise.resolve(null);
    const pass = prev.catch(() => null).then(() => this.#deliverDue());
    this.#pass = pass;
    return pass;
  }

  async #deliverDue(): Promise<{ res: PassResult; until: number }> {
    const res: PassResult = { delivered: 0, failed: 0, dead: 0 };
    const { queue, clock } = this.#opts;
    // A pass ends at the rows due when it started: a failure postponed is not taken again.
    const until = clock.now();
    // Each row once per pass: an attempt cut short by a stop leaves its row as it was.
    const seen = new Set<number>();
    // Each target opened once per pass (its row read, its secrets unsealed).
    const targets = new Map<string, Promise<OpenedTarget | null>>();
    while (!this.#stop.signal.aborted) {
      // MIN(next_at) first: reading rows costs ~1.5 µs per column even when none is due, and
      // many passes (one per batch of changes queued) find their rows already taken.
      const next = queue.nextDueAt();
      if (next === null || next > until) break;
      const rows = queue.due(until, BATCH);
      const due = rows.filter((d) => !seen.has(d.id));
      if (due.length === 0) break;
      for (const d of due) seen.add(d.id);
      const delivered: Delivery[] = [];
      for (let i = 0; i < due.length && !this.#stop.signal.aborted; i += CONCURRENCY) {
        await Promise.all(
          due.slice(i, i + CONCURRENCY).map((d) => this.#deliverOne(d, targets, res, delivered)),
        );
      }
      // Removed once their POSTs have ended (a crash before sends them again), with the next
      // deliveries queued (queue.ts).
      queue.delivered(delivered);
      // Fewer rows than asked for: every row due was read (later ones wake another pass).
      if (rows.length < BATCH) break;
    }
    return { res, until };
  }

  /** One attempt; a delivered row goes to `delivered`, for the caller to have removed. */
  async #deliverOne(
    d: Delivery,
    targets: Map<string, Promise<OpenedTarget | null>>,
    res: PassResult,
    delivered: Delivery[],
  ): Promise<void> {
    const { queue, clock } = this.#opts;
    const tenant = this.#tenantName(d.targetNs);
    const name = `${d.targetNs}/${d.target}`;
    let opening = targets.get(name);
    if (!opening) {
      opening = this.#opts.targets.open(d.targetNs, d.target);
      targets.set(name, opening);
    }
    const target = await opening;
    const result: AttemptResult = target
      ? await this.post(target, deliveryBody(d, this.#opts.region), d.change.event)
      : { ok: false, error: "the webhook target no longer exists" };
    if (this.#stop.signal.aborted && !result.ok) return;
    if (result.ok) {
      delivered.push(d);
      this.#metrics.delivered(tenant, d.target);
      res.delivered++;
      return;
    }
    const attempts = d.attempts + 1;
    const max = this.#opts.maxAttempts ?? MAX_ATTEMPTS;
    const retry = target !== null && attempts < max;
    this.#metrics.failed(tenant, d.target, retry);
    if (retry) {
      const delay = backoffMs(attempts, this.#opts.baseDelayMs ?? BASE_DELAY_MS);
      queue.postpone(d.id, attempts, clock.now() + delay, result.error);
      res.failed++;
    } else {
      queue.bury(d.id, attempts, result.error);
      res.dead++;
      this.#opts.log.warn("event notification moved to the dead-letter list", {
        target: `${d.targetNs || "global"}/${d.target}`,
        bucket: d.change.bucket,
        key: d.change.key,
        error: result.error,
      });
    }
  }

  /**
   * One POST of `body` to a target: its URL checked again first (a name may resolve elsewhere
   * now), redirects not followed (they could lead past that check).
   */
  async post(target: OpenedTarget, body: string, event: string): Promise<AttemptResult> {
    try {
      await this.#opts.targets.checkUrl(target.url);
    } catch (e) {
      return { ok: false, error: (e as Error).message };
    }
    const headers = new Headers({ "content-type": "application/json", "x-maxiofs-event": event });
    if (target.authHeader && target.authValue !== null) {
      headers.set(target.authHeader, target.authValue);
    }
    if (target.secret) headers.set("x-maxiofs-signature", await signature(target.secret, body));
    try {
      const r = await this.#fetch(target.url, {
        method: "POST",
        headers,
        body,
        redirect: "manual",
        signal: AbortSignal.any([AbortSignal.timeout(TIMEOUT_MS), this.#stop.signal]),
      });
      await r.body?.cancel();
      if (r.status >= 200 && r.status < 300) return { ok: true, status: r.status };
      return { ok: false, error: `the target answered ${r.status}` };
    } catch (e) {
      const err = e as Error;
      return {
        ok: false,
        error: err.name === "TimeoutError" ? "the target did not answer in time" : err.message,
      };
    }
  }

  #tenantName(ns: string): string {
    return ns === "" ? "_global" : this.#opts.tenantName?.(ns) ?? ns;
  }
}

/** `sha256=<hex>`: the HMAC-SHA256 of the body with the target's secret. */
export async function signature(secret: string, body: string): Promise<string> {
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey(
    "raw",
    enc.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, enc.encode(body)));
  return "sha256=" + Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
}
