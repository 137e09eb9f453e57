/**
 * Fixtures for tests of the storage layer on its own (no HTTP): a storage opened on a temp data
 * dir with a quiet log and a clock that advances one second per reading, and a text PUT.
 */
import { openStorage, type OpenStorageOptions } from "../../server/storage/backend.ts";
import type { Logger } from "../../server/log.ts";
import type { BucketRecord, ListObjectsInput, ObjectRecord } from "../../server/storage/types.ts";
import { testObjectKeys } from "./keys.ts";

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
  let t = 1_700_000_000_000;
  const opened = await openTempStorage(prefix, { clock: { now: () => (t += 1000) }, ...opts });
  try {
    await fn(opened.storage, opened.dataDir);
  } finally {
    await opened.close();
  }
}

/**
 * A storage opened on a fresh temp data dir with a quiet log (`opts` on top); `close` closes it
 * and removes the data dir. Encryption works as on a server (a keyring in the data dir) and
 * SSE-KMS with a `TestKeyService` holding the key "default" of the global namespace.
 */
export async function openTempStorage(
  prefix: string,
  opts: Partial<OpenStorageOptions> = {},
): Promise<{ storage: Storage; dataDir: string; close(): Promise<void> }> {
  const dataDir = await Deno.makeTempDir({ prefix });
  const keys = opts.keys ?? (await testObjectKeys(dataDir)).keys;
  const storage = await openStorage({ dataDir, log: quiet, keys, ...opts });
  return {
    storage,
    dataDir,
    close: async () => {
      await storage.close();
      await Deno.remove(dataDir, { recursive: true });
    },
  };
}

/** A ListObjects input: the whole bucket, no delimiter, 1000 keys, with `i` on top. */
/** A minimal plain object record of `key` (1 byte, one owner): enough for listing entries. */
export const plainRecord = (key: string): ObjectRecord => ({
  v: 1,
  key,
  versionId: "null",
  blob: "b",
  size: 1,
  etag: '"e"',
  lastModified: 0,
  storageClass: "STANDARD",
  ownerId: "o",
} as ObjectRecord);

export const listInput = (i: Partial<ListObjectsInput> = {}): ListObjectsInput => ({
  prefix: "",
  delimiter: "",
  after: "",
  maxKeys: 1000,
  ...i,
});

/**
 * Keys whose listings are easy to get wrong: nested and empty segments, a key equal to a
 * directory, and characters whose UTF-16 order differs from UTF-8's.
 */
export const TRICKY_KEYS: readonly string[] = [
  "a",
  "a/b",
  "a/b/c",
  "a//d",
  "b.txt",
  "dir/x/1",
  "dir/x/2",
  "dir/y/1",
  "dir/z",
  "é/1",
  "\u{e000}k",
  "\u{1f600}k",
  "z/",
  "z//",
];

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
  for await (const e of s.core.meta.list({ prefix: ["blobd"] })) out.push(e.key[1] as string);
  return out;
}
