/**
 * A summary of the '/' hierarchy of a bucket too large for the listing copy: for each directory
 * (a key's prefix up to one of its '/'), its child directories and whether it may hold keys
 * directly. Its size is the number of directories, not of keys. A `delimiter=/` page under a
 * directory takes the common prefixes from here and reads from KV only the runs of direct keys
 * between them: 1,000 prefixes over a million keys cost 1,000 in-memory steps instead of 1,000
 * KV seeks.
 *
 * A commit notes only a key's final state, not whether the key was new, so the summary may say
 * more than is true, never less:
 * - a key that exists makes every directory above it exist (and "not emptied");
 * - a key that is gone marks every directory above it as possibly empty ("dirty"). A listing
 *   checks a dirty directory with one KV read before naming it, and forgets it when empty;
 * - "may hold keys directly" is set by a direct key and never cleared (the listing then reads the
 *   runs between child directories from KV, which finds none when there are none).
 */
import { objectListKey, objectListPrefix } from "../meta/keys.ts";
import { decodeListEntry } from "./list_index.ts";
import { compareUtf8, prefixEnd, walkBatches } from "./listing.ts";
import { SortedChunks } from "./sorted_chunks.ts";
import type { ListedObject, ListObjectsInput, ListObjectsPage } from "../types.ts";

interface DirNode {
  /** Child directories by their full prefix, in listing order (null: none yet). */
  children: SortedChunks<{ readonly key: string }> | null;
  /** Whether a key directly inside was seen (never cleared). */
  direct: boolean;
  /** A key beneath was deleted since the directory was last known to hold one. */
  dirty: boolean;
  /** Changes beneath, so a check that raced one is not trusted to clear or forget it. */
  changes: number;
}

const newNode = (): DirNode => ({ children: null, direct: false, dirty: false, changes: 0 });

/** A listing's item: a stored entry, or a child directory (its prefix) from the summary. */
type Item = Deno.KvEntry<Uint8Array> | string;

export class DirSummary {
  /** Directory prefix -> node; "" is the bucket's top. */
  readonly #dirs = new Map<string, DirNode>([["", newNode()]]);

  /** Directories held (the top not counted). */
  get dirs(): number {
    return this.#dirs.size - 1;
  }

  /** Whether `input` is a listing the summary answers: delimiter "/" under a directory. */
  static answers(input: ListObjectsInput): boolean {
    return input.delimiter === "/" && (input.prefix === "" || input.prefix.endsWith("/"));
  }

  /** A key exists (new or changed). */
  add(key: string): void {
    let node = this.#dirs.get("")!;
    node.changes++;
    node.dirty = false;
    for (let i = key.indexOf("/"); i >= 0; i = key.indexOf("/", i + 1)) {
      const dir = key.slice(0, i + 1);
      let child = this.#dirs.get(dir);
      if (!child) {
        child = newNode();
        this.#dirs.set(dir, child);
        (node.children ??= new SortedChunks()).set({ key: dir });
      }
      node = child;
      node.changes++;
      node.dirty = false;
    }
    node.direct = true;
  }

  /** A key is gone: every directory above it may be empty now. */
  remove(key: string): void {
    const top = this.#dirs.get("")!;
    top.changes++;
    top.dirty = true;
    for (let i = key.indexOf("/"); i >= 0; i = key.indexOf("/", i + 1)) {
      const node = this.#dirs.get(key.slice(0, i + 1));
      if (!node) return;
      node.changes++;
      node.dirty = true;
    }
  }

  /** The child directories of `dir` in order (for tests). */
  childrenOf(dir: string): string[] {
    return [...this.#dirs.get(dir)?.children ?? []].map((c) => c.key);
  }

  /**
   * A `delimiter=/` page (`answers(input)`), identical to `listObjects` from KV: the same walk,
   * over child directories from here and direct keys read from `kv` between them.
   */
  list(
    kv: Pick<Deno.Kv, "list">,
    bucketId: string,
    input: ListObjectsInput,
  ): Promise<ListObjectsPage> {
    const objects: ListedObject[] = [];
    const commonPrefixes: string[] = [];
    const dir = input.prefix;
    const node = this.#dirs.get(dir);
    // No directory: no key starts with the prefix.
    if (!node) return Promise.resolve({ objects, commonPrefixes, truncated: false, last: null });
    const end = prefixEnd(dir);
    const nextChild = (from: string, incl: boolean) =>
      this.#nextChild(kv, bucketId, node, from, incl);
    const seek = async function* (start: string, inclusive: boolean): AsyncIterable<Item[]> {
      let from = start;
      let incl = inclusive;
      for (;;) {
        const child = await nextChild(from, incl);
        if (node.direct) {
          yield* directKeys(kv, bucketId, from, incl, child ?? end);
        }
        if (child === null) return;
        yield [child];
        from = child;
        incl = false;
      }
    };
    const nameOf = (i: Item) => typeof i === "string" ? i : i.key[2] as string;
    return walkBatches(input, seek, nameOf, (i) => {
      // A directory always folds into a common prefix; only stored entries get here.
      if (typeof i === "string") throw new Error(`Cannot list "${i}" as an object`);
      objects.push(decodeListEntry(i.key[2] as string, i.value));
    }, (p) => commonPrefixes.push(p)).then((r) => ({
      objects,
      commonPrefixes,
      truncated: r.truncated,
      last: r.last,
    }));
  }

  /**
   * The first child directory of `node` after `from` that holds a key: a dirty one is checked in
   * KV first, and forgotten when empty (unless a change raced the check).
   */
  async #nextChild(
    kv: Pick<Deno.Kv, "list">,
    bucketId: string,
    node: DirNode,
    from: string,
    inclusive: boolean,
  ): Promise<string | null> {
    let after = from;
    let incl = inclusive;
    for (;;) {
      const next = node.children?.slice(after, incl, 1)[0]?.key;
      if (next === undefined) return null;
      const child = this.#dirs.get(next)!;
      if (!child.dirty) return next;
      const seen = child.changes;
      const held = await kv.list(
        { start: objectListKey(bucketId, next), end: objectListKey(bucketId, prefixEnd(next)!) },
        { limit: 1 },
      ).next();
      const changed = child.changes !== seen || this.#dirs.get(next) !== child;
      if (!held.done) {
        if (!changed) child.dirty = false;
        return next;
      }
      if (!changed) this.#forget(next);
      after = next;
      incl = false;
    }
  }

  /** Forgets an empty directory and everything under it. */
  #forget(dir: string): void {
    const node = this.#dirs.get(dir);
    if (!node) return;
    for (const c of node.children ?? []) this.#forget(c.key);
    this.#dirs.delete(dir);
    const parent = dir.length === 1 ? "" : dir.slice(0, dir.lastIndexOf("/", dir.length - 2) + 1);
    this.#dirs.get(parent)?.children?.delete(dir);
  }
}

/**
 * Stored entries from `from` up to `end` (exclusive), in batches that start small: a run of
 * direct keys between two child directories is often empty or short.
 */
async function* directKeys(
  kv: Pick<Deno.Kv, "list">,
  bucketId: string,
  from: string,
  inclusive: boolean,
  end: string | null,
): AsyncIterable<Deno.KvEntry<Uint8Array>[]> {
  let start = inclusive ? from : from + "\0";
  for (let batch = 16;; batch = Math.min(batch * 4, 1000)) {
    // A start past the run (a marker after the prefix's range) has nothing to read.
    if (end !== null && compareUtf8(start, end) >= 0) return;
    const sel: Deno.KvListSelector = end === null
      ? { prefix: objectListPrefix(bucketId), start: objectListKey(bucketId, start) }
      : { start: objectListKey(bucketId, start), end: objectListKey(bucketId, end) };
    const out = await Array.fromAsync(kv.list<Uint8Array>(sel, { limit: batch, batchSize: batch }));
    if (out.length) yield out;
    if (out.length < batch) return;
    start = (out[out.length - 1].key[2] as string) + "\0";
  }
}
