/**
 * A streaming multipart/form-data reader for browser POST uploads. Small fields are read as
 * text; the file part is handed out as a stream of sub-arrays of the received buffers, so a
 * large upload is never held in memory. Only a tail shorter than the boundary is carried over
 * between reads.
 */
import { Buffer } from "node:buffer";
import { S3Error } from "../errors.ts";

export interface FormPartInfo {
  /** Field name as sent. */
  name: string;
  /** Present when the part is a file (`filename=` in Content-Disposition). */
  filename: string | null;
  /** Part headers, lower-case names. */
  headers: Map<string, string>;
}

/** Largest part header block accepted. */
const MAX_PART_HEADERS = 8 * 1024;

const malformed = (why: string) =>
  new S3Error("MalformedPOSTRequest", {
    message: `The body of your POST request is not well-formed multipart/form-data: ${why}.`,
  });

/** The boundary parameter of a multipart/form-data Content-Type. */
export function boundaryOf(contentType: string): string {
  const m = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const b = m?.[1] ?? m?.[2];
  if (!b || b.length > 200) throw malformed("missing boundary");
  return b;
}

/** Parses `form-data; name="a"; filename="b.txt"` parameters (quoted-string aware). */
export function dispositionParams(v: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /;\s*([^=;\s]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/g;
  for (const m of v.matchAll(re)) {
    // Browsers send Windows paths with bare backslashes; only an escaped quote is unescaped.
    const value = m[2] !== undefined ? m[2].replaceAll('\\"', '"') : m[3].trim();
    out.set(m[1].toLowerCase(), value);
  }
  return out;
}

/**
 * Position of `needle` in `hay` from `from`, or -1. Scans for the first byte with the native
 * Uint8Array.indexOf (Buffer.indexOf with a Buffer needle is several times slower in Deno).
 */
export function findBytes(hay: Uint8Array, needle: Uint8Array, from: number): number {
  const first = needle[0];
  // Buffer overrides indexOf with a slower implementation; use the typed-array one.
  const indexOf = Uint8Array.prototype.indexOf;
  const last = hay.length - needle.length;
  let i = from;
  while (i <= last) {
    i = indexOf.call(hay, first, i);
    if (i < 0 || i > last) return -1;
    let j = 1;
    while (j < needle.length && hay[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
    i++;
  }
  return -1;
}

export class MultipartReader {
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  /** "\r\n--boundary": every delimiter, the first one included (we start with a virtual CRLF). */
  #delim: Buffer;
  #buf: Buffer = Buffer.from("\r\n");
  #pos = 0;
  #eof = false;
  /** True while the body of the current part has not been fully consumed. */
  #inBody = false;
  #finished = false;
  #started = false;

  constructor(body: ReadableStream<Uint8Array>, boundary: string) {
    this.#reader = body.getReader();
    this.#delim = Buffer.from(`\r\n--${boundary}`);
  }

  /** Reads more bytes, keeping the unconsumed tail. Returns false at end of input. */
  async #fill(): Promise<boolean> {
    if (this.#eof) return false;
    const { value, done } = await this.#reader.read();
    if (done) {
      this.#eof = true;
      return false;
    }
    const rest = this.#buf.subarray(this.#pos);
    const chunk = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    this.#buf = rest.length ? Buffer.concat([rest, chunk]) : chunk;
    this.#pos = 0;
    return true;
  }

  /** Pieces of the current part's body up to the next delimiter. */
  async *#bodyPieces(): AsyncGenerator<Uint8Array> {
    const keep = this.#delim.length - 1;
    for (;;) {
      const idx = findBytes(this.#buf, this.#delim, this.#pos);
      if (idx >= 0) {
        if (idx > this.#pos) yield this.#buf.subarray(this.#pos, idx);
        this.#pos = idx + this.#delim.length;
        this.#inBody = false;
        return;
      }
      const safe = this.#buf.length - keep;
      if (safe > this.#pos) {
        const piece = this.#buf.subarray(this.#pos, safe);
        this.#pos = safe;
        yield piece;
      }
      if (!(await this.#fill())) throw malformed("the body ended inside a part");
    }
  }

  /** Skips to the next part and returns its headers, or null after the closing delimiter. */
  async next(): Promise<FormPartInfo | null> {
    if (this.#finished) return null;
    if (!this.#started || this.#inBody) {
      // Preamble (before the first delimiter) or an unread part body: skip it.
      this.#started = true;
      this.#inBody = true;
      for await (const _ of this.#bodyPieces()) { /* discard */ }
    }
    // After a delimiter: "--" ends the form, otherwise optional whitespace and CRLF.
    while (this.#buf.length - this.#pos < 2) {
      if (!(await this.#fill())) throw malformed("the body ended after a boundary");
    }
    if (this.#buf[this.#pos] === 0x2d && this.#buf[this.#pos + 1] === 0x2d) {
      this.#finished = true;
      return null;
    }
    // Part headers end with an empty line.
    let end: number;
    for (;;) {
      end = this.#buf.indexOf("\r\n\r\n", this.#pos);
      if (end >= 0) break;
      if (this.#buf.length - this.#pos > MAX_PART_HEADERS) {
        throw malformed("part headers too large");
      }
      if (!(await this.#fill())) throw malformed("the body ended inside part headers");
    }
    const text = this.#buf.toString("utf8", this.#pos, end);
    this.#pos = end + 4;
    const lines = text.split("\r\n");
    if (lines[0].trim() !== "") throw malformed("boundary not followed by CRLF");
    const headers = new Map<string, string>();
    for (const line of lines.slice(1)) {
      const i = line.indexOf(":");
      if (i <= 0) throw malformed("bad part header");
      headers.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
    }
    const disp = headers.get("content-disposition") ?? "";
    if (!/^form-data\s*(;|$)/i.test(disp)) throw malformed("part without form-data disposition");
    const params = dispositionParams(disp);
    const name = params.get("name");
    if (name === undefined) throw malformed("part without a name");
    this.#inBody = true;
    return { name, filename: params.has("filename") ? params.get("filename")! : null, headers };
  }

  /** Reads the current part as UTF-8 text; more than `limit` bytes throws `tooLarge()`. */
  async text(limit: number, tooLarge: () => S3Error): Promise<string> {
    const pieces: Uint8Array[] = [];
    let n = 0;
    for await (const p of this.#bodyPieces()) {
      n += p.length;
      if (n > limit) throw tooLarge();
      pieces.push(Buffer.from(p));
    }
    return Buffer.concat(pieces).toString("utf8");
  }

  /**
   * The current part's body as a stream. It errors (MalformedPOSTRequest) if the form ends
   * before the part's closing delimiter, so a truncated upload is never taken as complete.
   */
  stream(): ReadableStream<Uint8Array> {
    const it = this.#bodyPieces();
    return new ReadableStream<Uint8Array>({
      async pull(ctrl) {
        const r = await it.next();
        if (r.done) ctrl.close();
        else ctrl.enqueue(r.value);
      },
      async cancel() {
        await it.return(undefined);
      },
    }, { highWaterMark: 0 });
  }

  /** Stops reading the request body (fields after the file are ignored, as S3 does). */
  async close(): Promise<void> {
    await this.#reader.cancel().catch(() => {});
  }
}
