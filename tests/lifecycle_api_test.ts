import { assert, assertEquals, assertS3Error } from "./_helpers/assert.ts";
import {
  CreateBucketCommand,
  DeleteBucketLifecycleCommand,
  GetBucketLifecycleConfigurationCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketLifecycleConfigurationCommand,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { createHash } from "node:crypto";
import { startServer } from "./_helpers/server.ts";
import { errorCode, signedFetch } from "./_helpers/signed_fetch.ts";

const md5 = (s: string) => createHash("md5").update(s).digest("base64");

Deno.test("lifecycle configuration through the AWS SDK", async (t) => {
  const srv = await startServer();
  const s3 = srv.client();
  const B = "lcfg";
  try {
    await s3.send(new CreateBucketCommand({ Bucket: B }));

    await t.step("no configuration is NoSuchLifecycleConfiguration", async () => {
      await assertS3Error(
        () => s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: B })),
        "NoSuchLifecycleConfiguration",
        404,
      );
    });

    await t.step("a configuration round-trips with every filter shape and action", async () => {
      await s3.send(
        new PutBucketLifecycleConfigurationCommand({
          Bucket: B,
          LifecycleConfiguration: {
            Rules: [
              {
                ID: "logs",
                Status: "Enabled",
                Filter: { Prefix: "logs/" },
                Expiration: { Days: 7 },
              },
              {
                ID: "tagged",
                Status: "Disabled",
                Filter: { Tag: { Key: "tmp", Value: "1" } },
                Expiration: { Date: new Date("2030-01-01T00:00:00Z") },
              },
              {
                ID: "and",
                Status: "Enabled",
                Filter: {
                  And: {
                    Prefix: "big/",
                    Tags: [{ Key: "a", Value: "b" }],
                    ObjectSizeGreaterThan: 10,
                    ObjectSizeLessThan: 1000,
                  },
                },
                NoncurrentVersionExpiration: { NoncurrentDays: 3, NewerNoncurrentVersions: 2 },
              },
              {
                ID: "markers",
                Status: "Enabled",
                Filter: {},
                Expiration: { ExpiredObjectDeleteMarker: true },
                AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 },
              },
            ],
          },
        }),
      );
      const g = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: B }));
      const rules = g.Rules!;
      assertEquals(rules.map((r) => [r.ID, r.Status]), [
        ["logs", "Enabled"],
        ["tagged", "Disabled"],
        ["and", "Enabled"],
        ["markers", "Enabled"],
      ]);
      assertEquals(rules[0].Filter?.Prefix, "logs/");
      assertEquals(rules[0].Expiration?.Days, 7);
      assertEquals(rules[1].Filter?.Tag, { Key: "tmp", Value: "1" });
      assertEquals(rules[1].Expiration?.Date?.toISOString(), "2030-01-01T00:00:00.000Z");
      assertEquals(rules[2].Filter?.And?.ObjectSizeGreaterThan, 10);
      assertEquals(rules[2].Filter?.And?.Tags, [{ Key: "a", Value: "b" }]);
      assertEquals(rules[2].NoncurrentVersionExpiration, {
        NoncurrentDays: 3,
        NewerNoncurrentVersions: 2,
      });
      assertEquals(rules[3].Expiration?.ExpiredObjectDeleteMarker, true);
      assertEquals(rules[3].AbortIncompleteMultipartUpload?.DaysAfterInitiation, 2);
    });

    await t.step("x-amz-expiration on PUT, GET and HEAD of matching objects", async () => {
      const p = await s3.send(new PutObjectCommand({ Bucket: B, Key: "logs/a", Body: "x" }));
      assert(p.Expiration?.includes('rule-id="logs"'));
      const h = await s3.send(new HeadObjectCommand({ Bucket: B, Key: "logs/a" }));
      const m = /expiry-date="([^"]+)"/.exec(h.Expiration ?? "");
      assert(m, h.Expiration);
      const at = Date.parse(m[1]);
      // Seven days after creation, rounded up to the next midnight UTC.
      assertEquals(at % 86_400_000, 0);
      assert(at > Date.now() + 7 * 86_400_000 - 60_000 && at <= Date.now() + 8 * 86_400_000);
      const g = await s3.send(new GetObjectCommand({ Bucket: B, Key: "logs/a" }));
      await g.Body?.transformToByteArray();
      assertEquals(g.Expiration, h.Expiration);
      const other = await s3.send(new PutObjectCommand({ Bucket: B, Key: "other", Body: "x" }));
      assertEquals(other.Expiration, undefined);
    });

    await t.step("validation errors as AWS answers them", async () => {
      const rule = (body: string) =>
        `<LifecycleConfiguration><Rule>${body}</Rule></LifecycleConfiguration>`;
      const cases: [string, number, string][] = [
        [rule("<ID>a</ID><Filter/><Expiration><Days>1</Days></Expiration>"), 400, "MalformedXML"],
        [
          rule("<ID>a</ID><Filter/><Status>Maybe</Status><Expiration><Days>1</Days></Expiration>"),
          400,
          "MalformedXML",
        ],
        [
          rule(
            "<ID>a</ID><Filter/><Status>Enabled</Status><Expiration><Days>0</Days></Expiration>",
          ),
          400,
          "InvalidArgument",
        ],
        [
          rule(
            "<ID>a</ID><Filter/><Status>Enabled</Status><Expiration><Days>1</Days><Date>2030-01-01T00:00:00Z</Date></Expiration>",
          ),
          400,
          "MalformedXML",
        ],
        [
          rule(
            "<ID>a</ID><Filter/><Status>Enabled</Status><Expiration><Date>2030-01-01T10:00:00Z</Date></Expiration>",
          ),
          400,
          "InvalidArgument",
        ],
        [rule("<ID>a</ID><Filter/><Status>Enabled</Status>"), 400, "InvalidRequest"],
        [
          rule(
            "<ID>a</ID><Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>",
          ),
          400,
          "InvalidRequest",
        ],
        [
          rule(
            "<ID>a</ID><Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload>",
          ),
          400,
          "InvalidRequest",
        ],
        [
          rule(
            "<ID>a</ID><Filter><Prefix>a</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration>",
          ),
          400,
          "MalformedXML",
        ],
        [
          rule(
            "<ID>a</ID><Filter/><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays><NewerNoncurrentVersions>101</NewerNoncurrentVersions></NoncurrentVersionExpiration>",
          ),
          400,
          "InvalidArgument",
        ],
        [
          "<LifecycleConfiguration><Rule><ID>a</ID><Filter/><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule><Rule><ID>a</ID><Filter/><Status>Enabled</Status><Expiration><Days>2</Days></Expiration></Rule></LifecycleConfiguration>",
          400,
          "InvalidArgument",
        ],
        [
          rule(
            "<ID>a</ID><Filter><And><ObjectSizeGreaterThan>100</ObjectSizeGreaterThan><ObjectSizeLessThan>10</ObjectSizeLessThan></And></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration>",
          ),
          400,
          "InvalidArgument",
        ],
      ];
      for (const [body, status, code] of cases) {
        const res = await signedFetch(srv, {
          method: "PUT",
          path: `/${B}`,
          query: { lifecycle: "" },
          headers: { "content-md5": md5(body) },
          body,
        });
        assertEquals([res.status, await errorCode(res)], [status, code], body);
      }
      const ok = rule(
        "<ID>a</ID><Filter/><Status>Enabled</Status><Expiration><Days>1</Days></Expiration>",
      );
      const noMd5 = await signedFetch(srv, {
        method: "PUT",
        path: `/${B}`,
        query: { lifecycle: "" },
        body: ok,
      });
      assertEquals([noMd5.status, await errorCode(noMd5)], [400, "InvalidRequest"]);
      // The stored configuration is untouched by the rejected requests.
      const g = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: B }));
      assertEquals(g.Rules?.length, 4);
    });

    await t.step("delete removes the configuration", async () => {
      await s3.send(new DeleteBucketLifecycleCommand({ Bucket: B }));
      await assertS3Error(
        () => s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: B })),
        "NoSuchLifecycleConfiguration",
        404,
      );
      const h = await s3.send(new HeadObjectCommand({ Bucket: B, Key: "logs/a" }));
      assertEquals(h.Expiration, undefined);
    });
  } finally {
    s3.destroy();
    await srv.stop();
  }
});
