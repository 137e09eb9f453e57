/**
 * The performance mechanisms that can be turned off by name (`--without a,b`), so that one
 * `deno task bench` run can measure what each buys against the same server with it on
 * (`--variant no-x=--without=x`). Every mechanism listed here stays only while a bench row shows
 * it pays (docs/performance.md, "What each mechanism buys"). Off, each falls back to the plain
 * path; results are the same either way, only the cost differs.
 */

export const MECHANISMS = {
  "group-commit": "merge concurrent independent object commits into one KV transaction",
  "read-handle": "reads on a second Deno KV handle, not behind queued commits",
  "second-read-handle": "a second reading handle: reads on two SQLite threads at once",
  "partial-expiry-index": "Deno KV's expiry index made partial when the KV file is created",
  "inline-small": "bodies of at most 16 KiB stored in KV with their record, no file",
  "latest-cache": "the latest record of recently used keys in memory",
  "new-key-guesses": "publishing a new key without reading its absent state first",
  "signing-keys": "SigV4 signing keys kept per scope across requests",
  "bucket-list-memory": "the bucket lists of recently listed namespaces in memory",
  "list-documents": "the documents of recent listing pages kept while their bucket is unchanged",
} as const;

export type Mechanism = keyof typeof MECHANISMS;

/** Which mechanisms are on. Built once from the configuration; read-only afterwards. */
export class Tuning {
  readonly off: ReadonlySet<Mechanism>;

  constructor(off: Iterable<Mechanism> = []) {
    this.off = new Set(off);
  }

  on(m: Mechanism): boolean {
    return !this.off.has(m);
  }

  /**
   * Parses `--without`'s value: mechanism names separated by commas.
   * @throws {Error} naming the first unknown mechanism and the known ones.
   */
  static parse(text: string): Tuning {
    const names = text.split(",").map((s) => s.trim()).filter(Boolean);
    for (const n of names) {
      if (!Object.hasOwn(MECHANISMS, n)) {
        throw new Error(
          `Cannot parse "${n}": not a mechanism (known: ${Object.keys(MECHANISMS).join(", ")})`,
        );
      }
    }
    return new Tuning(names as Mechanism[]);
  }
}
