/**
 * A listing document is the same bytes whichever way it is made: read from KV and written (no
 * listing copy, no kept documents), read from the in-memory copy and written, or sent again from
 * the documents kept for the copy's state (server/s3/ops/list_documents.ts). A commit makes the
 * next document new. Keys with XML-special, control, non-ASCII and astral characters; v1, v2 with
 * every parameter, and versions.
 */
import { CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { assert, assertEquals } from "./_helpers/assert.ts";
import { startApp } from "./_helpers/app.ts";
import { md5 } from "./_helpers/objects.ts";
import { eventually } from "./_helpers/replication.ts";
import { REGION, TEST_ACCESS_KEY, TEST_SECRET_KEY } from "./_helpers/server.ts";
import { Signer, UNSIGNED_PAYLOAD } from "../scripts/bench/sigv4.ts";
import { encodeToken } from "../server/s3/ops/list.ts";

const B = "docs";
const KEYS = [
  `a&b<c>"d'e`,
  "plain",
  "x/\u00e9\r1",
  "x/\u65e5\u672c/\u8a9e",
  "x/\u{1F600}",
  "x/b c+d%e",
  "x/\u{E000}",
  "y/1",
  "y/2",
  "z",
];

const QUERIES = [
  "list-type=2",
  "list-type=2&prefix=x%2F",
  "list-type=2&prefix=y%2F",
  "list-type=2&delimiter=%2F",
  "list-type=2&delimiter=%2F&encoding-type=url",
  "list-type=2&encoding-type=url",
  "list-type=2&encoding-type=url&prefix=x%2F%C3%A9",
  "list-type=2&start-after=x%2F",
  "list-type=2&max-keys=2",
  `list-type=2&max-keys=2&continuation-token=${encodeToken("x/\u00e9\r1")}`,
  `list-type=2&max-keys=3&delimiter=%2F&continuation-token=${encodeToken("x/")}`,
  "list-type=2&continuation-token=",
  "list-type=2&fetch-owner=true",
  "list-type=2&fetch-owner=true&max-keys=0",
  "",
  "delimiter=%2F",
  "marker=x%2F&max-keys=2",
  "max-keys=2&delimiter=%2F&encoding-type=url",
  "versions",
  "versions&delimiter=%2F&encoding-type=url",
];

Deno.test("listing documents: the same bytes from KV, from the listing copy and kept", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "maxiofs-listdocs-" });
  const signer = new Signer({
    accessKey: TEST_ACCESS_KEY,
    secretKey: TEST_SECRET_KEY,
    region: REGION,
  });
  const fetchDoc = async (endpoint: string, query: string) => {
    const url = new URL(`${endpoint}/${B}${query ? "?" + query : ""}`);
    const res = await fetch(url, { headers: signer.sign("GET", url, UNSIGNED_PAYLOAD) });
    const bytes = new Uint8Array(await res.arrayBuffer());
    assertEquals(res.status, 200, `${query}: ${new TextDecoder().decode(bytes)}`);
    assertEquals(res.headers.get("content-type"), "application/xml");
    return bytes;
  };
  /**
   * Each query three times: written, written and kept, sent as kept (when the copy answers).
   */
  const allDocs = async (endpoint: string) => {
    const docs = new Map<string, Uint8Array>();
    for (const q of QUERIES) {
      const first = await fetchDoc(endpoint, q);
      assertEquals(await fetchDoc(endpoint, q), first, q);
      assertEquals(await fetchDoc(endpoint, q), first, q);
      docs.set(q, first);
    }
    return docs;
  };
  const bodies = new Map<string, Uint8Array>();
  let after: Map<string, Uint8Array>;
  const one = await startApp({ dataDir });
  try {
    await one.s3.send(new CreateBucketCommand({ Bucket: B }));
    for (const [i, key] of KEYS.entries()) {
      const body = new TextEncoder().encode(`body ${i}`.repeat(i + 1));
      bodies.set(key, body);
      if (key === "plain") {
        // Without a checksum (the SDK adds one to every PUT).
        const url = new URL(`${one.endpoint}/${B}/${key}`);
        const res = await fetch(url, {
          method: "PUT",
          headers: signer.sign("PUT", url, UNSIGNED_PAYLOAD),
          body,
        });
        assertEquals(res.status, 200, await res.text());
      } else await one.s3.send(new PutObjectCommand({ Bucket: B, Key: key, Body: body }));
    }
    const fromKv = await fetchDoc(one.endpoint, QUERIES[0]);
    const bucket = await one.app.storage.backend.getBucket("", B);
    await eventually(
      "the listing copy is loaded",
      () => Promise.resolve(one.app.storage.backend.listingStamp(bucket) !== null),
    );
    const before = await allDocs(one.endpoint);
    assertEquals(before.get(QUERIES[0]), fromKv, "the copy writes what KV's listing wrote");

    await one.s3.send(new PutObjectCommand({ Bucket: B, Key: "x/new&", Body: "n" }));
    after = await allDocs(one.endpoint);
    const text = (d: Uint8Array | undefined) => new TextDecoder().decode(d);
    assert(!text(before.get("list-type=2")).includes("<Key>x/new&amp;</Key>"));
    assert(
      text(after.get("list-type=2")).includes("<Key>x/new&amp;</Key>"),
      "a commit ends the kept document",
    );
    const untouched = after.get("list-type=2&prefix=y%2F");
    assert(untouched && text(untouched).includes("<Key>y/1</Key>"));
    assertEquals(untouched, before.get("list-type=2&prefix=y%2F"));

    // The bytes themselves, for the XML-special key, and for é and CR plain and URL-encoded.
    const etag = (key: string) => md5(bodies.get(key)!).replaceAll('"', "&quot;");
    const contents = (doc: string, key: string, shown: string) => {
      const lm = /<LastModified>([^<]+)<\/LastModified>/.exec(doc)?.[1] ?? "";
      assert(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(lm), lm);
      return `<Contents><Key>${shown}</Key><LastModified>${lm}</LastModified><ETag>${
        etag(key)
      }</ETag><Size>${bodies.get(key)!.length}</Size><StorageClass>STANDARD</StorageClass>` +
        "<ChecksumAlgorithm>CRC32</ChecksumAlgorithm><ChecksumType>FULL_OBJECT</ChecksumType>" +
        "</Contents>";
    };
    const head = '<?xml version="1.0" encoding="UTF-8"?>\n' +
      '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>docs</Name>';
    const special = text(await fetchDoc(one.endpoint, "list-type=2&prefix=a%26"));
    assertEquals(
      special,
      `${head}<Prefix>a&amp;</Prefix><KeyCount>1</KeyCount><MaxKeys>1000</MaxKeys>` +
        `<IsTruncated>false</IsTruncated>${
          contents(special, KEYS[0], "a&amp;b&lt;c&gt;&quot;d&apos;e")
        }</ListBucketResult>`,
    );
    const accented = await fetchDoc(one.endpoint, "list-type=2&prefix=x%2F%C3%A9");
    assertEquals(
      text(accented),
      `${head}<Prefix>x/\u00e9</Prefix><KeyCount>1</KeyCount><MaxKeys>1000</MaxKeys>` +
        `<IsTruncated>false</IsTruncated>${
          contents(text(accented), KEYS[2], "x/\u00e9&#13;1")
        }</ListBucketResult>`,
    );
    assert(text(accented).length < accented.length, "é is sent as its two UTF-8 bytes");
    const encoded = text(after.get("list-type=2&encoding-type=url&prefix=x%2F%C3%A9"));
    assertEquals(
      encoded,
      `${head}<Prefix>x/%C3%A9</Prefix><KeyCount>1</KeyCount><MaxKeys>1000</MaxKeys>` +
        `<IsTruncated>false</IsTruncated><EncodingType>url</EncodingType>${
          contents(encoded, KEYS[2], "x/%C3%A9%0D1")
        }</ListBucketResult>`,
    );
  } finally {
    await one.stop();
  }

  // The same data dir without the listing copy or kept documents: every document read from KV.
  const two = await startApp({
    dataDir,
    args: ["--list-cache", "0", "--without", "list-documents"],
  });
  try {
    const fromKv = await allDocs(two.endpoint);
    for (const q of QUERIES) assertEquals(fromKv.get(q), after.get(q), q);
  } finally {
    await two.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});
