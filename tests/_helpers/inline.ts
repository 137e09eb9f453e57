/**
 * Inline objects (bytes in KV as `["blobd", id, n]` rows, or one `["blobd", id]` entry when
 * written by older servers, see docs/metadata.md) and their version records must own each other
 * one to one: no leaked bytes, no inline version without all of its rows.
 */
import { assert } from "./assert.ts";
import { storedVersions } from "./versions.ts";

/** Asserts the one-to-one ownership in `kv`; returns the number of inline bodies. */
export async function assertInlineOwnership(kv: Deno.Kv): Promise<number> {
  type Inline = { blob: string | null; inline?: true; inlineRows?: number };
  const owned = new Map<string, { where: string; rows: string[] }>();
  for await (const e of storedVersions<Inline>(kv)) {
    const r = e.value;
    if (!r.inline) continue;
    assert(r.blob, `inline record without a blob id: ${JSON.stringify(e.key)}`);
    assert(!owned.has(r.blob), `two versions own inline blob ${r.blob}`);
    const rows = r.inlineRows === undefined
      ? [JSON.stringify(["blobd", r.blob])]
      : Array.from({ length: r.inlineRows }, (_, n) => JSON.stringify(["blobd", r.blob, n]));
    owned.set(r.blob, { where: JSON.stringify(e.key), rows });
  }
  const stored = new Map<string, string[]>();
  for await (const e of kv.list<Uint8Array>({ prefix: ["blobd"] })) {
    const id = e.key[1] as string;
    stored.set(id, [...stored.get(id) ?? [], JSON.stringify(e.key)]);
    assert(owned.has(id), `["blobd", ${id}] is owned by no version (leaked)`);
  }
  for (const [id, { where, rows }] of owned) {
    const got = (stored.get(id) ?? []).join(" ");
    assert(got === rows.join(" "), `version ${where} is inline: rows ${rows}, stored ${got}`);
  }
  // Every latest record that is inline names bytes that exist too.
  for await (const e of kv.list<{ blob: string | null; inline?: true }>({ prefix: ["obj"] })) {
    if (e.value.inline) assert(stored.has(e.value.blob!), `obj ${e.key} has no inline bytes`);
  }
  return stored.size;
}

/** The same on a stopped server's data dir. */
export async function checkInlineOwnership(dataDir: string): Promise<number> {
  const kv = await Deno.openKv(`${dataDir}/kv.sqlite3`);
  try {
    return await assertInlineOwnership(kv);
  } finally {
    kv.close();
  }
}
