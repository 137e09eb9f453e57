/**
 * Digests computed in Worker threads, so a large upload's MD5 (about 1.5 ms per MiB, the
 * costliest step of a PUT) runs beside the JS thread that receives and writes the body instead
 * of on it. Each upload is a session pinned to one worker (messages to a worker keep their
 * order); chunks are copied into the message, so the caller may reuse its buffer at once.
 *
 * The workers' program and messages are in hash_worker.ts.
 */
import {
  type HashReply,
  type HashRequest,
  type OffloadAlgorithm,
  workerSource,
} from "./hash_worker.ts";

export type { OffloadAlgorithm };

/** Chunks a session may have in flight before `update` waits (bounds memory per upload). */
const MAX_IN_FLIGHT = 3;

interface SessionState {
  inFlight: number;
  /** Resolved when an ack brings `inFlight` under the limit. */
  wake: PromiseWithResolvers<void> | null;
  done: PromiseWithResolvers<Uint8Array[]>;
  failed: Error | null;
}

export interface HashSession {
  /** Queues a copy of `data`; resolves when the session may take more. */
  update(data: Uint8Array): Promise<void>;
  /** The digests, in the order of the algorithms the session was opened with. */
  finish(): Promise<Uint8Array[]>;
  /** Drops the session (the upload failed). */
  abort(): void;
}

export class HashOffload {
  #workers: Worker[] = [];
  #url: string | null = null;
  #next = 0;
  #seq = 0;
  #sessions = new Map<number, SessionState>();
  #closed = false;

  /** Two workers even on 2 cores (concurrent multipart parts hash in parallel), up to four. */
  constructor(
    readonly size: number = Math.min(4, Math.max(2, Math.ceil(navigator.hardwareConcurrency / 2))),
  ) {}

  #worker(): Worker {
    if (this.#workers.length < this.size) {
      this.#url ??= URL.createObjectURL(new Blob([workerSource()], { type: "text/javascript" }));
      const w = new Worker(this.#url, { type: "module" });
      w.onmessage = (e: MessageEvent<HashReply>) => this.#onMessage(e.data);
      w.onerror = (e) => {
        // A dead worker would leave its sessions waiting forever: fail them all (their uploads
        // answer InternalError) and let the next session start a fresh worker.
        e.preventDefault();
        this.#workers = this.#workers.filter((x) => x !== w);
        w.terminate();
        this.#failAll(new Error(`hash worker failed: ${e.message}`));
      };
      this.#workers.push(w);
    }
    return this.#workers[this.#next++ % this.#workers.length];
  }

  #onMessage(m: HashReply): void {
    const st = this.#sessions.get(m.s);
    if (!st) return;
    if (m.t === "ack") {
      st.inFlight--;
      if (st.wake && st.inFlight < MAX_IN_FLIGHT) {
        st.wake.resolve();
        st.wake = null;
      }
    } else if (m.t === "digest") {
      this.#sessions.delete(m.s);
      st.done.resolve(m.d);
    } else if (m.t === "error") {
      this.#sessions.delete(m.s);
      this.#fail(st, new Error(`hash worker failed: ${m.e}`));
    }
  }

  #fail(st: SessionState, err: Error): void {
    st.failed = err;
    st.wake?.reject(err);
    st.wake = null;
    st.done.reject(err);
  }

  #failAll(err: Error): void {
    for (const st of this.#sessions.values()) this.#fail(st, err);
    this.#sessions.clear();
  }

  /** Opens a session computing `algorithms` over the bytes it is given. */
  open(algorithms: OffloadAlgorithm[]): HashSession {
    if (this.#closed) throw new Error("hash offload is closed");
    const s = ++this.#seq;
    const w = this.#worker();
    const st: SessionState = {
      inFlight: 0,
      wake: null,
      done: Promise.withResolvers<Uint8Array[]>(),
      failed: null,
    };
    st.done.promise.catch(() => {}); // observed through finish()
    this.#sessions.set(s, st);
    const post = (m: HashRequest, transfer: Transferable[] = []) => w.postMessage(m, transfer);
    post({ t: "open", s, algs: algorithms });
    return {
      update: async (data) => {
        if (st.failed) throw st.failed;
        const copy = data.slice();
        st.inFlight++;
        post({ t: "data", s, d: copy }, [copy.buffer]);
        if (st.inFlight >= MAX_IN_FLIGHT) {
          st.wake = Promise.withResolvers<void>();
          await st.wake.promise;
        }
      },
      finish: () => {
        if (st.failed) return Promise.reject(st.failed);
        post({ t: "end", s });
        return st.done.promise;
      },
      abort: () => {
        if (!this.#sessions.delete(s)) return;
        post({ t: "drop", s });
      },
    };
  }

  /** Stops the workers (they would keep the process alive). */
  close(): void {
    this.#closed = true;
    this.#failAll(new Error("hash offload closed"));
    for (const w of this.#workers.splice(0)) w.terminate();
    if (this.#url) URL.revokeObjectURL(this.#url);
    this.#url = null;
  }
}
