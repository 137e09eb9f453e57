/**
 * The documents of recent listing pages, kept as the bytes that were sent. A page read from the
 * in-memory listing copy carries the stamp of the copy's state (list_memory.ts): the same request
 * against the same stamp is the same document, so it is sent again instead of read and written
 * again. Writing the 1000 `<Contents>` of a full page, and Deno copying that string of ~10,000
 * pieces out as UTF-8, were more than half of a LIST's CPU. Any commit to the bucket gives its copy
 * a new stamp, and the kept documents of the old one stop answering.
 *
 * A document is kept the second time its request comes for one state: a bucket that changes
 * between listings would only pay for turning each document into bytes (about what Deno's own
 * copy of the string costs) and never send them again.
 *
 * Bounded by bytes and by count, least recently used first out; a document larger than a quarter
 * of the bound is not kept.
 */

/** The bytes kept over all documents by default. */
export const DEFAULT_LIST_DOCUMENT_BYTES = 16 * 2 ** 20;
/** Documents kept at most (each key holds the request's names: up to a few KB). */
const MAX_DOCUMENTS = 512;

interface Kept {
  stamp: number;
  /** Null: the request came once for this stamp, its document is not kept yet. */
  bytes: Uint8Array<ArrayBuffer> | null;
}

const sizeOf = (kept: Kept) => kept.bytes?.length ?? 0;

export class ListDocuments {
  /** Request key -> the document for one stamp, least recently used first. */
  #docs = new Map<string, Kept>();
  #bytes = 0;

  /** `maxBytes` 0 keeps nothing. */
  constructor(readonly maxBytes: number = DEFAULT_LIST_DOCUMENT_BYTES) {}

  /** Bytes kept now. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Documents kept now. */
  get size(): number {
    return this.#docs.size;
  }

  /** The document kept for this request and stamp, if any. */
  get(key: string, stamp: number): Uint8Array<ArrayBuffer> | null {
    const kept = this.#docs.get(key);
    if (kept === undefined) return null;
    if (kept.stamp !== stamp) {
      // Stamps only grow: a kept document of an older one never answers again.
      if (kept.stamp < stamp) this.#remove(key, kept);
      return null;
    }
    this.#docs.delete(key);
    this.#docs.set(key, kept);
    return kept.bytes;
  }

  /**
   * Whether this request came before for this stamp (its document is worth keeping now); notes
   * that it came, if not.
   */
  seen(key: string, stamp: number): boolean {
    if (this.maxBytes === 0) return false;
    const kept = this.#docs.get(key);
    if (kept !== undefined && kept.stamp === stamp) return true;
    if (kept !== undefined && kept.stamp > stamp) return false;
    this.#keep(key, { stamp, bytes: null });
    return false;
  }

  /** Keeps `bytes` as the document for this request and stamp. */
  set(key: string, stamp: number, bytes: Uint8Array<ArrayBuffer>): void {
    if (bytes.length > this.maxBytes / 4) return;
    const old = this.#docs.get(key);
    if (old !== undefined && old.stamp > stamp) return;
    this.#keep(key, { stamp, bytes });
  }

  #keep(key: string, kept: Kept): void {
    const old = this.#docs.get(key);
    if (old !== undefined) this.#remove(key, old);
    this.#docs.set(key, kept);
    this.#bytes += sizeOf(kept);
    for (const [oldest, itsDoc] of this.#docs) {
      if (this.#bytes <= this.maxBytes && this.#docs.size <= MAX_DOCUMENTS) return;
      this.#remove(oldest, itsDoc);
    }
  }

  #remove(key: string, kept: Kept): void {
    this.#docs.delete(key);
    this.#bytes -= sizeOf(kept);
  }
}
