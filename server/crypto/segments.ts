/**
 * The `seg1` blob format (docs/decisions/0012-encryption-at-rest.md): the plaintext cut into
 * segments of `seg` bytes, each sealed with AES-256-GCM under the object's data key as
 * `ciphertext || 16-byte tag`, no header. The 12-byte nonce is the segment index (8 bytes,
 * big-endian) and a final-segment flag (4 bytes); the additional data is the blob id. An empty
 * object is one empty final segment.
 *
 * AES-GCM comes from gcm.ts: OpenSSL's libcrypto when it loads (synchronous, ~3.4 GB/s per core
 * and ~3 µs for a 4 KiB segment on AES-NI), else node:crypto for a single segment and WebCrypto
 * for runs of them (its calls run in parallel on Deno's blocking threads).
 */
import { gcm } from "./gcm.ts";

/** Plaintext bytes per segment (the `seg` of new records). */
export const SEGMENT_SIZE = 64 * 1024;
/** Bytes of the GCM tag after each segment's ciphertext. */
export const TAG_BYTES = 16;
/** Bytes of a data key (AES-256). */
export const DATA_KEY_BYTES = 32;

/** A stored blob failed authentication or is shorter than its record says. */
export class SegmentError extends Error {}

/** Segments of a plaintext of `size` bytes (an empty one still has its final segment). */
export function segmentCount(size: number, seg = SEGMENT_SIZE): number {
  return Math.max(1, Math.ceil(size / seg));
}

/** The stored length of a plaintext of `size` bytes: `size + 16 * max(1, ceil(size / seg))`. */
export function sealedSize(size: number, seg = SEGMENT_SIZE): number {
  return size + TAG_BYTES * segmentCount(size, seg);
}

function nonceOf(index: number, final: boolean): Uint8Array<ArrayBuffer> {
  const n = new Uint8Array(12);
  const v = new DataView(n.buffer);
  v.setUint32(0, Math.floor(index / 2 ** 32));
  v.setUint32(4, index >>> 0);
  v.setUint32(8, final ? 1 : 0);
  return n;
}

function checkKey(key: Uint8Array): void {
  if (key.byteLength !== DATA_KEY_BYTES) {
    throw new Error(`Cannot use a data key of ${key.byteLength} bytes: AES-256 needs 32`);
  }
}

/** Segments sealed or opened in one batch on WebCrypto's threads rather than node:crypto's. */
const PARALLEL_MIN = 2;
/** OpenSSL seals and opens runs of segments faster in place than any thread hop would. */
const SYNC_RUNS = gcm.name === "openssl";

/**
 * One object's data key bound to one blob: seals and opens runs of consecutive segments. With
 * OpenSSL every segment is done in place, one after another (64 MiB: ~20 ms of one core). Without
 * it a single segment goes through node:crypto (synchronous, no thread hop) and a run of several
 * goes to WebCrypto at once, whose calls run in parallel off the main thread (64 MiB in
 * 16-segment batches: ~100 ms, node:crypto ~350 ms).
 */
export class SegmentCipher {
  readonly #key: Uint8Array;
  readonly #aad: Uint8Array<ArrayBuffer>;
  #web: Promise<CryptoKey> | null = null;

  constructor(key: Uint8Array, blobId: string, readonly seg = SEGMENT_SIZE) {
    checkKey(key);
    this.#key = key;
    this.#aad = blobAad(blobId);
  }

  #webKey(): Promise<CryptoKey> {
    // A copy: the key must not be a view into a buffer that could be shared or detached.
    return this.#web ??= crypto.subtle.importKey("raw", this.#key.slice(), "AES-GCM", false, [
      "encrypt",
      "decrypt",
    ]);
  }

  /**
   * Seals `plain` as the segments `first`, `first + 1`, ... (`seg` bytes each, the last one
   * possibly shorter; an empty `plain` is one empty segment), the last one flagged final when
   * `final`. Returns their sealed bytes in order.
   */
  async seal(first: number, plain: Uint8Array, final: boolean): Promise<Uint8Array> {
    const seg = this.seg;
    const count = Math.max(1, Math.ceil(plain.byteLength / seg));
    const out = new Uint8Array(plain.byteLength + count * TAG_BYTES);
    if (count < PARALLEL_MIN || SYNC_RUNS) {
      for (let i = 0; i < count; i++) {
        gcm.seal(
          this.#key,
          nonceOf(first + i, final && i === count - 1),
          this.#aad,
          plain.subarray(i * seg, (i + 1) * seg),
          out,
          i * (seg + TAG_BYTES),
        );
      }
      return out;
    }
    const key = await this.#webKey();
    await Promise.all(Array.from({ length: count }, async (_, i) => {
      const part = plain.subarray(i * seg, (i + 1) * seg);
      const sealed = await crypto.subtle.encrypt(
        {
          name: "AES-GCM",
          iv: nonceOf(first + i, final && i === count - 1),
          additionalData: this.#aad,
        },
        key,
        part as Uint8Array<ArrayBuffer>,
      );
      out.set(new Uint8Array(sealed), i * (seg + TAG_BYTES));
    }));
    return out;
  }

  /**
   * Opens `sealed`, the sealed bytes of the whole segments `first`, `first + 1`, ... (the last
   * one possibly shorter), the last one final when `final`. Throws `SegmentError` when any is not
   * authentic. `inPlace`: `sealed` is the caller's to overwrite, and the plaintext may be returned
   * as a view of it.
   */
  async open(
    first: number,
    sealed: Uint8Array,
    final: boolean,
    inPlace = false,
  ): Promise<Uint8Array> {
    const unit = this.seg + TAG_BYTES;
    const count = Math.max(1, Math.ceil(sealed.byteLength / unit));
    if (sealed.byteLength - (count - 1) * unit < TAG_BYTES) {
      throw new SegmentError(
        count === 1 ? "Cannot open segment: truncated" : "Cannot open segments: truncated",
      );
    }
    if (inPlace && SYNC_RUNS) return this.#openInPlace(first, sealed, final, count);
    if (count < PARALLEL_MIN || SYNC_RUNS) {
      const out = new Uint8Array(sealed.byteLength - count * TAG_BYTES);
      for (let i = 0; i < count; i++) {
        const ok = gcm.open(
          this.#key,
          nonceOf(first + i, final && i === count - 1),
          this.#aad,
          sealed.subarray(i * unit, (i + 1) * unit),
          out,
          i * this.seg,
        );
        if (!ok) throw new SegmentError(`Cannot open segment ${first + i}: authentication failed`);
      }
      return out;
    }
    const key = await this.#webKey();
    const out = new Uint8Array(sealed.byteLength - count * TAG_BYTES);
    await Promise.all(Array.from({ length: count }, async (_, i) => {
      const part = sealed.subarray(i * unit, (i + 1) * unit);
      let plain: ArrayBuffer;
      try {
        plain = await crypto.subtle.decrypt(
          {
            name: "AES-GCM",
            iv: nonceOf(first + i, final && i === count - 1),
            additionalData: this.#aad,
          },
          key,
          part as Uint8Array<ArrayBuffer>,
        );
      } catch {
        throw new SegmentError(`Cannot open segment ${first + i}: authentication failed`);
      }
      out.set(new Uint8Array(plain), i * this.seg);
    }));
    return out;
  }

  /**
   * Opens the segments over their own sealed bytes and moves each plaintext down to close the
   * tag gaps: no new buffer, whose first touch of fresh pages cost more than the decryption (a
   * 64 MiB GET: ~30-70 ms against ~16 ms). Returns the plaintext, a view of `sealed`.
   */
  #openInPlace(first: number, sealed: Uint8Array, final: boolean, count: number): Uint8Array {
    const unit = this.seg + TAG_BYTES;
    let plainEnd = 0;
    for (let i = 0; i < count; i++) {
      const part = sealed.subarray(i * unit, Math.min((i + 1) * unit, sealed.byteLength));
      const ok = gcm.open(
        this.#key,
        nonceOf(first + i, final && i === count - 1),
        this.#aad,
        part,
        sealed,
        i * unit,
      );
      if (!ok) throw new SegmentError(`Cannot open segment ${first + i}: authentication failed`);
      const len = part.byteLength - TAG_BYTES;
      if (i > 0) sealed.copyWithin(plainEnd, i * unit, i * unit + len);
      plainEnd += len;
    }
    return sealed.subarray(0, plainEnd);
  }
}

/** The blob id as the segments' additional data. */
export function blobAad(blobId: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(blobId);
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/**
 * Seals a plaintext given in chunks of any size. `push` returns the sealed bytes of the segments
 * it completed (the last full segment is held back until more bytes or `finish` tell whether it
 * is the final one); `finish` seals what is left as the final segment.
 *
 * @example
 * ```ts
 * const s = new SegmentSealer(new Uint8Array(32), "blob-id");
 * const sealed = [await s.push(new Uint8Array(100_000)), await s.finish()];
 * ```
 */
export class SegmentSealer {
  readonly #c: SegmentCipher;
  /** Plaintext of the segment being filled (or held back, when full); made when first needed. */
  #pending: Uint8Array | null = null;
  #fill = 0;
  #index = 0;
  #done = false;
  /** Plaintext bytes pushed. */
  size = 0;

  constructor(key: Uint8Array, blobId: string, seg = SEGMENT_SIZE) {
    this.#c = new SegmentCipher(key, blobId, seg);
  }

  async push(chunk: Uint8Array): Promise<Uint8Array> {
    if (this.#done) throw new Error("Cannot push to a finished sealer");
    this.size += chunk.byteLength;
    const seg = this.#c.seg;
    const outs: Uint8Array[] = [];
    let off = 0;
    if (this.#fill > 0) {
      off = Math.min(seg - this.#fill, chunk.byteLength);
      const pending = this.#room(this.#fill + off);
      pending.set(chunk.subarray(0, off), this.#fill);
      this.#fill += off;
      // Full, and more bytes follow: not the final segment.
      if (this.#fill === seg && off < chunk.byteLength) {
        outs.push(await this.#c.seal(this.#index++, pending.subarray(0, seg), false));
        this.#fill = 0;
      }
    }
    const rest = chunk.byteLength - off;
    if (rest > 0 && this.#fill === 0) {
      // Whole segments straight from the chunk, all but the last one it reaches into.
      const whole = (Math.ceil(rest / seg) - 1) * seg;
      if (whole > 0) {
        outs.push(await this.#c.seal(this.#index, chunk.subarray(off, off + whole), false));
        this.#index += whole / seg;
        off += whole;
      }
      const tail = chunk.subarray(off);
      this.#room(tail.byteLength).set(tail, 0);
      this.#fill = tail.byteLength;
    }
    return outs.length ? concat(outs) : new Uint8Array(0);
  }

  /**
   * The pending buffer, able to hold `n` bytes with its first `#fill` kept: the first one only as
   * large as asked (a small object's only segment), a segment after that.
   */
  #room(n: number): Uint8Array {
    if (!this.#pending || this.#pending.byteLength < n) {
      const next = new Uint8Array(this.#pending ? this.#c.seg : n);
      if (this.#pending) next.set(this.#pending.subarray(0, this.#fill));
      this.#pending = next;
    }
    return this.#pending;
  }

  /** Seals the final segment (empty for an empty plaintext). */
  finish(): Promise<Uint8Array> {
    if (this.#done) throw new Error("Cannot finish a sealer twice");
    this.#done = true;
    const rest = this.#pending?.subarray(0, this.#fill) ?? new Uint8Array(0);
    return this.#c.seal(this.#index++, rest, true);
  }
}

/** A stream that seals the plaintext flowing through it (any chunking) into `seg1` bytes. */
export function sealStream(
  key: Uint8Array,
  blobId: string,
  seg = SEGMENT_SIZE,
): TransformStream<Uint8Array, Uint8Array> {
  const s = new SegmentSealer(key, blobId, seg);
  return new TransformStream({
    async transform(chunk, ctrl) {
      const out = await s.push(chunk);
      if (out.byteLength) ctrl.enqueue(out);
    },
    async flush(ctrl) {
      ctrl.enqueue(await s.finish());
    },
  });
}

/** Seals a whole plaintext. */
export async function sealAll(
  key: Uint8Array,
  blobId: string,
  plain: Uint8Array,
  seg = SEGMENT_SIZE,
): Promise<Uint8Array> {
  return await new SegmentCipher(key, blobId, seg).seal(0, plain, true);
}

/**
 * Opens a whole sealed blob; the plaintext length follows from the sealed length. Truncation at
 * a segment boundary fails too: the last segment present then lacks the final flag.
 */
export function openAll(
  key: Uint8Array,
  blobId: string,
  sealed: Uint8Array,
  seg = SEGMENT_SIZE,
): Promise<Uint8Array> {
  const size = plainSizeOf(sealed.byteLength, seg);
  return openRange(key, blobId, sealed, size, { start: 0, end: size - 1 }, seg);
}

/** The plaintext length of a sealed length (`SegmentError` when no plaintext seals to it). */
export function plainSizeOf(sealedLength: number, seg = SEGMENT_SIZE): number {
  const count = Math.max(1, Math.ceil(sealedLength / (seg + TAG_BYTES)));
  const size = sealedLength - count * TAG_BYTES;
  if (size < 0 || sealedSize(size, seg) !== sealedLength) {
    throw new SegmentError(`Cannot open blob: ${sealedLength} bytes is no sealed length`);
  }
  return size;
}

/** A plaintext byte range (inclusive end), as storage's `ByteRange`. */
export interface PlainRange {
  start: number;
  end: number;
}

/**
 * What to read of a blob holding a plaintext of `size` bytes to get `range` of it: the sealed
 * byte range of the segments it touches (inclusive end).
 */
export function sealedRangeOf(
  size: number,
  range: PlainRange,
  seg = SEGMENT_SIZE,
): { start: number; end: number } {
  const count = segmentCount(size, seg);
  const first = Math.min(count - 1, Math.floor(range.start / seg));
  const last = Math.min(count - 1, Math.floor(Math.max(range.end, 0) / seg));
  const start = first * (seg + TAG_BYTES);
  const end = Math.min(sealedSize(size, seg), (last + 1) * (seg + TAG_BYTES)) - 1;
  return { start, end };
}

/**
 * Opens the sealed bytes `sealedRangeOf(size, range)` of a blob holding a `size`-byte plaintext,
 * in chunks of any size, and keeps the plaintext of `range`. `finish` throws unless every
 * segment the range touches has been opened.
 */
export class SegmentOpener {
  readonly #c: SegmentCipher;
  readonly #size: number;
  readonly #count: number;
  readonly #range: PlainRange;
  /** A segment received in part (made when first needed). */
  #buf: Uint8Array | null = null;
  #fill = 0;
  #index: number;
  /** The last segment the range touches. */
  readonly #last: number;
  /** Plaintext bytes of the range still to emit. */
  #left: number;

  constructor(
    key: Uint8Array,
    blobId: string,
    size: number,
    range: PlainRange,
    seg = SEGMENT_SIZE,
  ) {
    this.#c = new SegmentCipher(key, blobId, seg);
    this.#size = size;
    this.#count = segmentCount(size, seg);
    this.#range = range;
    this.#index = Math.min(this.#count - 1, Math.floor(range.start / seg));
    this.#last = Math.min(this.#count - 1, Math.floor(Math.max(range.end, 0) / seg));
    this.#left = Math.max(0, range.end - range.start + 1);
  }

  /** Bytes of the sealed segment `index` (the final one may be short). */
  #sealedLen(index: number): number {
    const seg = this.#c.seg;
    return (index === this.#count - 1 ? this.#size - index * seg : seg) + TAG_BYTES;
  }

  /** Keeps what `range` wants of the plaintext of segments from `first` on. */
  #emit(out: Uint8Array[], first: number, plain: Uint8Array): void {
    if (this.#left <= 0) return;
    const from = Math.max(0, this.#range.start - first * this.#c.seg);
    const to = Math.min(plain.byteLength, from + this.#left);
    if (to <= from) return;
    out.push(plain.subarray(from, to));
    this.#left -= to - from;
  }

  /**
   * The plaintext of `range` that the segments completed by `chunk` hold. `owned`: the chunk is
   * the opener's to overwrite (a buffer just read for it), so whole segments are opened in place.
   */
  async push(chunk: Uint8Array, owned = false): Promise<Uint8Array[]> {
    const out: Uint8Array[] = [];
    let off = 0;
    if (this.#buf && this.#fill > 0) {
      const need = this.#sealedLen(this.#index);
      off = Math.min(need - this.#fill, chunk.byteLength);
      this.#buf.set(chunk.subarray(0, off), this.#fill);
      this.#fill += off;
      if (this.#fill < need) return out;
      const i = this.#index++;
      this.#emit(
        out,
        i,
        await this.#c.open(i, this.#buf.subarray(0, need), i === this.#count - 1),
      );
      this.#fill = 0;
    }
    // Whole segments straight from the chunk, opened as one batch.
    let m = 0;
    let bytes = 0;
    while (this.#index + m < this.#count) {
      const need = this.#sealedLen(this.#index + m);
      if (off + bytes + need > chunk.byteLength) break;
      bytes += need;
      m++;
    }
    if (m > 0) {
      const first = this.#index;
      this.#index += m;
      const final = this.#index === this.#count;
      this.#emit(
        out,
        first,
        await this.#c.open(first, chunk.subarray(off, off + bytes), final, owned),
      );
      off += bytes;
    }
    if (off < chunk.byteLength && this.#index < this.#count) {
      this.#buf ??= new Uint8Array(this.#c.seg + TAG_BYTES);
      this.#buf.set(chunk.subarray(off), 0);
      this.#fill = chunk.byteLength - off;
    }
    return out;
  }

  /** Throws unless every segment the range touches was opened. */
  finish(): void {
    if (this.#left > 0 || this.#index <= this.#last) {
      throw new SegmentError("Cannot open blob: it is shorter than its record says");
    }
  }
}

/** Opens `range` of a `size`-byte plaintext from the sealed bytes `sealedRangeOf(...)` names. */
export async function openRange(
  key: Uint8Array,
  blobId: string,
  sealed: Uint8Array,
  size: number,
  range: PlainRange,
  seg = SEGMENT_SIZE,
): Promise<Uint8Array> {
  const o = new SegmentOpener(key, blobId, size, range, seg);
  const parts = await o.push(sealed);
  o.finish();
  // An empty object was still authenticated: it is its empty final segment.
  return parts.length ? concat(parts) : new Uint8Array(0);
}

/**
 * A stream that opens the sealed bytes `sealedRangeOf(size, range)` of a blob and yields the
 * plaintext of `range`; it errors (never yields wrong bytes) when a segment is not authentic or
 * the bytes end early.
 */
export function openStream(
  key: Uint8Array,
  blobId: string,
  size: number,
  range: PlainRange,
  seg = SEGMENT_SIZE,
): TransformStream<Uint8Array, Uint8Array> {
  const o = new SegmentOpener(key, blobId, size, range, seg);
  return new TransformStream({
    async transform(chunk, ctrl) {
      for (const p of await o.push(chunk)) ctrl.enqueue(p);
    },
    flush() {
      o.finish();
    },
  });
}
