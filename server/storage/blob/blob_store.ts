/**
 * Object bytes as files named by random blob ids under `objects/xx/`. Writes stream into
 * `tmp/` while hashing and are renamed into place; nothing is visible to S3 until the metadata
 * store publishes the id.
 */
import { S3Error } from "../../s3/errors.ts";
import type { ByteRange } from "../types.ts";
import type { Hasher } from "../hashing.ts";

export interface StagedBlob {
  id: string;
  size: number;
}

export interface StageOptions {
  /** Hashers fed with every byte, in order. */
  hashers: Hasher[];
  /** Largest accepted size; more is `EntityTooLarge`. */
  maxSize?: number;
  /** Declared length; a different byte count is `IncompleteBody`. */
  expectedSize?: number | null;
  /**
   * Caller-chosen blob id (multipart parts are `uploadId.partNumber.random` so they share one
   * reference entry); must be unique, file-name safe and at least 2 characters. Default: random.
   */
  id?: string;
}

export function newBlobId(): string {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

export class BlobStore {
  readonly objectsDir: string;
  readonly tmpDir: string;

  constructor(readonly dataDir: string, readonly opts: { fsync: boolean } = { fsync: false }) {
    this.objectsDir = `${dataDir}/objects`;
    this.tmpDir = `${dataDir}/tmp`;
  }

  async init(): Promise<void> {
    await Deno.mkdir(this.objectsDir, { recursive: true });
    // Temp files belong to requests of a previous process: none can still be in flight.
    await Deno.remove(this.tmpDir, { recursive: true }).catch(() => {});
    await Deno.mkdir(this.tmpDir, { recursive: true });
  }

  pathOf(id: string): string {
    return `${this.objectsDir}/${id.slice(0, 2)}/${id}`;
  }

  /**
   * Streams `body` into a new blob while feeding the hashers, then moves it into place.
   * On any failure the partial file is removed and the error rethrown.
   */
  async write(body: ReadableStream<Uint8Array>, opts: StageOptions): Promise<StagedBlob> {
    const id = opts.id ?? newBlobId();
    const tmp = `${this.tmpDir}/${id}`;
    const file = await Deno.open(tmp, { write: true, createNew: true });
    let size = 0;
    try {
      const max = opts.maxSize ?? Number.MAX_SAFE_INTEGER;
      const expected = opts.expectedSize ?? null;
      for await (const chunk of body) {
        size += chunk.byteLength;
        if (size > max) throw new S3Error("EntityTooLarge");
        if (expected !== null && size > expected) throw new S3Error("IncompleteBody");
        for (const h of opts.hashers) h.update(chunk);
        let off = 0;
        while (off < chunk.byteLength) off += await file.write(chunk.subarray(off));
      }
      if (expected !== null && size !== expected) throw new S3Error("IncompleteBody");
      if (this.opts.fsync) await file.sync();
      file.close();
    } catch (e) {
      try {
        file.close();
      } catch { /* already closed */ }
      await Deno.remove(tmp).catch(() => {});
      throw e;
    }
    const dest = this.pathOf(id);
    try {
      await Deno.rename(tmp, dest);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      await Deno.mkdir(`${this.objectsDir}/${id.slice(0, 2)}`, { recursive: true });
      await Deno.rename(tmp, dest);
    }
    return { id, size };
  }

  /** Opens a blob for reading, positioned at `range.start` when given. */
  async open(id: string, range?: ByteRange): Promise<ReadableStream<Uint8Array>> {
    const file = await Deno.open(this.pathOf(id), { read: true });
    if (!range) return file.readable;
    await file.seek(range.start, Deno.SeekMode.Start);
    return limitStream(file, range.end - range.start + 1);
  }

  async remove(id: string): Promise<void> {
    await Deno.remove(this.pathOf(id)).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    });
  }

  /**
   * Ids of the blobs whose id starts with `prefix` (at least 2 characters, so one directory is
   * read): finds every file of a multipart upload, including parts no record points to.
   */
  async listPrefix(prefix: string): Promise<string[]> {
    if (prefix.length < 2) throw new Error(`Cannot list blobs by prefix "${prefix}": too short`);
    const out: string[] = [];
    try {
      for await (const f of Deno.readDir(`${this.objectsDir}/${prefix.slice(0, 2)}`)) {
        if (f.isFile && f.name.startsWith(prefix)) out.push(f.name);
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    return out;
  }

  /** Every blob file with its modification time (for the orphan sweep). */
  async *list(): AsyncGenerator<{ id: string; mtime: number }> {
    for await (const d of Deno.readDir(this.objectsDir)) {
      if (!d.isDirectory) continue;
      const dir = `${this.objectsDir}/${d.name}`;
      for await (const f of Deno.readDir(dir)) {
        if (!f.isFile) continue;
        const st = await Deno.stat(`${dir}/${f.name}`).catch(() => null);
        if (st) yield { id: f.name, mtime: st.mtime?.getTime() ?? 0 };
      }
    }
  }
}

/** A stream of at most `n` bytes read from an open file; closes the file when done. */
function limitStream(file: Deno.FsFile, n: number): ReadableStream<Uint8Array> {
  let left = n;
  return new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      if (left <= 0) {
        file.close();
        ctrl.close();
        return;
      }
      const buf = new Uint8Array(Math.min(left, 256 * 1024));
      const r = await file.read(buf);
      if (r === null || r === 0) {
        file.close();
        ctrl.error(new Error("Cannot read blob: file is shorter than its record"));
        return;
      }
      left -= r;
      ctrl.enqueue(buf.subarray(0, r));
    },
    cancel() {
      try {
        file.close();
      } catch { /* closed */ }
    },
  });
}
