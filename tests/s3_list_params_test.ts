/**
 * Listing parameters at their edges, end to end: ListObjectVersions reads max-keys like
 * ListObjects (InvalidArgument for bad values), and markers before, inside and past a prefix's
 * range for ListObjects v1 and ListObjectVersions; a continuation token no page issued.
 */
import { CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { Buffer } from "node:buffer";
import { assert, assertEquals } from "./_helpers/assert.ts";
import { startServer } from "./_helpers/server.ts";
import { errorCode, signedFetch } from "./_helpers/signed_fetch.ts";

const B = "list-params";

Deno.test("listing parameters: max-keys and markers around a prefix", async (t) => {
  const srv = await startServer();
  const s3 = srv.client();
  try {
    await s3.send(new CreateBucketCommand({ Bucket: B }));

    await t.step("ListObjectVersions reads max-keys like ListObjects", async () => {
      const big = await signedFetch(srv, {
        method: "GET",
        path: `/${B}`,
        query: { versions: "", "max-keys": "5000", "encoding-type": "url", prefix: "a b" },
      });
      const xml = await big.text();
      assertEquals(big.status, 200, xml);
      assert(xml.includes("<MaxKeys>5000</MaxKeys>"), xml);
      assert(xml.includes("<Prefix>a%20b</Prefix>"), xml);
      for (const bad of ["-1", "abc", "2147483648"]) {
        const res = await signedFetch(srv, {
          method: "GET",
          path: `/${B}`,
          query: { versions: "", "max-keys": bad },
        });
        assertEquals([res.status, await errorCode(res)], [400, "InvalidArgument"], bad);
      }
    });

    await t.step("listing a prefix: markers before, inside and past its range", async () => {
      for (const Key of ["p/1", "p/2", "p/3/x", "q/1", "r"]) {
        await s3.send(new PutObjectCommand({ Bucket: B, Key, Body: "x" }));
      }
      const list = async (query: Record<string, string>) => {
        const res = await signedFetch(srv, { method: "GET", path: `/${B}`, query });
        const xml = await res.text();
        assertEquals(res.status, 200, xml);
        return {
          keys: [...xml.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => m[1]),
          prefixes: [...xml.matchAll(/<Prefix>([^<]*)<\/Prefix><\/CommonPrefixes>/g)].map((m) =>
            m[1]
          ),
          truncated: xml.includes("<IsTruncated>true</IsTruncated>"),
        };
      };
      assertEquals(await list({ prefix: "p/" }), {
        keys: ["p/1", "p/2", "p/3/x"],
        prefixes: [],
        truncated: false,
      });
      assertEquals(await list({ prefix: "p/", marker: "a" }), {
        keys: ["p/1", "p/2", "p/3/x"],
        prefixes: [],
        truncated: false,
      });
      assertEquals(await list({ prefix: "p/", marker: "p/1", delimiter: "/" }), {
        keys: ["p/2"],
        prefixes: ["p/3/"],
        truncated: false,
      });
      for (const marker of ["p/3/x", "p0", "q", "zzz"]) {
        assertEquals(await list({ prefix: "p/", marker }), {
          keys: [],
          prefixes: [],
          truncated: false,
        }, marker);
        assertEquals(
          await list({ "list-type": "2", prefix: "p/", "start-after": marker }),
          { keys: [], prefixes: [], truncated: false },
          marker,
        );
      }
      assertEquals(await list({ "list-type": "2", prefix: "p/", "max-keys": "2" }), {
        keys: ["p/1", "p/2"],
        prefixes: [],
        truncated: true,
      });
      // ListObjectVersions walks the same ranges.
      assertEquals(await list({ versions: "", prefix: "p/" }), {
        keys: ["p/1", "p/2", "p/3/x"],
        prefixes: [],
        truncated: false,
      });
      assertEquals(
        await list({ versions: "", prefix: "p/", "key-marker": "p/1", delimiter: "/" }),
        {
          keys: ["p/2"],
          prefixes: ["p/3/"],
          truncated: false,
        },
      );
      for (const marker of ["p/3/x", "p0", "zzz"]) {
        assertEquals(await list({ versions: "", prefix: "p/", "key-marker": marker }), {
          keys: [],
          prefixes: [],
          truncated: false,
        }, marker);
      }
    });

    await t.step("a continuation token no listing issued is InvalidArgument", async () => {
      // Decodes to a 3000-byte key: longer than any key, so no page ever ended there.
      const token = Buffer.from("a".repeat(3000)).toString("base64url");
      const res = await signedFetch(srv, {
        method: "GET",
        path: `/${B}`,
        query: { "list-type": "2", "continuation-token": token },
      });
      assertEquals([res.status, await errorCode(res)], [400, "InvalidArgument"]);
    });
  } finally {
    s3.destroy();
    await srv.stop();
  }
});
