/**
 * The bytes of recently written or read small blobs, in memory. A small GET served from here
 * needs no file call or KV read (each costs a round trip through another thread, as much as the
 * rest of the request). Blob ids are random and never reused and a blob's bytes never change, so
 * an entry can never be stale: removing a blob drops its entry only to give the memory back.
 * The bytes are kept in a ring of reused segments (meta/byte_ring.ts, decision 0026); readers get
 * a copy, so a segment can be filled again while an earlier answer is still being sent.
 */

import { ByteRing } from "../meta/byte_ring.ts";

/** Blobs larger than this are never kept (they are streamed, not read whole). */
export const HOT_BLOB_MAX = 64 * 1024;

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
  readonly #ring: ByteRing;

  /** `capacity`: total bytes charged (the ring's segments plus each entry's overhead; 0: none). */
  constructor(readonly capacity: number) {
    this.#ring = new ByteRing(capacity, HOT_BLOB_MAX);
  }

  get bytes(): number {
    return this.#ring.bytes;
  }

  get size(): number {
    return this.#ring.size;
  }

  /** A copy of the bytes of `id`; undefined when not kept. */
  get(id: string): Uint8Array | undefined {
    return this.#ring.view(id)?.slice();
  }

  /** Keeps a copy of `data` as the bytes of `id` (the caller may reuse its buffer). */
  set(id: string, data: Uint8Array): void {
    this.#ring.set(id, data);
  }

  delete(id: string): void {
    this.#ring.delete(id);
  }

  clear(): void {
    this.#ring.clear();
  }
}
