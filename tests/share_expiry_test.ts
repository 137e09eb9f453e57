/**
 * Share links and presigned URLs from the console API expire on the server's clock: the server
 * runs in-process on an injected clock the test moves past the expiry (no wait on the real one).
 * Requests to S3 are signed with the real clock, so every step stays within SigV4's 15 minutes.
 */
import { CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { assert, assertEquals } from "./_helpers/assert.ts";
import { startApp } from "./_helpers/app.ts";
import { inProcessApi } from "./_helpers/console_api.ts";
import { createAccessKey } from "../server/iam/access_keys.ts";
import { getUserByName } from "../server/iam/users.ts";
import { queryAudit } from "../server/iam/audit.ts";

const MINUTE = 60_000;

Deno.test("share links and presigned URLs expire on the server's clock", async () => {
  let skew = 0;
  /** Set: the clock stands still (the rate limit's token buckets do not refill). */
  let frozen: number | null = null;
  const clock = { now: () => frozen ?? Date.now() + skew };
  const a = await startApp({ clock });
  try {
    const app = a.app;
    await app.iam.bootstrap({ user: "admin", password: "Admin-password-1" });
    const { call, login } = inProcessApi(app, a.endpoint);
    const token = await login("admin", "Admin-password-1");

    await a.s3.send(new CreateBucketCommand({ Bucket: "expiring" }));
    await a.s3.send(new PutObjectCommand({ Bucket: "expiring", Key: "a.txt", Body: "hello" }));

    const share = await call("POST", "/buckets/expiring/shares", token, {
      key: "a.txt",
      expiresInSeconds: 600,
    });
    assertEquals(share.status, 201, JSON.stringify(share.body));
    const shareUrl = share.body.url as string;
    assert(shareUrl.startsWith(`${a.endpoint}/_share/`), shareUrl);

    const admin = getUserByName(app.iam.core, "admin")!;
    const key = await createAccessKey(app.iam.core, admin.id as string);
    const presigned = await call("POST", "/buckets/expiring/presign", token, {
      key: "a.txt",
      method: "GET",
      expiresInSeconds: 300,
      accessKeyId: key.accessKeyId,
    });
    assertEquals(presigned.status, 200, JSON.stringify(presigned.body));
    const presignedUrl = presigned.body.url as string;

    const get = async (url: string) => {
      const res = await fetch(url);
      const text = await res.text();
      return { status: res.status, text, code: /<Code>([^<]*)<\/Code>/.exec(text)?.[1] };
    };
    assertEquals((await get(shareUrl)).text, "hello");
    assertEquals((await get(presignedUrl)).text, "hello");

    skew = 4 * MINUTE;
    assertEquals((await get(shareUrl)).status, 200);
    assertEquals((await get(presignedUrl)).status, 200);

    skew = 5 * MINUTE + 1000;
    assertEquals((await get(shareUrl)).status, 200);
    const late = await get(presignedUrl);
    assertEquals([late.status, late.code], [403, "AccessDenied"]);

    skew = 10 * MINUTE + 1000;
    const expired = await get(shareUrl);
    assertEquals([expired.status, expired.code], [403, "AccessDenied"]);
    const listed = await call("GET", "/buckets/expiring/shares?all=1", token);
    assertEquals(listed.body.items[0].status, "expired");
    assertEquals(listed.body.items[0].accessCount, 3);
    assertEquals((await call("GET", "/buckets/expiring/shares", token)).body.items, []);

    // Refusals count against the address's S3 rate limit before they are audited.
    frozen = clock.now();
    await app.iam.settings.update({
      security: { s3RequestsPerSecondPerAddress: 2, s3BurstPerAddress: 0 },
    });
    const before = queryAudit(app.iam.core, { action: "share.access", limit: 1000 }).items.length;
    const unknown = `${a.endpoint}/_share/${"B".repeat(43)}`;
    assertEquals((await get(unknown)).status, 403);
    assertEquals((await get(shareUrl)).status, 403);
    const slow = await get(unknown);
    assertEquals([slow.status, slow.code], [503, "SlowDown"]);
    const after = queryAudit(app.iam.core, { action: "share.access", limit: 1000 }).items;
    assertEquals(after.length - before, 2);
    assertEquals(after[0].detail, `share ${share.body.share.id}: expired`);
    assertEquals(after[1].detail, "unknown link");
  } finally {
    await a.stop();
  }
});
