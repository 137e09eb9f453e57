/**
 * The bytes of recently written or read small blobs, in memory, least recently used first out.
 * A small GET served from here needs no file call (each costs a round trip through Deno's
 * blocking-task pool, as much as the rest of the request). Blob ids are random and never reused
 * and a blob's bytes never change, so an entry can never be stale: removing a blob drops its
 * entry only to give the memory back.
 */

/** Blobs larger than this are never kept (they are streamed, not read whole). */
export const HOT_BLOB_MAX = 64 * 1024;
/** Bytes charged per entry on top of its data (bookkeeping; keeps empty blobs bounded too). */
const ENTRY_OVERHEAD = 96;

const cost = (data: Uint8Array) => data.byteLength + ENTRY_OVERHEAD;

/** A stream of one buffer (none when empty). Readers must not change the bytes. */
export function bytesStream(data: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(ctrl) {
      if (data.byteLength) ctrl.enqueue(data);
      ctrl.close();
    },
  });
}

export class HotBlobCache {
  #entries = new Map<string, Uint8Array>();
  #bytes = 0;

  /** `capacity`: total bytes charged (data plus a small overhead per entry; 0 disables). */
  constructor(readonly capacity: number) {}

  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The bytes of `id`, marked as just used; undefined when not kept. */
  get(id: string): Uint8Array | undefined {
    const v = this.#entries.get(id);
    if (v === undefined) return undefined;
    this.#entries.delete(id);
    this.#entries.set(id, v);
    return v;
  }

  /**
   * Keeps `data` as the bytes of `id`. The caller hands the buffer over: it must not change it
   * afterwards (readers get it without a copy).
   */
  set(id: string, data: Uint8Array): void {
    if (data.byteLength > HOT_BLOB_MAX || cost(data) > this.capacity) return;
    this.delete(id);
    this.#entries.set(id, data);
    this.#bytes += cost(data);
    for (const [old, v] of this.#entries) {
      if (this.#bytes <= this.capacity) break;
      this.#entries.delete(old);
      this.#bytes -= cost(v);
    }
  }

  delete(id: string): void {
    const v = this.#entries.get(id);
    if (v === undefined) return;
    this.#entries.delete(id);
    this.#bytes -= cost(v);
  }

  clear(): void {
    this.#entries.clear();
    this.#bytes = 0;
  }
}
