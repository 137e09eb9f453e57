/**
 * Inline objects (bytes in KV as `["blobd", id]`, see docs/metadata.md) and their version records
 * must own each other one to one: no leaked bytes, no inline version without its bytes.
 */
import { assert } from "./assert.ts";
import { storedVersions } from "./versions.ts";

/** Asserts the one-to-one ownership in `kv`; returns the number of inline bodies. */
export async function assertInlineOwnership(kv: Deno.Kv): Promise<number> {
  const owned = new Map<string, string>();
  for await (const e of storedVersions<{ blob: string | null; inline?: true }>(kv)) {
    const r = e.value;
    if (!r.inline) continue;
    assert(r.blob, `inline record without a blob id: ${JSON.stringify(e.key)}`);
    assert(!owned.has(r.blob), `two versions own inline blob ${r.blob}`);
    owned.set(r.blob, JSON.stringify(e.key));
  }
  const stored = new Set<string>();
  for await (const e of kv.list<Uint8Array>({ prefix: ["blobd"] })) {
    const id = e.key[1] as string;
    stored.add(id);
    assert(owned.has(id), `["blobd", ${id}] is owned by no version (leaked)`);
  }
  for (const [id, where] of owned) {
    assert(stored.has(id), `version ${where} is inline but ["blobd", ${id}] is gone`);
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
