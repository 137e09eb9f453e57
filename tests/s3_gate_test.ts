/**
 * The S3 gate with the server in-process on an injected clock: the rate limits per access key
 * and per client address answer 503 SlowDown with Retry-After and refill as the clock moves;
 * maintenance mode answers writes 503 ServiceUnavailable while reads go on.
 */
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { assert, assertEquals, assertS3Error } from "./_helpers/assert.ts";
import { startApp } from "./_helpers/app.ts";

/** A clock that moves only when told (requests are signed with the real one: it starts there). */
function manualClock() {
  const c = { t: Date.now(), now: () => c.t };
  return c;
}

Deno.test("S3 rate limits per access key and per client address", async (t) => {
  const clock = manualClock();
  const s = await startApp({ clock });
  try {
    await s.s3.send(new CreateBucketCommand({ Bucket: "rl-bucket" }));
    const head = () => s.s3.send(new HeadBucketCommand({ Bucket: "rl-bucket" }));
    const settings = s.app.iam.settings;

    await t.step("per key: the burst passes, then SlowDown until a token comes back", async () => {
      const out = await settings.update({
        security: { s3RequestsPerSecondPerKey: 1, s3BurstPerKey: 3 },
      });
      assert(!("field" in out), JSON.stringify(out));
      for (let i = 0; i < 3; i++) await head();
      // HEAD answers carry no body: the status and Retry-After say it.
      const res = await s.s3.send(new ListObjectsV2Command({ Bucket: "rl-bucket" })).then(
        () => null,
        (e) => e,
      );
      assert(res, "the fourth request is refused");
      assertEquals(res.name, "SlowDown");
      assertEquals(res.$metadata.httpStatusCode, 503);
      assertEquals(res.$response?.headers?.["retry-after"], "1");
      assertEquals(res.message, "Please reduce your request rate.");
      clock.t += 1000;
      await head();
      assertEquals(await statusOf(head()), 503);
    });

    await t.step("a rate of 0 turns the limit off at once", async () => {
      await settings.update({ security: { s3RequestsPerSecondPerKey: 0 } });
      for (let i = 0; i < 10; i++) await head();
    });

    await t.step("per address: every key and anonymous requests share the address's", async () => {
      await settings.update({
        security: { s3RequestsPerSecondPerAddress: 2, s3BurstPerAddress: 0 },
      });
      clock.t += 10_000;
      await head();
      const anon = await fetch(`${endpointOf(s)}/rl-bucket`);
      await anon.body?.cancel();
      assertEquals(anon.status, 403, "the second request (anonymous) still passes the limit");
      const refused = await fetch(`${endpointOf(s)}/rl-bucket`);
      assertEquals(refused.status, 503);
      assertEquals(refused.headers.get("retry-after"), "1");
      const xml = await refused.text();
      assert(xml.includes("<Code>SlowDown</Code>"), xml);
      assertEquals(await statusOf(head()), 503);
      clock.t += 500;
      await head();
      await settings.update({ security: { s3RequestsPerSecondPerAddress: 0 } });
    });
  } finally {
    await s.stop();
  }
});

Deno.test("maintenance mode: S3 writes answer 503 ServiceUnavailable, reads go on", async () => {
  const s = await startApp();
  try {
    await s.s3.send(new CreateBucketCommand({ Bucket: "mm-bucket" }));
    await s.s3.send(new PutObjectCommand({ Bucket: "mm-bucket", Key: "k", Body: "before" }));
    await s.app.iam.settings.update({
      system: { maintenanceMode: true, maintenanceMessage: "disk swap until 18:00" },
    });
    const e = await s.s3.send(
      new PutObjectCommand({ Bucket: "mm-bucket", Key: "k", Body: "during" }),
    )
      .then(() => null, (e) => e);
    assert(e, "PutObject is refused");
    assertEquals(e.name, "ServiceUnavailable");
    assertEquals(e.$metadata.httpStatusCode, 503);
    assert(e.message.includes("disk swap until 18:00"), e.message);
    await assertS3Error(
      () => s.s3.send(new DeleteObjectCommand({ Bucket: "mm-bucket", Key: "k" })),
      "ServiceUnavailable",
      503,
    );
    await assertS3Error(
      () => s.s3.send(new CreateBucketCommand({ Bucket: "mm-bucket-2" })),
      "ServiceUnavailable",
      503,
    );
    const got = await s.s3.send(new GetObjectCommand({ Bucket: "mm-bucket", Key: "k" }));
    assertEquals(await got.Body!.transformToString(), "before");
    const listed = await s.s3.send(new ListObjectsV2Command({ Bucket: "mm-bucket" }));
    assertEquals(listed.KeyCount, 1);
    await s.app.iam.settings.update({ system: { maintenanceMode: false } });
    await s.s3.send(new PutObjectCommand({ Bucket: "mm-bucket", Key: "k", Body: "after" }));
    const after = await s.s3.send(new GetObjectCommand({ Bucket: "mm-bucket", Key: "k" }));
    assertEquals(await after.Body!.transformToString(), "after");
  } finally {
    await s.stop();
  }
});

function endpointOf(s: Awaited<ReturnType<typeof startApp>>): string {
  return s.endpoint;
}

/** The HTTP status an SDK call ended with. */
function statusOf(p: Promise<{ $metadata: { httpStatusCode?: number } }>): Promise<number> {
  return p.then(
    (r) => r.$metadata.httpStatusCode ?? 0,
    (e) => e.$metadata?.httpStatusCode ?? 0,
  );
}
