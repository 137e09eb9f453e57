/**
 * The consoles' event stream: typed events pushed to every open console over server-sent events
 * (`GET /api/v1/events`). The server publishes (maintenance mode switched, alerts); each
 * subscriber is a signed-in user, and an event may be meant for some of them only. Bounded: at
 * most `maxSubscribers` streams, and a stream whose reader falls `maxQueued` events behind is
 * closed (its console reconnects and gets the current state again). Heartbeat comments keep idle
 * connections from being cut by proxies.
 */

import type { HistoryPoint } from "../features/history/store.ts";

/** What a console is told. `alert` data is the alert module's own shape. */
export type ConsoleEvent =
  | { type: "maintenance"; data: { enabled: boolean; message: string } }
  | { type: "settings"; data: { changed: string[] } }
  | { type: "alert"; data: Record<string, unknown> }
  | { type: "metrics"; data: HistoryPoint };

/** Who is listening on a stream (from the session that opened it). */
export interface EventAudience {
  userId: string;
  role: "global_admin" | "tenant_admin" | "tenant_user";
  /** null for global users. */
  tenantId: string | null;
}

export interface EventHubOptions {
  maxSubscribers?: number;
  /** Events queued for a slow reader before its stream is closed. */
  maxQueued?: number;
  /** Interval of the heartbeat comment; 0: none (tests). */
  heartbeatMs?: number;
}

interface Subscriber {
  who: EventAudience;
  controller: ReadableStreamDefaultController<Uint8Array>;
}

const encoder = new TextEncoder();

/** One event in the text/event-stream format. */
export function formatEvent(ev: ConsoleEvent): string {
  return `event: ${ev.type}\ndata: ${JSON.stringify(ev.data)}\n\n`;
}

export class EventHub {
  readonly #subscribers = new Set<Subscriber>();
  readonly #maxSubscribers: number;
  readonly #maxQueued: number;
  readonly #heartbeatMs: number;
  #heartbeat: ReturnType<typeof setInterval> | null = null;

  constructor(opts: EventHubOptions = {}) {
    this.#maxSubscribers = opts.maxSubscribers ?? 1000;
    this.#maxQueued = opts.maxQueued ?? 100;
    this.#heartbeatMs = opts.heartbeatMs ?? 25_000;
  }

  get size(): number {
    return this.#subscribers.size;
  }

  /**
   * A new stream for `who`, starting with `initial` (the current state); null when the hub is
   * full. The stream ends when its reader cancels it (the console went away) or the hub closes.
   */
  subscribe(who: EventAudience, initial: ConsoleEvent[]): ReadableStream<Uint8Array> | null {
    if (this.#subscribers.size >= this.#maxSubscribers) return null;
    let sub: Subscriber | null = null;
    const stream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        sub = { who, controller };
        this.#subscribers.add(sub);
        // A comment first, so the response starts at once (EventSource then reports "open").
        controller.enqueue(encoder.encode(": connected\n\n"));
        for (const ev of initial) controller.enqueue(encoder.encode(formatEvent(ev)));
        this.#startHeartbeat();
      },
      cancel: () => {
        if (sub) this.#drop(sub);
      },
    }, { highWaterMark: this.#maxQueued });
    return stream;
  }

  /** Sends `ev` to every subscriber `to` accepts (all without it); returns how many got it. */
  publish(ev: ConsoleEvent, to?: (who: EventAudience) => boolean): number {
    const bytes = encoder.encode(formatEvent(ev));
    let sent = 0;
    for (const sub of [...this.#subscribers]) {
      if (to && !to(sub.who)) continue;
      if (this.#send(sub, bytes)) sent++;
    }
    return sent;
  }

  /** Ends every stream (server stop). */
  close(): void {
    for (const sub of [...this.#subscribers]) {
      try {
        sub.controller.close();
      } catch {
        // already closed by its reader
      }
      this.#drop(sub);
    }
  }

  #send(sub: Subscriber, bytes: Uint8Array): boolean {
    // A reader this far behind is gone or stuck: closing bounds what is kept for it.
    if ((sub.controller.desiredSize ?? 0) <= 0) {
      try {
        sub.controller.close();
      } catch {
        // already closed
      }
      this.#drop(sub);
      return false;
    }
    try {
      sub.controller.enqueue(bytes);
      return true;
    } catch {
      this.#drop(sub);
      return false;
    }
  }

  #drop(sub: Subscriber): void {
    this.#subscribers.delete(sub);
    if (this.#subscribers.size === 0 && this.#heartbeat !== null) {
      clearInterval(this.#heartbeat);
      this.#heartbeat = null;
    }
  }

  #startHeartbeat(): void {
    if (this.#heartbeat !== null || this.#heartbeatMs <= 0) return;
    const ping = encoder.encode(": ping\n\n");
    this.#heartbeat = setInterval(() => {
      for (const sub of [...this.#subscribers]) this.#send(sub, ping);
    }, this.#heartbeatMs);
  }
}
