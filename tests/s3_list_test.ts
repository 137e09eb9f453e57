/**
 * ListObjects v1 and v2 end to end: prefix, delimiters (multi-character too), markers,
 * continuation tokens, max-keys, encoding-type=url, fetch-owner and the truncation rules.
 */
import { assert, assertEquals, assertS3Error } from "./_helpers/assert.ts";
import {
  CreateBucketCommand,
  ListObjectsCommand,
  type ListObjectsCommandOutput,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { startServer } from "./_helpers/server.ts";
import { errorCode, signedFetch } from "./_helpers/signed_fetch.ts";

const B = "listing";
const KEYS = [
  "a",
  "b/1",
  "b/2",
  "b/c/3",
  "c//d",
  "c//e",
  "d-x-y",
  "d-x-z",
  "e%f g+h",
  "z",
];

const keysOf = (r: { Contents?: { Key?: string }[] }) => r.Contents?.map((c) => c.Key) ?? [];
const prefixesOf = (r: { CommonPrefixes?: { Prefix?: string }[] }) =>
  r.CommonPrefixes?.map((c) => c.Prefix) ?? [];

/** Walks every v1 page (NextMarker, else the last key) and returns keys and prefixes in order. */
async function walkV1(s3: S3Client, input: { Prefix?: string; Delimiter?: string }, max: number) {
  const out: string[] = [];
  let marker: string | undefined;
  for (let pages = 0; pages < 50; pages++) {
    const r: ListObjectsCommandOutput = await s3.send(
      new ListObjectsCommand({ Bucket: B, ...input, MaxKeys: max, Marker: marker }),
    );
    const items = [...keysOf(r), ...prefixesOf(r)].sort() as string[];
    out.push(...items);
    if (!r.IsTruncated) return out;
    if (input.Delimiter) assert(r.NextMarker, "NextMarker with a delimiter");
    else assertEquals(r.NextMarker, undefined);
    marker = r.NextMarker ?? items[items.length - 1];
  }
  throw new Error("too many pages");
}

async function walkV2(s3: S3Client, input: { Prefix?: string; Delimiter?: string }, max: number) {
  const out: string[] = [];
  let token: string | undefined;
  for (let pages = 0; pages < 50; pages++) {
    const r: ListObjectsV2CommandOutput = await s3.send(
      new ListObjectsV2Command({ Bucket: B, ...input, MaxKeys: max, ContinuationToken: token }),
    );
    assertEquals(r.ContinuationToken, token);
    assertEquals(r.KeyCount, (r.Contents?.length ?? 0) + (r.CommonPrefixes?.length ?? 0));
    assert(r.KeyCount! <= max);
    out.push(...([...keysOf(r), ...prefixesOf(r)].sort() as string[]));
    if (!r.IsTruncated) {
      assertEquals(r.NextContinuationToken, undefined);
      return out;
    }
    token = r.NextContinuationToken;
    assert(token, "NextContinuationToken when truncated");
  }
  throw new Error("too many pages");
}

Deno.test("S3 ListObjects v1 and v2", async (t) => {
  const srv = await startServer();
  const s3 = srv.client();
  const rawList = (query: Record<string, string>) =>
    signedFetch(srv, { method: "GET", path: `/${B}`, query });
  try {
    await s3.send(new CreateBucketCommand({ Bucket: B }));
    for (const k of KEYS) await s3.send(new PutObjectCommand({ Bucket: B, Key: k, Body: k }));

    await t.step("v1: everything, with owner, no NextMarker", async () => {
      const r = await s3.send(new ListObjectsCommand({ Bucket: B }));
      assertEquals(keysOf(r), KEYS);
      assertEquals(r.IsTruncated, false);
      assertEquals(r.NextMarker, undefined);
      assertEquals(r.MaxKeys, 1000);
      assert(r.Contents?.every((c) => c.Owner?.ID && c.ETag && c.Size! > 0 && c.LastModified));
      assertEquals(r.Contents?.[0].StorageClass, "STANDARD");
      const xml = await (await rawList({})).text();
      assert(xml.includes("<Marker></Marker>"), "v1 always echoes Marker");
    });

    await t.step("delimiters: '/', multi-character and '//' fold common prefixes", async () => {
      const slash = await s3.send(new ListObjectsV2Command({ Bucket: B, Delimiter: "/" }));
      assertEquals(keysOf(slash), ["a", "d-x-y", "d-x-z", "e%f g+h", "z"]);
      assertEquals(prefixesOf(slash), ["b/", "c/"]);
      assertEquals(slash.Delimiter, "/");
      const nested = await s3.send(
        new ListObjectsV2Command({ Bucket: B, Prefix: "b/", Delimiter: "/" }),
      );
      assertEquals(keysOf(nested), ["b/1", "b/2"]);
      assertEquals(prefixesOf(nested), ["b/c/"]);
      const multi = await s3.send(new ListObjectsCommand({ Bucket: B, Delimiter: "-x-" }));
      assertEquals(prefixesOf(multi), ["d-x-"]);
      assertEquals(keysOf(multi), ["a", "b/1", "b/2", "b/c/3", "c//d", "c//e", "e%f g+h", "z"]);
      const double = await s3.send(new ListObjectsV2Command({ Bucket: B, Delimiter: "//" }));
      assertEquals(prefixesOf(double), ["c//"]);
      const inner = await s3.send(
        new ListObjectsV2Command({ Bucket: B, Prefix: "c/", Delimiter: "/" }),
      );
      assertEquals(prefixesOf(inner), ["c//"]);
      assertEquals(keysOf(inner), []);
    });

    await t.step("prefix filters; a prefix without matches is an empty page", async () => {
      const r = await s3.send(new ListObjectsV2Command({ Bucket: B, Prefix: "b/" }));
      assertEquals(keysOf(r), ["b/1", "b/2", "b/c/3"]);
      assertEquals(r.Prefix, "b/");
      const none = await s3.send(new ListObjectsV2Command({ Bucket: B, Prefix: "nothing" }));
      assertEquals(none.KeyCount, 0);
      assertEquals(none.Contents, undefined);
      assertEquals(none.IsTruncated, false);
    });

    await t.step("v1 marker and v2 start-after are exclusive starts", async () => {
      const v1 = await s3.send(new ListObjectsCommand({ Bucket: B, Marker: "b/2" }));
      assertEquals(keysOf(v1), KEYS.slice(3));
      assertEquals(v1.Marker, "b/2");
      const v2 = await s3.send(new ListObjectsV2Command({ Bucket: B, StartAfter: "c//d" }));
      assertEquals(keysOf(v2), KEYS.slice(5));
      assertEquals(v2.StartAfter, "c//d");
      const between = await s3.send(new ListObjectsV2Command({ Bucket: B, StartAfter: "b/0" }));
      assertEquals(keysOf(between), KEYS.slice(1));
      const past = await s3.send(new ListObjectsV2Command({ Bucket: B, StartAfter: "zz" }));
      assertEquals(past.KeyCount, 0);
      // A marker equal to a returned common prefix skips everything under it.
      const afterPrefix = await s3.send(
        new ListObjectsCommand({ Bucket: B, Delimiter: "/", Marker: "b/" }),
      );
      assertEquals(prefixesOf(afterPrefix), ["c/"]);
      assertEquals(keysOf(afterPrefix), ["d-x-y", "d-x-z", "e%f g+h", "z"]);
    });

    await t.step("max-keys: truncation, 0, above 1000 and invalid values", async () => {
      const two = await s3.send(new ListObjectsCommand({ Bucket: B, MaxKeys: 2 }));
      assertEquals(keysOf(two), ["a", "b/1"]);
      assertEquals(two.IsTruncated, true);
      assertEquals(two.NextMarker, undefined, "v1 NextMarker only with a delimiter");
      const withDelim = await s3.send(
        new ListObjectsCommand({ Bucket: B, MaxKeys: 2, Delimiter: "/" }),
      );
      assertEquals(keysOf(withDelim), ["a"]);
      assertEquals(prefixesOf(withDelim), ["b/"]);
      assertEquals(withDelim.IsTruncated, true);
      assertEquals(withDelim.NextMarker, "b/");
      const exact = await s3.send(new ListObjectsV2Command({ Bucket: B, MaxKeys: KEYS.length }));
      assertEquals(exact.IsTruncated, false);
      assertEquals(exact.KeyCount, KEYS.length);
      const zero = await s3.send(new ListObjectsV2Command({ Bucket: B, MaxKeys: 0 }));
      assertEquals(zero.KeyCount, 0);
      assertEquals(zero.IsTruncated, false);
      assertEquals(zero.MaxKeys, 0);
      const big = await s3.send(new ListObjectsV2Command({ Bucket: B, MaxKeys: 5000 }));
      assertEquals(keysOf(big), KEYS);
      assertEquals(big.MaxKeys, 5000, "the requested value is echoed; pages still hold 1000");
      for (const bad of ["-1", "abc", "1.5", "2147483648"]) {
        const res = await rawList({ "list-type": "2", "max-keys": bad });
        assertEquals(res.status, 400, bad);
        assertEquals(await errorCode(res), "InvalidArgument");
      }
    });

    await t.step("paging through every page returns each key or prefix exactly once", async () => {
      const allPrefixed = ["a", "b/", "c/", "d-x-y", "d-x-z", "e%f g+h", "z"];
      for (const max of [1, 2, 3, 7]) {
        assertEquals(await walkV1(s3, {}, max), KEYS, `v1 max ${max}`);
        assertEquals(await walkV2(s3, {}, max), KEYS, `v2 max ${max}`);
        assertEquals(await walkV1(s3, { Delimiter: "/" }, max), allPrefixed, `v1 / ${max}`);
        assertEquals(await walkV2(s3, { Delimiter: "/" }, max), allPrefixed, `v2 / ${max}`);
        assertEquals(
          await walkV2(s3, { Prefix: "b/", Delimiter: "/" }, max),
          ["b/1", "b/2", "b/c/"],
        );
      }
    });

    await t.step(
      "v2: continuation token wins over start-after; a bad token is rejected",
      async () => {
        const first = await s3.send(new ListObjectsV2Command({ Bucket: B, MaxKeys: 4 }));
        const next = await s3.send(
          new ListObjectsV2Command({
            Bucket: B,
            ContinuationToken: first.NextContinuationToken,
            StartAfter: "a",
          }),
        );
        assertEquals(keysOf(next), KEYS.slice(4));
        assertEquals(next.StartAfter, "a");
        for (const bad of ["!!!", "*"]) {
          const res = await rawList({ "list-type": "2", "continuation-token": bad });
          assertEquals(res.status, 400, `token ${JSON.stringify(bad)}`);
          assertEquals(await errorCode(res), "InvalidArgument");
        }
      },
    );

    await t.step("v2: Owner only with fetch-owner=true", async () => {
      const plain = await s3.send(new ListObjectsV2Command({ Bucket: B }));
      assert(plain.Contents?.every((c) => c.Owner === undefined));
      const owned = await s3.send(new ListObjectsV2Command({ Bucket: B, FetchOwner: true }));
      assert(owned.Contents?.every((c) => c.Owner?.ID));
    });

    await t.step("encoding-type=url encodes keys, prefixes, markers and delimiters", async () => {
      const res = await rawList({
        "list-type": "2",
        "encoding-type": "url",
        prefix: "e%",
        "start-after": "d x",
      });
      const xml = await res.text();
      assert(xml.includes("<EncodingType>url</EncodingType>"), xml);
      assert(xml.includes("<Prefix>e%25</Prefix>"), xml);
      assert(xml.includes("<StartAfter>d%20x</StartAfter>"), xml);
      const key = /<Key>([^<]*)<\/Key>/.exec(xml)?.[1];
      assertEquals(key, "e%25f%20g%2Bh");
      assertEquals(decodeURIComponent(key!), "e%f g+h");
      const v1 = await (await rawList({ "encoding-type": "url", delimiter: "-x-" })).text();
      assert(v1.includes("<Delimiter>-x-</Delimiter>"), v1);
      assert(v1.includes("<Key>c//d</Key>"), "slashes stay readable");
      const bad = await rawList({ "encoding-type": "base64" });
      assertEquals(bad.status, 400);
      assertEquals(await errorCode(bad), "InvalidArgument");
    });

    await t.step("a page never holds more than 1000 entries", async () => {
      const many = Array.from({ length: 1001 }, (_, i) => `many/${String(i).padStart(4, "0")}`);
      let next = 0;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (next < many.length) {
            const key = many[next++];
            await s3.send(new PutObjectCommand({ Bucket: B, Key: key, Body: "" }));
          }
        }),
      );
      const v2 = await s3.send(
        new ListObjectsV2Command({ Bucket: B, Prefix: "many/", MaxKeys: 5000 }),
      );
      assertEquals(v2.KeyCount, 1000);
      assertEquals(v2.IsTruncated, true);
      const rest = await s3.send(
        new ListObjectsV2Command({
          Bucket: B,
          Prefix: "many/",
          ContinuationToken: v2.NextContinuationToken,
        }),
      );
      assertEquals(keysOf(rest), [many[1000]]);
      const v1 = await s3.send(new ListObjectsCommand({ Bucket: B, Prefix: "many/" }));
      assertEquals(v1.Contents?.length, 1000);
      assertEquals(v1.IsTruncated, true);
      const folded = await s3.send(new ListObjectsV2Command({ Bucket: B, Delimiter: "/" }));
      assertEquals(prefixesOf(folded), ["b/", "c/", "many/"]);
    });

    await t.step("listing a missing bucket is NoSuchBucket", async () => {
      await assertS3Error(
        () => s3.send(new ListObjectsV2Command({ Bucket: "no-such-bucket" })),
        "NoSuchBucket",
        404,
      );
      await assertS3Error(
        () => s3.send(new ListObjectsCommand({ Bucket: "no-such-bucket" })),
        "NoSuchBucket",
        404,
      );
    });
  } finally {
    s3.destroy();
    await srv.stop();
  }
});
