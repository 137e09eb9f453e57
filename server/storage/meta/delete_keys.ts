/** Deleting many KV entries: a few atomic operations instead of one commit per key. */

/** Keys per atomic operation, well inside Deno KV's 1000 mutations and 80 KiB of keys. */
const PER_COMMIT = 500;

/** Deletes `keys` (absent ones too) in commits of up to 500; not one atomic change as a whole. */
export async function deleteKeys(kv: Deno.Kv, keys: Deno.KvKey[]): Promise<void> {
  for (let i = 0; i < keys.length; i += PER_COMMIT) {
    const op = kv.atomic();
    for (const k of keys.slice(i, i + PER_COMMIT)) op.delete(k);
    await op.commit();
  }
}

/** Deletes every entry under `prefix` (as listed when called), in commits of up to 500. */
export async function deletePrefix(kv: Deno.Kv, prefix: Deno.KvKey): Promise<number> {
  const keys: Deno.KvKey[] = [];
  for await (const e of kv.list({ prefix })) keys.push(e.key);
  await deleteKeys(kv, keys);
  return keys.length;
}
