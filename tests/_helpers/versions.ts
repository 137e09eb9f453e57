/**
 * Every stored version in a KV file, read raw (docs/metadata.md): the `["ver"]` entries, and the
 * solo `["obj"]` records (the only version of a key in an unversioned bucket has no `ver` entry).
 */
export async function* storedVersions<T>(
  kv: Deno.Kv,
  bucketId?: string,
): AsyncGenerator<Deno.KvEntry<T>> {
  const scope = bucketId === undefined ? [] : [bucketId];
  yield* kv.list<T>({ prefix: ["ver", ...scope] });
  for await (const e of kv.list<T & { solo?: true }>({ prefix: ["obj", ...scope] })) {
    if (e.value.solo) yield e;
  }
}
