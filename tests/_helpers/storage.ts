/**
 * Fixtures for tests of the storage layer on its own (no HTTP): a storage opened on a temp data
 * dir with a quiet log and a clock that advances one second per reading, and a text PUT.
 */
import { openStorage, type OpenStorageOptions } from "../../server/storage/backend.ts";
import type { Logger } from "../../server/storage/core.ts";
import type { BucketRecord, ListObjectsInput } from "../../server/storage/types.ts";

export const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
export type Storage = Awaited<ReturnType<typeof openStorage>>;

/**
 * Runs `fn` on a fresh storage (`opts` adds to or overrides the defaults) and its data dir; closes
 * it and removes the data dir afterwards.
 */
export async function withStorage(
  prefix: string,
  fn: (s: Storage, dataDir: string) => Promise<void>,
  opts: Partial<OpenStorageOptions> = {},
) {
  const dir = await Deno.makeTempDir({ prefix });
  let t = 1_700_000_000_000;
  const s = await openStorage({
    dataDir: dir,
    log: quiet,
    clock: { now: () => (t += 1000) },
    ...opts,
  });
  try {
    await fn(s, dir);
  } finally {
    await s.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** A ListObjects input: the whole bucket, no delimiter, 1000 keys, with `i` on top. */
export const listInput = (i: Partial<ListObjectsInput> = {}): ListObjectsInput => ({
  prefix: "",
  delimiter: "",
  after: "",
  maxKeys: 1000,
  ...i,
});

/** PutObject of a text body (UTF-8). */
export function putText(s: Storage, b: BucketRecord, key: string, v: string) {
  const bytes = new TextEncoder().encode(v);
  return s.backend.putObject(b, {
    key,
    body: new Blob([bytes]).stream(),
    contentLength: bytes.length,
    content: {},
    meta: {},
    ownerId: "o",
  });
}

/** Blob ids stored, as files or as inline KV entries (`["blobd", id]`). */
export async function storedBlobs(s: Storage): Promise<string[]> {
  const out: string[] = [];
  for await (const id of s.core.blobs.listIds()) out.push(id);
  for await (const e of s.core.kv.list({ prefix: ["blobd"] })) out.push(e.key[1] as string);
  return out;
}
