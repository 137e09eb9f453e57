/**
 * Conformance cases: concurrent publishes. Whatever the interleaving, a key has exactly one
 * latest version, every acknowledged version of a versioned key is kept, the counters are
 * exact, and of racing conditional writes exactly one wins.
 */
import { assert, assertEquals } from "../../../tests/_helpers/assert.ts";
import { isS3Error } from "../../s3/errors.ts";
import type { ObjectRecord } from "../types.ts";
import {
  allVersions,
  bucket,
  byteOrder,
  concat,
  type ConformanceCase,
  expectCode,
  listedKeys,
  md5Hex,
  multipartEtag,
  outcome,
  type PartRecord,
  put,
  putEtag,
  randomBytes,
  read,
  setVersioning,
  stats,
  text,
  utf8,
} from "./harness.ts";
import { createUpload, uploadPart } from "./multipart.ts";

const sum = (ns: number[]) => ns.reduce((a, b) => a + b, 0);

/**
 * Runs two calls against each other and returns their outcomes. Round by round one side starts
 * a little later (microtask turns or a timer turn), so that on a fast backend each side gets to
 * commit first in some rounds.
 */
async function race(
  round: number,
  a: () => Promise<unknown>,
  b: () => Promise<unknown>,
): Promise<[string, string]> {
  const stagger = async (f: () => Promise<unknown>) => {
    if (round % 3 === 2) await new Promise((r) => setTimeout(r, round % 4));
    else for (let i = 0; i < round * 4; i++) await Promise.resolve();
    return await f();
  };
  const [x, y] = round % 2 ? [stagger(a), b()] : [a(), stagger(b)];
  return await Promise.all([outcome(x), outcome(y)]);
}

/** Counts the outcomes of settled calls: `{ ok: 1, PreconditionFailed: 9 }`. */
async function tally(calls: Promise<unknown>[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const o of await Promise.all(calls.map(outcome))) out[o] = (out[o] ?? 0) + 1;
  return out;
}

export const CONCURRENCY_CASES: ConformanceCase[] = [
  {
    name: "concurrency: 50 puts of distinct keys are all listed and counted",
    async run({ be }) {
      const b = await bucket(be, "concurrent-keys");
      const bodies = Array.from({ length: 50 }, (_, i) => randomBytes(i * 700));
      const keys = bodies.map((_, i) => `k/${i}`);
      const recs = await Promise.all(keys.map((k, i) => put(be, b, k, bodies[i])));
      assertEquals(recs.map((r) => r.etag), bodies.map(putEtag));
      assertEquals(await listedKeys(be, b), [...keys].sort(byteOrder));
      assertEquals(await stats(be, b), { objects: 50, bytes: sum(bodies.map((d) => d.length)) });
      for (const [i, k] of keys.entries()) {
        assertEquals(await read(be, await be.getObjectRecord(b, k)), bodies[i], k);
      }
      await Promise.all(keys.map((k) => be.deleteObject(b, k)));
      assertEquals(await stats(be, b), { objects: 0, bytes: 0 });
      await be.deleteBucket("", b.name);
    },
  },
  {
    name: "concurrency: 20 puts of one key, unversioned: one version, the counters of the winner",
    async run({ be }) {
      const b = await bucket(be, "concurrent-one-key");
      const bodies = Array.from({ length: 20 }, (_, i) => randomBytes(1 + i * 3000));
      await Promise.all(bodies.map((d) => put(be, b, "k", d)));
      const cur = await be.getObjectRecord(b, "k");
      const bytes = await read(be, cur);
      assertEquals([cur.etag, cur.size], [putEtag(bytes), bytes.length], "record and bytes agree");
      assert(bodies.some((d) => md5Hex(d) === md5Hex(bytes)), "the bytes of one of the writes");
      const vs = await allVersions(be, b);
      assertEquals(vs.map((v) => [v.rec.versionId, v.isLatest]), [["null", true]]);
      assertEquals(await stats(be, b), { objects: 1, bytes: cur.size });
    },
  },
  {
    name: "concurrency: 20 puts of one key, versioned: every version kept, one latest",
    async run({ be }) {
      const b = await bucket(be, "concurrent-versions", { versioning: "Enabled" });
      const bodies = Array.from({ length: 20 }, (_, i) => utf8(`body-${i}-${"x".repeat(i * 50)}`));
      const recs = await Promise.all(bodies.map((d) => put(be, b, "k", d)));
      const ids = recs.map((r) => r.versionId);
      assertEquals(new Set(ids).size, 20, "20 distinct version ids");
      const vs = await allVersions(be, b);
      assertEquals(vs.length, 20);
      assertEquals(new Set(vs.map((v) => v.rec.versionId)), new Set(ids));
      assertEquals(vs.filter((v) => v.isLatest).length, 1);
      assert(vs[0].isLatest, "the latest is listed first");
      assertEquals((await be.getObjectRecord(b, "k")).versionId, vs[0].rec.versionId);
      for (const [i, r] of recs.entries()) {
        assertEquals(await read(be, await be.getObjectRecord(b, "k", r.versionId)), bodies[i]);
      }
      assertEquals(await stats(be, b), { objects: 20, bytes: sum(bodies.map((d) => d.length)) });
    },
  },
  {
    name:
      "concurrency: puts and deletes of one versioned key race; removing all empties the bucket",
    async run({ be }) {
      const b = await bucket(be, "concurrent-mixed", { versioning: "Enabled" });
      const ops = Array.from(
        { length: 30 },
        (_, i) => i % 3 === 2 ? be.deleteObject(b, "k") : put(be, b, "k", `body-${i}`),
      );
      await Promise.all(ops);
      const vs = await allVersions(be, b);
      assertEquals(vs.length, 30);
      assertEquals(vs.filter((v) => v.rec.deleteMarker).length, 10);
      assertEquals(vs.filter((v) => v.isLatest).length, 1);
      const newest = vs[0].rec;
      if (newest.deleteMarker) await expectCode(() => be.getObjectRecord(b, "k"), "NoSuchKey");
      else assertEquals((await be.getObjectRecord(b, "k")).versionId, newest.versionId);
      const live = vs.filter((v) => !v.rec.deleteMarker);
      assertEquals(await stats(be, b), {
        objects: live.length,
        bytes: sum(live.map((v) => v.rec.size)),
      });
      await Promise.all(vs.map((v) => be.deleteObject(b, "k", { versionId: v.rec.versionId })));
      assertEquals(await allVersions(be, b), []);
      assertEquals(await stats(be, b), { objects: 0, bytes: 0 });
      await be.deleteBucket("", b.name);
    },
  },
  {
    name: "concurrency: of racing conditional creates of one key exactly one wins",
    async run({ be }) {
      const b = await bucket(be, "concurrent-conditional");
      const calls = Array.from(
        { length: 10 },
        (_, i) => put(be, b, "k", `writer-${i}`, { conditions: { ifNoneMatch: "*" } }),
      );
      const results = await tally(calls);
      assertEquals(results.ok, 1, JSON.stringify(results));
      const losers = 9 - (results.PreconditionFailed ?? 0) -
        (results.ConditionalRequestConflict ?? 0);
      assertEquals(losers, 0, `the others fail their precondition: ${JSON.stringify(results)}`);
      assert((await text(be, b, "k")).startsWith("writer-"));
      assertEquals((await stats(be, b)).objects, 1);

      // If-Match on the current ETag: exactly one of the racers replaces it.
      const cur = await be.getObjectRecord(b, "k");
      const matches = await tally(
        Array.from(
          { length: 10 },
          (_, i) => put(be, b, "k", `next-${i}`, { conditions: { ifMatch: cur.etag } }),
        ),
      );
      assertEquals(matches.ok, 1, JSON.stringify(matches));
      assertEquals(
        (matches.PreconditionFailed ?? 0) + (matches.ConditionalRequestConflict ?? 0),
        9,
      );
      assert((await text(be, b, "k")).startsWith("next-"));
    },
  },
  {
    name: "concurrency: a write racing DeleteBucket never leaves an object in a deleted bucket",
    async run({ be }) {
      for (let round = 0; round < 12; round++) {
        const name = `racing-delete-${round}`;
        const b = await bucket(be, name);
        const [w, d] = await race(
          round,
          () => put(be, b, "k", "x"),
          () => be.deleteBucket("", name),
        );
        if (d === "ok") {
          assertEquals(w, "NoSuchBucket", `round ${round}: the bucket went first`);
          await expectCode(() => be.getBucket("", name), "NoSuchBucket");
        } else {
          assertEquals([w, d], ["ok", "BucketNotEmpty"], `round ${round}: the write went first`);
          assertEquals(await listedKeys(be, b), ["k"]);
        }
      }
    },
  },
  {
    name: "concurrency: racing creates of one bucket make one bucket",
    async run({ be }) {
      const results = await tally(Array.from({ length: 8 }, () => bucket(be, "contested")));
      assertEquals(results.ok, 1, JSON.stringify(results));
      const others = (results.BucketAlreadyOwnedByYou ?? 0) + (results.OperationAborted ?? 0);
      assertEquals(others, 7, JSON.stringify(results));
      assertEquals((await be.listBuckets("")).map((x) => x.name), ["contested"]);
    },
  },
  {
    name: "concurrency: parallel part uploads, a raced part number, racing Completes",
    async run({ be }) {
      const b = await bucket(be, "concurrent-multipart");
      const up = await createUpload(be, b, "k");
      const datas = Array.from({ length: 10 }, () => randomBytes(2000));
      await Promise.all(datas.map((d, i) => uploadPart(be, b, "k", up.uploadId, i + 1, d)));
      // Five uploads of part 3 at once: one of them is the part.
      const racers = Array.from({ length: 5 }, () => randomBytes(3000));
      await Promise.all(racers.map((d) => uploadPart(be, b, "k", up.uploadId, 3, d)));
      const page = await be.listParts(b, "k", up.uploadId, { marker: 0, maxParts: 100 });
      assertEquals(page.parts.map((p) => p.n), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      const third = racers.find((d) => `"${md5Hex(d)}"` === page.parts[2].etag);
      assert(third, "part 3 is one of the racing uploads");
      datas[2] = third;
      const parts = page.parts.map((p) => ({ n: p.n, etag: p.etag, checksums: {} }));
      const completes = Array.from(
        { length: 3 },
        () =>
          be.completeMultipartUpload(b, { key: "k", uploadId: up.uploadId, parts, minPartSize: 0 })
            .then((r: ObjectRecord) => r.etag, (e) => isS3Error(e) ? e.code : Promise.reject(e)),
      );
      const got = await Promise.all(completes);
      const ok = got.filter((g) => g.startsWith('"'));
      assert(ok.length >= 1, `one Complete succeeds: ${got}`);
      assert(new Set(ok).size === 1, "every successful Complete answers the same object");
      assert(got.every((g) => g.startsWith('"') || g === "NoSuchUpload"), `${got}`);
      const rec = await be.getObjectRecord(b, "k");
      assertEquals(rec.etag, ok[0]);
      const all = await read(be, rec);
      assertEquals(all.length, 9 * 2000 + 3000);
      assertEquals(all.subarray(4000, 7000), third);
      assertEquals(await stats(be, b), { objects: 1, bytes: all.length });
      assertEquals(await allVersions(be, b).then((vs) => vs.length), 1);
    },
  },
  {
    name:
      "concurrency: puts and deletes of one unversioned key race; the counters match what is left",
    async run({ be }) {
      const b = await bucket(be, "concurrent-unversioned-mixed");
      const ops = Array.from(
        { length: 30 },
        (_, i) => i % 3 === 2 ? be.deleteObject(b, "k") : put(be, b, "k", randomBytes(i * 900)),
      );
      await Promise.all(ops);
      const vs = await allVersions(be, b);
      assert(vs.length <= 1, "one null version at most");
      const cur = await be.getObjectRecord(b, "k").catch(() => null);
      assertEquals(cur?.versionId, vs[0]?.rec.versionId);
      assertEquals(await stats(be, b), { objects: cur ? 1 : 0, bytes: cur?.size ?? 0 });
      if (cur) assertEquals(putEtag(await read(be, cur)), cur.etag);
    },
  },
  {
    name: "concurrency: racing Completes of different uploads into one key leave one object",
    async run({ be }) {
      const b = await bucket(be, "concurrent-completes");
      const uploads = [];
      for (let i = 0; i < 5; i++) {
        const up = await createUpload(be, b, "k");
        const datas = [randomBytes(1000 + i), randomBytes(10 * i + 1)];
        const parts = [];
        for (const [n, d] of datas.entries()) {
          parts.push(await uploadPart(be, b, "k", up.uploadId, n + 1, d));
        }
        uploads.push({ up, datas, parts });
      }
      await Promise.all(uploads.map(({ up, parts }) =>
        be.completeMultipartUpload(b, {
          key: "k",
          uploadId: up.uploadId,
          parts: parts.map((p) => ({ n: p.n, etag: p.etag, checksums: {} })),
          minPartSize: 0,
        })
      ));
      const cur = await be.getObjectRecord(b, "k");
      const winner = uploads.find((u) => multipartEtag(u.datas) === cur.etag);
      assert(winner, "the object is one of the uploads");
      assertEquals(await read(be, cur), concat(winner.datas));
      assertEquals(await stats(be, b), { objects: 1, bytes: cur.size });
      assertEquals((await allVersions(be, b)).length, 1);
      const open = await be.listMultipartUploads(b, {
        prefix: "",
        delimiter: "",
        keyMarker: "",
        uploadIdMarker: "",
        maxUploads: 10,
      });
      assertEquals(open.uploads, []);
    },
  },
  {
    name: "concurrency: a Complete racing an Abort makes the object or nothing",
    async run({ be }) {
      const b = await bucket(be, "complete-abort");
      for (let round = 0; round < 10; round++) {
        const key = `k${round}`;
        const up = await createUpload(be, b, key);
        const d = randomBytes(500);
        const p = await uploadPart(be, b, key, up.uploadId, 1, d);
        const [c, a] = await race(
          round,
          () =>
            be.completeMultipartUpload(b, {
              key,
              uploadId: up.uploadId,
              parts: [{ n: 1, etag: p.etag, checksums: {} }],
              minPartSize: 0,
            }),
          () => be.abortMultipartUpload(b, key, up.uploadId),
        );
        if (c === "ok") {
          assertEquals(a, "NoSuchUpload", `round ${round}: Complete went first`);
          assertEquals(await read(be, await be.getObjectRecord(b, key)), d);
        } else {
          assertEquals([c, a], ["NoSuchUpload", "ok"], `round ${round}: Abort went first`);
          await expectCode(() => be.getObjectRecord(b, key), "NoSuchKey");
        }
        await expectCode(() => be.getMultipartUpload(b, key, up.uploadId), "NoSuchUpload");
      }
      const keys = await listedKeys(be, b);
      const { objects } = await stats(be, b);
      assertEquals(objects, keys.length);
    },
  },
  {
    name: "concurrency: a part uploaded again during Complete never mixes into the object",
    async run({ be }) {
      const b = await bucket(be, "complete-reupload");
      for (let round = 0; round < 10; round++) {
        const key = `k${round}`;
        const up = await createUpload(be, b, key);
        const datas = [randomBytes(700), randomBytes(800), randomBytes(900)];
        const parts: PartRecord[] = [];
        for (const [n, d] of datas.entries()) {
          parts.push(await uploadPart(be, b, key, up.uploadId, n + 1, d));
        }
        const [c, u] = await race(
          round,
          () =>
            be.completeMultipartUpload(b, {
              key,
              uploadId: up.uploadId,
              parts: parts.map((p) => ({ n: p.n, etag: p.etag, checksums: {} })),
              minPartSize: 0,
            }),
          () => uploadPart(be, b, key, up.uploadId, 2, randomBytes(800)),
        );
        if (c === "ok") {
          // The part upload came too late (the upload is gone) or lost to the Complete's list.
          assert(u === "NoSuchUpload" || u === "ok", `round ${round}: ${u}`);
          const rec = await be.getObjectRecord(b, key);
          assertEquals([rec.etag, await read(be, rec)], [multipartEtag(datas), concat(datas)]);
        } else {
          // The new part 2 replaced the listed one first: its ETag no longer matches.
          assertEquals([c, u], ["InvalidPart", "ok"], `round ${round}`);
          await expectCode(() => be.getObjectRecord(b, key), "NoSuchKey");
        }
      }
    },
  },
  {
    name: "concurrency: puts racing a switch to Suspended each commit under one state",
    async run({ be }) {
      let b = await bucket(be, "versioning-switch", { versioning: "Enabled" });
      const bodies = Array.from({ length: 20 }, (_, i) => `body-${i}`);
      const versioned = b;
      const writes = bodies.map(async (body, i) => {
        for (let t = 0; t < i * 4; t++) await Promise.resolve();
        if (i % 2) await new Promise((r) => setTimeout(r, i % 5));
        return await put(be, versioned, "k", body);
      });
      // The switch comes while writes are in flight (writers pass the record they started with).
      await writes[4];
      b = await setVersioning(be, b, "Suspended");
      const recs = await Promise.all(writes);
      const ids = recs.filter((r) => r.versionId !== "null").map((r) => r.versionId);
      const nulls = recs.filter((r) => r.versionId === "null");
      const vs = await allVersions(be, b);
      // Every versioned write is kept; the null writes replaced each other, one is left.
      assertEquals(
        new Set(vs.map((v) => v.rec.versionId)),
        new Set([...ids, ...(nulls.length ? ["null"] : [])]),
      );
      assertEquals(vs.filter((v) => v.isLatest).length, 1);
      const nullLeft = vs.find((v) => v.rec.versionId === "null");
      if (nullLeft) {
        const body = await text(be, b, "k", "null");
        assert(
          nulls.some((r) => r.etag === putEtag(utf8(body))),
          "the null version is a null write",
        );
      }
      assertEquals(await stats(be, b), {
        objects: vs.length,
        bytes: sum(vs.map((v) => v.rec.size)),
      });
      assertEquals((await be.getObjectRecord(b, "k")).versionId, vs[0].rec.versionId);
    },
  },
  {
    name: "concurrency: tag updates racing overwrites never bring an old version back",
    async run({ be }) {
      for (const versioning of ["Unversioned", "Enabled"] as const) {
        const b = await bucket(be, `tags-race-${versioning.toLowerCase()}`, { versioning });
        const first = await put(be, b, "k", "first");
        const ops: Promise<unknown>[] = [];
        for (let i = 0; i < 10; i++) {
          ops.push(put(be, b, "k", `body-${i}-${"x".repeat(i * 100)}`));
          ops.push(
            be.updateObjectVersion(b, "k", undefined, (r) => ({ ...r, tags: { n: String(i) } }))
              .catch((e) => e),
          );
        }
        await Promise.all(ops);
        const cur = await be.getObjectRecord(b, "k");
        assert(cur.etag !== first.etag, `${versioning}: an overwrite is the latest`);
        assertEquals(putEtag(await read(be, cur)), cur.etag, `${versioning}: record and bytes`);
        const vs = await allVersions(be, b);
        assertEquals(vs.length, versioning === "Enabled" ? 11 : 1);
        assertEquals(await stats(be, b), {
          objects: vs.length,
          bytes: sum(vs.map((v) => v.rec.size)),
        });
      }
    },
  },
];
