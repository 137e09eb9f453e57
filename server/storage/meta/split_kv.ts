/**
 * One Deno KV file seen through two handles: reads (`get`, `getMany`, `list`) go to `reader`,
 * everything else (commits, `set`, `delete`, queues) to `writer`. Deno KV runs every call of a
 * handle on that handle's one SQLite thread, so a read on the committing handle waits behind the
 * commits queued there: measured ~1 ms per `getMany` while merged commits run, against ~50 µs on a
 * second handle. SQLite's WAL lets the second handle read the last committed state meanwhile, and
 * a commit that has resolved is visible to the next read on it, with the same versionstamp (tested
 * in `split_kv_test.ts`), so checks built from its reads mean what they meant before.
 */
const READS = new Set<PropertyKey>(["get", "getMany", "list"]);

export function splitKv(writer: Deno.Kv, reader: Deno.Kv): Deno.Kv {
  // Properties assigned on the split handle (tests wrap `list` or `getMany` to count calls), and
  // methods bound once (every storage call goes through here).
  const own = new Map<PropertyKey, unknown>();
  const bound = new Map<PropertyKey, unknown>();
  const close = () => {
    reader.close();
    writer.close();
  };
  return new Proxy(writer, {
    set(_target, prop, value) {
      own.set(prop, value);
      return true;
    },
    get(target, prop) {
      if (own.has(prop)) return own.get(prop);
      if (prop === "close") return close;
      let f = bound.get(prop);
      if (f === undefined) {
        const from = READS.has(prop) ? reader : target;
        const v = Reflect.get(from, prop);
        if (typeof v !== "function") return v;
        f = v.bind(from);
        bound.set(prop, f);
      }
      return f;
    },
  });
}
