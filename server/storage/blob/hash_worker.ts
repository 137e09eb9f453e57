/**
 * The program of the hashing workers (hash_offload.ts) and the messages they exchange. The
 * workers are started from a blob: URL holding `workerSource()`, so the single-file bundle
 * (`deno task bundle`) carries them too; that source is `hashWorker`'s own text, so the program
 * is type-checked here like any module, and must use nothing from this module's scope.
 */
import type { Hash } from "node:crypto";

/** Algorithms node:crypto digests for us (the ones `Hasher.offload` may name). */
export type OffloadAlgorithm = "md5" | "sha1" | "sha256";

/** To a worker: sessions are numbered by the sender, one upload each. */
export type HashRequest =
  | { t: "open"; s: number; algs: OffloadAlgorithm[] }
  | { t: "data"; s: number; d: Uint8Array }
  | { t: "end"; s: number }
  | { t: "drop"; s: number };

/** From a worker: a chunk taken, a session's digests, or its failure. */
export type HashReply =
  | { t: "ack"; s: number }
  | { t: "digest"; s: number; d: Uint8Array[] }
  | { t: "error"; s: number; e: string };

/** What the program uses of the worker's global scope. */
export interface HashWorkerScope {
  onmessage: ((e: MessageEvent<HashRequest>) => void) | null;
  postMessage(m: HashReply): void;
}

/** The worker program: digests per session, in the order the chunks arrive. */
export function hashWorker(
  scope: HashWorkerScope,
  createHash: (algorithm: OffloadAlgorithm) => Hash,
): void {
  const sessions = new Map<number, Hash[]>();
  scope.onmessage = (e) => {
    const m = e.data;
    try {
      if (m.t === "open") {
        sessions.set(m.s, m.algs.map((a) => createHash(a)));
      } else if (m.t === "data") {
        for (const h of sessions.get(m.s)!) h.update(m.d);
        scope.postMessage({ t: "ack", s: m.s });
      } else if (m.t === "end") {
        const hs = sessions.get(m.s)!;
        sessions.delete(m.s);
        scope.postMessage({ t: "digest", s: m.s, d: hs.map((h) => new Uint8Array(h.digest())) });
      } else if (m.t === "drop") {
        sessions.delete(m.s);
      }
    } catch (err) {
      sessions.delete(m.s);
      scope.postMessage({ t: "error", s: m.s, e: String(err) });
    }
  };
}

/** The worker's module source: `hashWorker` run on the worker's scope. */
export function workerSource(): string {
  return `import { createHash } from "node:crypto";\n(${hashWorker.toString()})(self, createHash);\n`;
}
