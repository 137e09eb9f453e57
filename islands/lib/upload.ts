/**
 * Browser uploads through the S3 passthrough with per-file progress. Small files are one PUT;
 * large files use S3 multipart so a failed part is retried alone, and an upload that still
 * fails keeps its UploadId and finished parts so `resume()` sends only what is missing.
 */
import { ApiError, formatBytes } from "./api.ts";
import { type BucketRef, s3, s3Error, s3Url } from "./s3.ts";

export const MULTIPART_THRESHOLD = 16 * 1024 * 1024;
export const PART_SIZE = 8 * 1024 * 1024;
const PART_ATTEMPTS = 3;

export interface UploadState {
  bucket: BucketRef;
  key: string;
  file: File;
  uploadId: string | null;
  /** ETags of finished parts by part number. */
  parts: Map<number, string>;
  /** Cancels the running request (set while an upload runs). */
  abort?: AbortController;
}

export type Progress = (loaded: number, total: number) => void;

/** PUT with upload progress (fetch has no upload progress events). */
function xhrPut(
  url: string,
  body: Blob,
  headers: Record<string, string>,
  onProgress: (loaded: number) => void,
  signal?: AbortSignal,
): Promise<{ etag: string }> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new ApiError(0, "Aborted", "The upload was cancelled."));
      return;
    }
    const xhr = new XMLHttpRequest();
    signal?.addEventListener("abort", () => xhr.abort(), { once: true });
    xhr.open("PUT", url);
    for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(body.size);
        resolve({ etag: xhr.getResponseHeader("ETag") ?? "" });
      } else {
        s3Error(new Response(xhr.responseText, { status: xhr.status })).then(reject);
      }
    };
    xhr.onerror = () => reject(new ApiError(0, "NetworkError", "The upload was interrupted."));
    xhr.onabort = () => reject(new ApiError(0, "Aborted", "The upload was cancelled."));
    xhr.send(body);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function newUpload(bucket: BucketRef, key: string, file: File): UploadState {
  return { bucket, key, file, uploadId: null, parts: new Map() };
}

function completeXml(parts: Map<number, string>): string {
  const items = [...parts.entries()].sort((a, b) => a[0] - b[0])
    .map(([n, etag]) => `<Part><PartNumber>${n}</PartNumber><ETag>${etag}</ETag></Part>`)
    .join("");
  return `<CompleteMultipartUpload>${items}</CompleteMultipartUpload>`;
}

async function singlePut(st: UploadState, onProgress: Progress) {
  const type = st.file.type || "application/octet-stream";
  await xhrPut(
    s3Url(st.bucket, st.key),
    st.file,
    { "content-type": type },
    (n) => onProgress(n, st.file.size),
    st.abort?.signal,
  );
}

/**
 * Runs (or resumes) an upload. Throws after a part failed PART_ATTEMPTS times; the state then
 * still holds the UploadId and the finished parts.
 */
export async function runUpload(st: UploadState, onProgress: Progress): Promise<void> {
  st.abort = new AbortController();
  try {
    await upload(st, onProgress);
  } finally {
    st.abort = undefined;
  }
}

async function upload(st: UploadState, onProgress: Progress): Promise<void> {
  const file = st.file;
  if (file.size <= MULTIPART_THRESHOLD) return await singlePut(st, onProgress);
  if (!st.uploadId) {
    try {
      const res = await s3("POST", st.bucket, st.key, { uploads: "" }, {
        headers: { "content-type": file.type || "application/octet-stream" },
      });
      const doc = new DOMParser().parseFromString(await res.text(), "application/xml");
      st.uploadId = doc.getElementsByTagName("UploadId")[0]?.textContent ?? null;
    } catch (e) {
      // A server without multipart still takes the file in one PUT.
      if ((e as ApiError).code === "NotImplemented") return await singlePut(st, onProgress);
      throw e;
    }
    if (!st.uploadId) throw new ApiError(500, "InternalError", "No UploadId in the answer");
  }
  const count = Math.ceil(file.size / PART_SIZE);
  const doneBytes = () =>
    [...st.parts.keys()].reduce(
      (n, p) => n + Math.min(PART_SIZE, file.size - (p - 1) * PART_SIZE),
      0,
    );
  onProgress(doneBytes(), file.size);
  for (let n = 1; n <= count; n++) {
    if (st.parts.has(n)) continue;
    const blob = file.slice((n - 1) * PART_SIZE, Math.min(file.size, n * PART_SIZE));
    const base = doneBytes();
    for (let attempt = 1;; attempt++) {
      try {
        const url = s3Url(st.bucket, st.key, { partNumber: String(n), uploadId: st.uploadId });
        const { etag } = await xhrPut(
          url,
          blob,
          {},
          (l) => onProgress(base + l, file.size),
          st.abort?.signal,
        );
        st.parts.set(n, etag);
        break;
      } catch (e) {
        if (attempt >= PART_ATTEMPTS || (e as ApiError).code === "Aborted") throw e;
        await sleep(500 * attempt);
      }
    }
  }
  await s3("POST", st.bucket, st.key, { uploadId: st.uploadId }, {
    body: completeXml(st.parts),
    headers: { "content-type": "application/xml" },
  });
  onProgress(file.size, file.size);
}

/** Gives up on an unfinished multipart upload so its parts do not linger. */
export async function abortUpload(st: UploadState): Promise<void> {
  if (!st.uploadId) return;
  await s3("DELETE", st.bucket, st.key, { uploadId: st.uploadId }).catch(() => {});
  st.uploadId = null;
  st.parts.clear();
}

/** Files from a drop, with folder entries walked recursively (relative paths kept). */
export async function filesFromDrop(dt: DataTransfer): Promise<{ path: string; file: File }[]> {
  const out: { path: string; file: File }[] = [];
  const entries = Array.from(dt.items)
    .map((i) =>
      (i as DataTransferItem & { webkitGetAsEntry?: () => FileSystemEntry | null })
        .webkitGetAsEntry?.()
    )
    .filter((e): e is FileSystemEntry => !!e);
  if (entries.length === 0) {
    for (const f of Array.from(dt.files)) out.push({ path: f.name, file: f });
    return out;
  }
  const walk = async (entry: FileSystemEntry, base: string): Promise<void> => {
    if (entry.isFile) {
      const file = await new Promise<File>((res, rej) =>
        (entry as FileSystemFileEntry).file(res, rej)
      );
      out.push({ path: base + entry.name, file });
    } else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((res, rej) =>
          reader.readEntries(res, rej)
        );
        if (batch.length === 0) break;
        for (const e of batch) await walk(e, `${base}${entry.name}/`);
      }
    }
  };
  for (const e of entries) await walk(e, "");
  return out;
}

/**
 * What an upload row shows beside its bar once bytes move: the rate so far and the time left at
 * that rate ("3.2 MiB/s · 12 s left"); "" until there is a rate to tell.
 */
export function uploadPace(loaded: number, total: number, elapsedMs: number): string {
  if (elapsedMs < 250 || loaded <= 0) return "";
  const rate = loaded / (elapsedMs / 1000);
  const left = Math.max(0, total - loaded) / rate;
  return `${formatBytes(rate)}/s · ${formatDuration(left)} left`;
}

/** Seconds as "8 s", "3 min 5 s", "2 h 4 min". */
export function formatDuration(seconds: number): string {
  const s = Math.ceil(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}
