/**
 * The bytes of recently written or read small blobs, in memory, least recently used first out.
 * A small GET served from here needs no file call (each costs a round trip through Deno's
 * blocking-task pool, as much as the rest of the request). Blob ids are random and never reused
 * and a blob's bytes never change, so an entry can never be stale: removing a blob drops its
 * entry only to give the memory back.
 */

import { MAP_ENTRY, stringBytes, TYPED_ARRAY } from "../meta/heap_size.ts";

/** Blobs larger than this are never kept (they are streamed, not read whole). */
export const HOT_BLOB_MAX = 64 * 1024;

/**
 * Bytes charged for an entry: its data plus what holding it costs besides (the id, the map entry,
 * the Uint8Array and its ArrayBuffer, the allocator's share: ~560 bytes measured per 1 KiB blob,
 * so a budget of 1 KiB blobs holds about 60% of them in data, and empty blobs are bounded too).
 */
export function hotEntryBytes(id: string, byteLength: number): number {
  return byteLength + TYPED_ARRAY + MAP_ENTRY + stringBytes(id);
}

const cost = (id: string, data: Uint8Array) => hotEntryBytes(id, data.byteLength);

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

  /** `capacity`: total bytes charged (data plus each entry's overhead, `hotEntryBytes`; 0 disables). */
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
    if (data.byteLength > HOT_BLOB_MAX || cost(id, data) > this.capacity) return;
    this.delete(id);
    this.#entries.set(id, data);
    this.#bytes += cost(id, data);
    for (const [old, v] of this.#entries) {
      if (this.#bytes <= this.capacity) break;
      this.#entries.delete(old);
      this.#bytes -= cost(old, v);
    }
  }

  delete(id: string): void {
    const v = this.#entries.get(id);
    if (v === undefined) return;
    this.#entries.delete(id);
    this.#bytes -= cost(id, v);
  }

  clear(): void {
    this.#entries.clear();
    this.#bytes = 0;
  }
}
