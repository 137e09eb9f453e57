/**
 * What a value kept in memory costs, estimated from its shape: the figures the in-memory caches
 * charge against their byte bounds (`--record-cache`, `--object-cache`). Close to what V8 spends,
 * not exact: the constants below were measured with `Deno.memoryUsage()` over 100,000 copies
 * (a plain 1 KiB object's latest record, with its cache key and map entry: 618 bytes measured,
 * 667 estimated; a 1 KiB `Uint8Array` from KV, with its map entry: 1,584 bytes of resident
 * memory, the allocator's share included).
 */

/** An object's header, and each property (slot plus descriptor share). */
export const OBJECT = 24;
const PROPERTY = 12;
/** A string's header; its characters are counted one byte each (two when not Latin-1). */
const STRING = 24;
/** A heap number or bigint. */
const NUMBER = 16;
/** A typed array: the view, its ArrayBuffer and the allocator's share of the backing store. */
export const TYPED_ARRAY = 560;
/** A `Map` entry (hash table slot, key and value references). */
export const MAP_ENTRY = 32;

/** Estimated bytes of a string kept in memory. */
export function stringBytes(s: string): number {
  // deno-lint-ignore no-control-regex
  return STRING + (/[^\u0000-\u00ff]/.test(s) ? 2 * s.length : s.length);
}

/**
 * Estimated bytes of plain data (objects, arrays, strings, numbers, bytes) kept in memory.
 * Shared substructures are counted each time they are reached (records are trees).
 */
export function heapBytes(v: unknown): number {
  switch (typeof v) {
    case "string":
      return stringBytes(v);
    case "number":
    case "bigint":
      return NUMBER;
    case "object": {
      if (v === null) return 0;
      if (ArrayBuffer.isView(v)) return TYPED_ARRAY + v.byteLength;
      if (Array.isArray(v)) {
        let n = OBJECT + 8 * v.length;
        for (const x of v) n += heapBytes(x);
        return n;
      }
      let n = OBJECT;
      for (const k in v) n += PROPERTY + heapBytes((v as Record<string, unknown>)[k]);
      return n;
    }
    default:
      return 0;
  }
}
