/**
 * The bytes of inline objects (bodies of at most `INLINE_MAX`, kept in KV with their record) as
 * rows that each fit inside one B-tree page of Deno KV's SQLite file.
 *
 * Deno KV's `kv` table is `WITHOUT ROWID`, so its rows live in an index B-tree, where a row
 * whose payload passes `(page size - 12) * 64 / 255 - 23` bytes (1,002 on the 4 KiB pages Deno
 * KV creates) keeps only ~489 bytes in its leaf and spills the rest to overflow pages of their
 * own. A 1 KiB body stored as one row (~1,080 bytes of payload) thus took a whole 4 KiB
 * overflow page for ~590 bytes: 77% of a 1 KiB object's data dir (measured with `dbstat`: 589
 * of 765 MB at ~143k objects), and one more page written per PUT. Cut into rows of
 * `INLINE_ROW_BYTES`, four rows share a leaf and nothing spills (docs/decisions/0010).
 *
 * Only bodies of up to `INLINE_ROWS_MAX` are cut: a larger body fills most of its overflow pages
 * (a 4 KiB body wastes ~430 bytes), while its five or more rows would change more leaves per
 * commit than one row and one overflow page do (4 KiB PUT, one client: 74 KB written per PUT as
 * rows, 58 KB as one entry, measured with `deno task bench`). Those stay one `["blobd", id]`.
 */
import { inlineDataKey, inlineRowKey } from "../meta/keys.ts";
import type { MetaStore, MetaWrite } from "../meta/store.ts";

/**
 * Body bytes per `["blobd", id, n]` row. The row's payload adds ~70 bytes (record header, the
 * 50-byte key, the integer columns) and must stay within 1,002 bytes on 4 KiB pages; 900 leaves
 * room for Deno KV's version column growing to 8 bytes and packs four rows into a leaf.
 */
export const INLINE_ROW_BYTES = 900;

/** The `KvKey.getMany` limit of Deno KV. */
const GET_MANY_MAX = 10;

/** Bodies up to this size are stored as rows; larger ones as one entry that spills. */
export const INLINE_ROWS_MAX = 2 * INLINE_ROW_BYTES;

/**
 * The `inlineRows` of a body of `size` bytes: the rows it is cut into (an empty body still gets
 * one, so it has an entry), or undefined for one `["blobd", id]` entry.
 */
export function inlineRowCount(size: number): number | undefined {
  if (size > INLINE_ROWS_MAX) return undefined;
  return Math.max(1, Math.ceil(size / INLINE_ROW_BYTES));
}

/** The keys holding the bytes of an inline record, in byte order. */
export function inlineKeys(rec: { blob: string | null; inlineRows?: number }): Deno.KvKey[] {
  if (!rec.blob) return [];
  if (rec.inlineRows === undefined) return [inlineDataKey(rec.blob)];
  return Array.from({ length: rec.inlineRows }, (_, n) => inlineRowKey(rec.blob!, n));
}

/** Adds the `set`s that store `data` under the keys of `rec` (`inlineKeys`). */
export function setInlineRows(
  op: MetaWrite,
  rec: { blob: string | null; inlineRows?: number },
  data: Uint8Array,
): void {
  for (const [n, key] of inlineKeys(rec).entries()) {
    op.set(
      key,
      rec.inlineRows === undefined
        ? data
        : data.subarray(n * INLINE_ROW_BYTES, (n + 1) * INLINE_ROW_BYTES),
    );
  }
}

/** Adds the `delete`s that drop the bytes of an inline record (either layout). */
export function deleteInlineRows(
  op: MetaWrite,
  rec: { blob: string | null; inline?: true; inlineRows?: number },
): void {
  if (!rec.inline) return;
  for (const k of inlineKeys(rec)) op.delete(k);
}

/**
 * The bytes of an inline record read from KV, or null when any row is gone (the version was
 * dropped since the record was read).
 */
export async function readInlineRows(
  meta: Pick<MetaStore, "getMany">,
  rec: { blob: string | null; inlineRows?: number; size: number },
): Promise<Uint8Array | null> {
  const keys = inlineKeys(rec);
  const batches: Deno.KvKey[][] = [];
  for (let i = 0; i < keys.length; i += GET_MANY_MAX) batches.push(keys.slice(i, i + GET_MANY_MAX));
  const got = (await Promise.all(batches.map((b) => meta.getMany<Uint8Array[]>(b)))).flat();
  if (got.length === 1) return got[0].value ?? null;
  const out = new Uint8Array(rec.size);
  let at = 0;
  for (const e of got) {
    if (!(e.value instanceof Uint8Array)) return null;
    out.set(e.value, at);
    at += e.value.length;
  }
  return at === rec.size ? out : null;
}
