/**
 * ListObjectVersions over every stored version (`walkVersions`: `["ver", bucket, key, sortId]`
 * entries and solo records): keys in byte order, each key's versions newest first. A page costs
 * O(page): the walk starts at the marker with one seek, and a common prefix is skipped with one
 * new seek past it (or within what was already read) instead of walking the versions under it.
 */
import { S3Error } from "../../s3/errors.ts";
import { objectKey, versionNullKey } from "../meta/keys.ts";
import { pastPrefix, prefixEnd } from "../listing/listing.ts";
import { validateVersionId } from "./versions.ts";
import {
  type VersionSource,
  VersionWalk,
  type WalkBatches,
  type WalkStart,
} from "./version_walk.ts";
import type { ListVersionsInput, ListVersionsPage, ObjectRecord } from "../types.ts";

/** The position just after every version of `key` (the next key's versions sort after it). */
const afterKey = (key: string): WalkStart => ({ name: key + "\0" });

/** Where the walk starts, and the key whose versions before that point were already listed. */
async function startOf(
  core: VersionSource,
  bucketId: string,
  input: ListVersionsInput,
): Promise<{ start: WalkStart; resumedKey: string | null }> {
  const { prefix, delimiter, keyMarker, versionIdMarker } = input;
  if (versionIdMarker && !keyMarker) {
    throw new S3Error("InvalidArgument", {
      message: "A version-id marker cannot be specified without a key marker.",
      fields: { ArgumentName: "version-id-marker", ArgumentValue: versionIdMarker },
    });
  }
  if (!keyMarker || keyMarker < prefix) {
    return { start: { name: prefix }, resumedKey: null };
  }
  // A marker inside a common prefix means that prefix was already returned: skip all of it.
  if (delimiter && keyMarker.startsWith(prefix)) {
    const i = keyMarker.indexOf(delimiter, prefix.length);
    if (i >= 0) {
      const cp = keyMarker.slice(0, i + delimiter.length);
      if (keyMarker !== cp || !versionIdMarker) {
        return { start: { name: pastPrefix(cp) }, resumedKey: null };
      }
    }
  }
  if (versionIdMarker) {
    validateVersionId(versionIdMarker);
    if (versionIdMarker !== "null") {
      return { start: { name: keyMarker, afterSort: versionIdMarker }, resumedKey: keyMarker };
    }
    const [p, o] = await core.meta.getMany<[{ sort: string }, ObjectRecord]>([
      versionNullKey(bucketId, keyMarker),
      objectKey(bucketId, keyMarker),
    ]);
    if (p.value) {
      return { start: { name: keyMarker, afterSort: p.value.sort }, resumedKey: keyMarker };
    }
    // A solo version has no null pointer: the key's one version was listed, go past it.
    if (o.value?.solo) return { start: afterKey(keyMarker), resumedKey: null };
    // The null version was removed since the last page (a loop that deletes each page before
    // asking for the next). Where it sorted is gone with it, so the key is listed again from
    // its newest version: an entry may come twice, but none of its older versions is skipped.
    return { start: { name: keyMarker }, resumedKey: null };
  }
  return { start: afterKey(keyMarker), resumedKey: null };
}

/**
 * How much each range reads first. Which range holds a page's versions depends on the keys
 * (solo records in `obj`, the rest in `ver`), so both start at a few dozen entries and grow
 * (each batch four times the last, within what the page can still use): reading the page at
 * once from one range wasted most of it when the other held the page, and measured slower even
 * when it did not. Under a delimiter entries fold and a seek often ends after one entry, so both
 * start smaller.
 */
function walkBatches(input: ListVersionsInput): WalkBatches {
  const budget = input.maxKeys + 1;
  const first = Math.min(budget, input.delimiter ? 16 : 48);
  return { ver: first, obj: first, budget };
}

export async function listObjectVersions(
  core: VersionSource,
  bucketId: string,
  input: ListVersionsInput,
): Promise<ListVersionsPage> {
  const { prefix, delimiter, maxKeys } = input;
  const page: ListVersionsPage = {
    versions: [],
    commonPrefixes: [],
    truncated: false,
    nextKeyMarker: null,
    nextVersionIdMarker: null,
  };
  if (maxKeys <= 0) return page;
  const { start, resumedKey } = await startOf(core, bucketId, input);
  // The key of the previous entry: an entry is the latest of its key iff its key differs.
  let prevKey: string | null = resumedKey;
  let count = 0;
  let lastName: string | null = null;
  let lastVersion: string | null = null;
  // With a prefix the range ends where the prefix does (see listing.ts: a batch is read whole).
  const endName = prefixEnd(prefix);
  const walk = new VersionWalk(core, bucketId, start, endName, walkBatches(input));
  for (let e = await walk.next(); e; e = await walk.next()) {
    const key = e.name;
    if (!key.startsWith(prefix)) {
      if (key > prefix) return page;
      continue;
    }
    if (delimiter) {
      const i = key.indexOf(delimiter, prefix.length);
      if (i >= 0) {
        const cp = key.slice(0, i + delimiter.length);
        if (count >= maxKeys) return truncate(page, lastName, lastVersion);
        page.commonPrefixes.push(cp);
        count++;
        lastName = cp;
        lastVersion = null;
        prevKey = null;
        walk.skipTo(pastPrefix(cp));
        continue;
      }
    }
    if (count >= maxKeys) return truncate(page, lastName, lastVersion);
    page.versions.push({ rec: e.rec, isLatest: key !== prevKey });
    prevKey = key;
    count++;
    lastName = key;
    lastVersion = e.rec.versionId;
  }
  return page;
}

function truncate(
  page: ListVersionsPage,
  lastName: string | null,
  lastVersion: string | null,
): ListVersionsPage {
  page.truncated = true;
  page.nextKeyMarker = lastName;
  page.nextVersionIdMarker = lastVersion;
  return page;
}
