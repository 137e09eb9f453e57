/**
 * The HTTP listeners: bound before anything else starts (a taken address fails at once, before
 * the data dir is created or credentials are printed), then served with a deadline on every
 * connection, which `Deno.serve` does not have: a client that trickles its request headers, or
 * keeps a connection open without sending the next request, is disconnected.
 *
 * `Deno.serve` offers no such timeout and cannot serve an accepted connection, so each accepted
 * connection is handed to the runtime's own per-connection server (`serveHttpOnConnection`, the
 * one Deno's HTTP/2 support uses; reached through `Deno[Deno.internal]`). Its abort signal
 * closes the connection. A runtime without it falls back to `Deno.serve`, without the timeouts
 * (see docs/decisions/0006-connection-timeouts.md).
 *
 * A listener can be replaced while it serves (`replaceListener`): the new one accepts from then
 * on, the old one is closed, and the connections it accepted go on. TLS certificate reload is
 * built on it (server/http/tls.ts, docs/decisions/0013-tls-reload.md).
 */
import type { Logger } from "../log.ts";
import { listenTls, TlsError, type TlsMaterial } from "./tls.ts";

export class ListenError extends Error {}

export type Handler = (
  req: Request,
  info: Deno.ServeHandlerInfo<Deno.NetAddr>,
) => Response | Promise<Response>;

export interface ConnectionLimits {
  /** Milliseconds from accepting a connection to the end of its first request's headers (0: none). */
  headerTimeoutMs: number;
  /** Milliseconds a connection may wait, with no request running, for its next request (0: none). */
  idleTimeoutMs: number;
}

/** A bound TCP or TLS listener. */
export type NetListener = Deno.Listener<Deno.Conn, Deno.NetAddr>;

export interface GuardedServer {
  readonly addr: Deno.NetAddr;
  /** Whether connections are under the deadlines (false on a runtime without the hook). */
  readonly guarded: boolean;
  /**
   * Accepts from `next` from now on and closes the listener served so far; the connections it
   * accepted are served to their end. `next` is bound to the same address (`reusePort`).
   */
  replaceListener(next: NetListener): Promise<void>;
  /** Stops accepting, lets running requests finish and closes every connection. */
  shutdown(): Promise<void>;
}

/** `host:port` as people write it (IPv6 in brackets). */
export function formatAddr(hostname: string, port: number): string {
  return `${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`;
}

function reason(e: unknown): string {
  if (e instanceof Deno.errors.AddrInUse) return "address already in use";
  if (e instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (e instanceof Deno.errors.AddrNotAvailable) return "address not available on this host";
  return e instanceof Error ? e.message : String(e);
}

/**
 * Binds `hostname:port` now, over TLS when `tls` is given; an address that cannot be bound is a
 * `ListenError` naming it and `flag`, a certificate that cannot serve a `TlsError`.
 */
export function bindListener(
  hostname: string,
  port: number,
  flag: string,
  tls?: TlsMaterial,
): NetListener {
  try {
    if (!tls) return Deno.listen({ hostname, port });
    // A TLS listener is bound with `reusePort` (for reloads), which would share the port with
    // another process that has it too: a plain bind first fails if anything holds the port.
    if (port !== 0) Deno.listen({ hostname, port }).close();
    return listenTls(hostname, port, tls);
  } catch (e) {
    if (e instanceof TlsError) throw e;
    throw new ListenError(
      `Cannot listen on ${formatAddr(hostname, port)} (--${flag}): ${reason(e)}`,
    );
  }
}

/** Binds every address in order; on the first failure the ones bound are closed again. */
export function bindListeners(
  specs: { hostname: string; port: number; flag: string; tls?: TlsMaterial }[],
): NetListener[] {
  const bound: NetListener[] = [];
  try {
    for (const s of specs) bound.push(bindListener(s.hostname, s.port, s.flag, s.tls));
    return bound;
  } catch (e) {
    for (const l of bound) l.close();
    throw e;
  }
}

/** One open connection's deadline: none while a request runs. */
export class WatchedConnection {
  #inFlight = 0;
  #deadline: number;

  constructor(
    readonly watch: ConnectionWatch,
    readonly close: () => void,
  ) {
    this.#deadline = watch.deadlineAfter(watch.limits.headerTimeoutMs);
  }

  get deadline(): number {
    return this.#inFlight > 0 ? Infinity : this.#deadline;
  }

  requestStarted(): void {
    this.#inFlight++;
  }

  /** Called when the response has been sent (or failed to be). */
  requestEnded(): void {
    if (--this.#inFlight === 0) {
      this.#deadline = this.watch.deadlineAfter(this.watch.limits.idleTimeoutMs);
    }
  }
}

/** The deadlines of one listener's connections, checked by `sweep` (a timer in production). */
export class ConnectionWatch {
  readonly #open = new Set<WatchedConnection>();

  constructor(readonly limits: ConnectionLimits, readonly now: () => number) {}

  deadlineAfter(ms: number): number {
    return ms > 0 ? this.now() + ms : Infinity;
  }

  get size(): number {
    return this.#open.size;
  }

  open(close: () => void): WatchedConnection {
    const c = new WatchedConnection(this, close);
    this.#open.add(c);
    return c;
  }

  forget(c: WatchedConnection): void {
    this.#open.delete(c);
  }

  /** Closes every connection past its deadline; returns how many. */
  sweep(): number {
    const now = this.now();
    let closed = 0;
    for (const c of this.#open) {
      if (now < c.deadline) continue;
      this.#open.delete(c);
      c.close();
      closed++;
    }
    return closed;
  }

  /** How often `sweep` runs: a quarter of the shortest limit, between 10 ms and 1 s. */
  get sweepEveryMs(): number {
    const limits = [this.limits.headerTimeoutMs, this.limits.idleTimeoutMs].filter((ms) => ms > 0);
    return limits.length === 0 ? 0 : Math.min(1000, Math.max(10, Math.min(...limits) / 4));
  }
}

interface ConnectionServer {
  finished: Promise<void>;
  shutdown(): Promise<void>;
}

type ServeOnConnection = (
  conn: Deno.Conn,
  signal: AbortSignal,
  handler: Handler,
  onError: (error: unknown) => Response,
  onListen: () => void,
) => ConnectionServer;

/** The runtime's per-connection server, when this Deno has it. */
function serveOnConnection(): ServeOnConnection | null {
  const internal = Reflect.get(Deno, Reflect.get(Deno, "internal") ?? "");
  const fn = internal ? Reflect.get(internal, "serveHttpOnConnection") : undefined;
  return typeof fn === "function" ? fn : null;
}

/** Pause after a failed accept (EMFILE...) before the next one. */
const ACCEPT_RETRY_MS = 100;

/** One listener's accept loop; `stop` closes the listener and waits for the loop to end. */
class AcceptLoop {
  #stopped = false;
  readonly done: Promise<void>;

  constructor(
    readonly listener: NetListener,
    accept: (conn: Deno.Conn) => void,
    log: Logger,
  ) {
    this.done = (async () => {
      while (!this.#stopped) {
        let conn: Deno.Conn;
        try {
          conn = await listener.accept();
        } catch (e) {
          if (this.#stopped || e instanceof Deno.errors.BadResource) return;
          // Out of file descriptors, say: keep serving the open connections and try again.
          log.error("accept failed", { error: String(e) });
          await new Promise((r) => setTimeout(r, ACCEPT_RETRY_MS));
          continue;
        }
        accept(conn);
      }
    })();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    try {
      this.listener.close();
    } catch { /* already closed */ }
    await this.done;
  }
}

export interface ServeOptions {
  limits: ConnectionLimits;
  log: Logger;
  now?: () => number;
  /** The certificate, for a runtime without the per-connection server (served by `Deno.serve`). */
  tls?: Deno.TlsCertifiedKeyPem;
}

/** Serves `handler` on a bound listener, every connection under `opts.limits`. */
export function serveGuarded(
  listener: NetListener,
  handler: Handler,
  opts: ServeOptions,
): GuardedServer {
  const addr = listener.addr;
  const serveOn = serveOnConnection();
  if (!serveOn) {
    opts.log.warn("this Deno cannot serve a single connection: no header or idle timeouts", {
      addr: formatAddr(addr.hostname, addr.port),
    });
    listener.close();
    const server = Deno.serve(
      { hostname: addr.hostname, port: addr.port, onListen() {}, ...opts.tls },
      handler,
    );
    return {
      addr,
      guarded: false,
      replaceListener(next) {
        next.close();
        return Promise.reject(
          new Error("this Deno cannot serve a single connection: the listener cannot be replaced"),
        );
      },
      shutdown: () => server.shutdown(),
    };
  }
  const watch = new ConnectionWatch(opts.limits, opts.now ?? (() => performance.now()));
  const servers = new Set<ConnectionServer>();
  const onError = (error: unknown) => {
    opts.log.error("request handler failed", { error: String((error as Error)?.stack ?? error) });
    return new Response("Internal Server Error", { status: 500 });
  };
  const accept = (conn: Deno.Conn) => {
    const abort = new AbortController();
    const watched = watch.open(() => abort.abort());
    const ended = () => watched.requestEnded();
    const server = serveOn(
      conn,
      abort.signal,
      (req, info) => {
        watched.requestStarted();
        info.completed.then(ended, ended);
        return handler(req, info);
      },
      onError,
      () => {},
    );
    servers.add(server);
    // A peer that resets the connection, or fails the TLS handshake, rejects `finished`; that is
    // its end, not an error of the server.
    const gone = () => {
      servers.delete(server);
      watch.forget(watched);
    };
    server.finished.then(gone, gone);
  };
  const every = watch.sweepEveryMs;
  const sweeper = every > 0 ? setInterval(() => watch.sweep(), every) : null;
  let closing = false;
  let current = new AcceptLoop(listener, accept, opts.log);
  return {
    addr,
    guarded: true,
    async replaceListener(next) {
      if (closing) {
        next.close();
        return;
      }
      const old = current;
      current = new AcceptLoop(next, accept, opts.log);
      await old.stop();
    },
    async shutdown() {
      closing = true;
      await current.stop();
      await Promise.allSettled([...servers].map((s) => s.shutdown()));
      if (sweeper !== null) clearInterval(sweeper);
    },
  };
}
