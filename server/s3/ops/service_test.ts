import { assert, assertEquals } from "../../../tests/_helpers/assert.ts";
import { S3Error } from "../errors.ts";
import { parseXml } from "../xml.ts";
import {
  decodeBucketToken,
  encodeBucketToken,
  listBucketsXml,
  MAX_BUCKETS,
  parseMaxBuckets,
} from "./service.ts";

function codeOf(fn: () => unknown): [string, Record<string, string>] | null {
  try {
    fn();
    return null;
  } catch (e) {
    if (e instanceof S3Error) return [e.code, e.fields];
    throw e;
  }
}

Deno.test("ListBuckets token: round trips every bucket name, opaque on the wire", () => {
  for (const name of ["abc", "a.b-c", "x".repeat(63), "0-9.z"]) {
    const token = encodeBucketToken(name);
    assert(!token.includes(name), `${token} does not show ${name}`);
    assert(/^[A-Za-z0-9_-]+$/.test(token), "URL-safe");
    assertEquals(decodeBucketToken(token), name);
  }
});

Deno.test("ListBuckets token: one this server cannot have issued is InvalidArgument", () => {
  const bad = [
    "",
    "not base64!",
    "a+b/c=",
    encodeBucketToken("ab"), // too short for a bucket name
    btoa("Upper_Case").replaceAll("=", ""), // not a bucket name inside
    Array(2000).fill("A").join(""), // past S3's 1024 bytes
  ];
  for (const token of bad) {
    assertEquals(codeOf(() => decodeBucketToken(token)), [
      "InvalidArgument",
      { ArgumentName: "continuation-token" },
    ], JSON.stringify(token));
  }
});

Deno.test("max-buckets: an integer from 1 to 10000, else InvalidArgument naming it", () => {
  assertEquals(parseMaxBuckets(null), null);
  assertEquals(parseMaxBuckets("1"), 1);
  assertEquals(parseMaxBuckets("10000"), MAX_BUCKETS);
  assertEquals(parseMaxBuckets("0042"), 42);
  for (const v of ["0", "10001", "-1", "1.5", "abc", "", " 5", "99999999999999999999"]) {
    assertEquals(
      codeOf(() => parseMaxBuckets(v)),
      ["InvalidArgument", { ArgumentName: "max-buckets", ArgumentValue: v }],
      JSON.stringify(v),
    );
  }
});

Deno.test("ListAllMyBucketsResult: owner, buckets, token and prefix as AWS writes them", () => {
  const xml = listBucketsXml({
    ownerId: "u&1",
    displayName: "A <b>",
    buckets: [
      { name: "b-1", created: Date.UTC(2026, 0, 2, 3, 4, 5, 6), region: "us-east-1", ownerId: "o" },
      {
        name: "b-2",
        created: Date.UTC(2026, 0, 2, 3, 4, 5, 60),
        region: "eu-west-1",
        ownerId: "o",
      },
      { name: "b-3", created: Date.UTC(1999, 11, 31, 23, 59, 59), region: "r", ownerId: "o" },
    ],
    continuationToken: "dG9r",
    prefix: "b-<&",
  });
  assert(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n'));
  const doc = parseXml(xml);
  assertEquals(doc.name, "ListAllMyBucketsResult");
  assertEquals(doc.attrs.xmlns, "http://s3.amazonaws.com/doc/2006-03-01/");
  assertEquals(doc.children.map((c) => c.name), [
    "Owner",
    "Buckets",
    "ContinuationToken",
    "Prefix",
  ]);
  const [owner, buckets, token, prefix] = doc.children;
  assertEquals(owner.children.map((c) => [c.name, c.text]), [["ID", "u&1"], [
    "DisplayName",
    "A <b>",
  ]]);
  assertEquals(
    buckets.children.map((b) => b.children.map((c) => `${c.name}=${c.text}`).join(" ")),
    [
      "Name=b-1 CreationDate=2026-01-02T03:04:05.006Z BucketRegion=us-east-1",
      "Name=b-2 CreationDate=2026-01-02T03:04:05.060Z BucketRegion=eu-west-1",
      "Name=b-3 CreationDate=1999-12-31T23:59:59.000Z BucketRegion=r",
    ],
  );
  assertEquals([token.text, prefix.text], ["dG9r", "b-<&"]);
});

Deno.test("ListAllMyBucketsResult: no token on the last page; Prefix echoed even when empty", () => {
  const base = { ownerId: "o", displayName: "o", buckets: [], continuationToken: null };
  const names = (xml: string) => parseXml(xml).children.map((c) => c.name);
  assertEquals(names(listBucketsXml({ ...base, prefix: null })), ["Owner", "Buckets"]);
  assertEquals(names(listBucketsXml({ ...base, prefix: "" })), ["Owner", "Buckets", "Prefix"]);
});
