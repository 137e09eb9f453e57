/**
 * The console API's empty and force-delete of a bucket (`POST /api/v1/buckets/:bucket/empty`,
 * `.../force-delete`): the answer is NDJSON, one progress line per batch, read as it arrives.
 */
import { errorFrom } from "./api.ts";

export interface EmptyProgress {
  versions: number;
  deleteMarkers: number;
  uploadsAborted: number;
  refusedCount: number;
  refused: { key: string; versionId: string; code: string; message: string }[];
  done?: boolean;
  bucketDeleted?: boolean;
  error?: { code: string; message: string };
}

/** Splits a stream of text chunks into lines; the last partial line waits for the next chunk. */
export class LineSplitter {
  private rest = "";
  /** The complete lines in `chunk` (with what came before it). */
  push(chunk: string): string[] {
    const parts = (this.rest + chunk).split("\n");
    this.rest = parts.pop() ?? "";
    return parts.filter((l) => l.trim() !== "");
  }
  /** What remains once the stream ended. */
  end(): string[] {
    const r = this.rest.trim();
    this.rest = "";
    return r ? [r] : [];
  }
}

/** Runs an empty or force-delete, calling `onProgress` per line; resolves with the last one. */
export async function runEmpty(
  bucket: string,
  tenantId: string,
  what: "empty" | "force-delete",
  onProgress: (p: EmptyProgress) => void,
): Promise<EmptyProgress> {
  const q = tenantId ? `?tenantId=${encodeURIComponent(tenantId)}` : "";
  const res = await fetch(`/api/v1/buckets/${encodeURIComponent(bucket)}/${what}${q}`, {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/json", accept: "application/x-ndjson" },
    body: JSON.stringify({ confirm: bucket }),
  });
  if (!res.ok) {
    const text = await res.text();
    let doc: unknown = null;
    try {
      doc = JSON.parse(text);
    } catch { /* not JSON */ }
    throw errorFrom(res.status, doc);
  }
  const split = new LineSplitter();
  const dec = new TextDecoder();
  let last: EmptyProgress | null = null;
  const take = (lines: string[]) => {
    for (const l of lines) {
      last = JSON.parse(l) as EmptyProgress;
      onProgress(last);
    }
  };
  const reader = res.body!.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    take(split.push(dec.decode(value, { stream: true })));
  }
  take(split.end());
  if (!last) throw new Error("The server ended the answer without a result.");
  return last;
}

/** The progress in words. */
export function progressText(p: EmptyProgress): string {
  const parts = [
    `${p.versions} object version(s)`,
    `${p.deleteMarkers} delete marker(s)`,
    `${p.uploadsAborted} upload(s) aborted`,
  ];
  if (p.refusedCount) parts.push(`${p.refusedCount} refused`);
  return `Deleted ${parts.join(", ")}.`;
}
