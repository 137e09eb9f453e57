/**
 * Byte strings by id in a ring of segments allocated once and then reused: the storage of the
 * in-memory caches whose entries churn (object bytes, latest records; decision 0026). A buffer or
 * an object tree per entry costs hundreds of bytes besides the data, and at 100,000 objects and
 * more their turnover kept several times the budget resident: what a cache drops is freed only
 * when V8 collects it, and V8 collects late. Here the budget is the memory: segments are filled
 * in turn; when the ring is full the oldest is filled again, entries read since they were stored
 * moving to its front (at most half a segment: a second chance, close to LRU's hit rate) and the
 * others being forgotten.
 */

import { MAP_ENTRY, OBJECT, stringBytes } from "./heap_size.ts";

/** Bytes of a segment at most: few buffers in all. */
export const SEGMENT_BYTES = 1024 * 1024;

/**
 * A segment's size for a budget: a sixteenth of it (a power of two), at least 4 KiB and at most
 * SEGMENT_BYTES or the largest entry, whichever is more. Entries larger than a segment are not
 * kept, so a small budget keeps small entries only.
 */
export function segmentBytes(capacity: number, maxEntry: number): number {
  const sixteenth = 2 ** Math.floor(Math.log2(Math.max(1, capacity / 16)));
  return Math.min(Math.max(SEGMENT_BYTES, maxEntry), Math.max(4096, sixteenth));
}

/** Bytes charged for an entry besides its data: the id, the map entry and the entry's object. */
export function ringEntryOverhead(id: string): number {
  return MAP_ENTRY + stringBytes(id) + OBJECT + 4 * 8;
}

interface Segment {
  readonly buf: Uint8Array;
  used: number;
  /** Ids stored here, in order (some may since have been deleted or replaced). */
  ids: string[];
}

interface Entry {
  seg: Segment;
  off: number;
  len: number;
  /** Read since it was stored (or moved). */
  hit: boolean;
}

export class ByteRing {
  #entries = new Map<string, Entry>();
  /** Oldest first; the last one is being filled. */
  #segments: Segment[] = [];
  #overhead = 0;
  readonly #segmentBytes: number;

  /**
   * `capacity`: total bytes charged (segments plus each entry's overhead; 0 keeps nothing);
   * `maxEntry`: the largest entry kept.
   */
  constructor(readonly capacity: number, readonly maxEntry: number) {
    this.#segmentBytes = segmentBytes(capacity, maxEntry);
  }

  /** Bytes charged: whole segments (filled or not) and every entry's overhead. */
  get bytes(): number {
    return this.#segments.length * this.#segmentBytes + this.#overhead;
  }

  get size(): number {
    return this.#entries.size;
  }

  has(id: string): boolean {
    return this.#entries.has(id);
  }

  /**
   * The bytes of `id`, marked as read; undefined when not kept. The view is valid until the next
   * `set`: copy it (or decode it) before anything else can run.
   */
  view(id: string): Uint8Array | undefined {
    const e = this.#entries.get(id);
    if (e === undefined) return undefined;
    e.hit = true;
    return e.seg.buf.subarray(e.off, e.off + e.len);
  }

  /** Keeps a copy of `data` as the bytes of `id` (the caller may reuse its buffer). */
  set(id: string, data: Uint8Array): void {
    this.delete(id);
    if (data.byteLength > this.maxEntry || data.byteLength > this.#segmentBytes) return;
    if (this.#segmentBytes + ringEntryOverhead(id) > this.capacity) return;
    let seg = this.#segments.at(-1);
    if (!seg || seg.used + data.byteLength > this.#segmentBytes) seg = this.#nextSegment();
    seg.buf.set(data, seg.used);
    this.#entries.set(id, { seg, off: seg.used, len: data.byteLength, hit: false });
    this.#overhead += ringEntryOverhead(id);
    seg.ids.push(id);
    seg.used += data.byteLength;
    // Entries' overheads may still push the total over: whole segments go (their buffers too).
    while (this.bytes > this.capacity && this.#segments.length > 1) {
      const old = this.#segments.shift()!;
      for (const id of old.ids) if (this.#entries.get(id)?.seg === old) this.delete(id);
    }
  }

  delete(id: string): void {
    if (!this.#entries.delete(id)) return;
    this.#overhead -= ringEntryOverhead(id);
  }

  clear(): void {
    this.#entries.clear();
    this.#segments = [];
    this.#overhead = 0;
  }

  /**
   * A segment to fill: a new one while the budget allows it, else the oldest, with the entries
   * read since they were stored moved to its front (up to half of it) and the others forgotten.
   */
  #nextSegment(): Segment {
    if (this.bytes + this.#segmentBytes <= this.capacity || this.#segments.length === 0) {
      const seg = { buf: new Uint8Array(this.#segmentBytes), used: 0, ids: [] };
      this.#segments.push(seg);
      return seg;
    }
    const seg = this.#segments.shift()!;
    const ids = seg.ids;
    seg.ids = [];
    seg.used = 0;
    for (const id of ids) {
      const e = this.#entries.get(id);
      if (e === undefined || e.seg !== seg) continue;
      if (!e.hit || seg.used + e.len > this.#segmentBytes / 2) {
        this.delete(id);
        continue;
      }
      // Moving left only (`used` never passes `off`), so nothing not yet moved is overwritten.
      seg.buf.copyWithin(seg.used, e.off, e.off + e.len);
      e.off = seg.used;
      e.hit = false;
      seg.used += e.len;
      seg.ids.push(id);
    }
    this.#segments.push(seg);
    return seg;
  }
}
