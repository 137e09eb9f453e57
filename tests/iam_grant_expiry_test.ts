/**
 * A bucket grant with an expiry gives access until then and none after, end to end through S3:
 * the server runs in-process on an injected clock that the test moves past the expiry (no wait
 * on the real one).
 */
import {
  CreateBucketCommand,
  GetObjectCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { assertS3Error } from "./_helpers/assert.ts";
import { startApp } from "./_helpers/app.ts";
import { createTenant } from "../server/iam/tenants.ts";
import { createUser } from "../server/iam/users.ts";
import { createAccessKey } from "../server/iam/access_keys.ts";
import { createGrant } from "../server/iam/grants.ts";

const MINUTE = 60_000;
const B = "granted";

Deno.test("a bucket grant stops at its expiry (injected clock)", async () => {
  // The server's clock runs `skew` ahead of the real one. Requests are signed with the real
  // clock, so every step stays under SigV4's 15-minute skew limit.
  let skew = 0;
  const clock = { now: () => Date.now() + skew };
  const a = await startApp({ clock });
  const clients: S3Client[] = [];
  try {
    const core = a.app.iam.core;
    const tenant = createTenant(core, { name: "grant-expiry" });
    const keyOf = async (username: string, role: string) => {
      const user = await createUser(core, {
        username,
        password: "Grant-expiry-1",
        role,
        tenantId: tenant.id,
      });
      const key = await createAccessKey(core, user.id);
      const s3 = a.client(key.accessKeyId, key.secretAccessKey);
      clients.push(s3);
      return { user, s3 };
    };
    const owner = await keyOf("owner", "tenant_admin");
    const reader = await keyOf("reader", "tenant_user");
    await owner.s3.send(new CreateBucketCommand({ Bucket: B }));
    await owner.s3.send(new PutObjectCommand({ Bucket: B, Key: "doc.txt", Body: "doc" }));
    const read = () => reader.s3.send(new GetObjectCommand({ Bucket: B, Key: "doc.txt" }));
    await assertS3Error(read, "AccessDenied", 403);

    const bucket = await a.app.storage.backend.getBucket(tenant.id, B);
    createGrant(core, {
      ns: tenant.id,
      bucket: B,
      bucketId: bucket.id,
      subjectType: "user",
      subjectId: reader.user.id,
      access: "read",
      expiresAt: clock.now() + 10 * MINUTE,
      createdBy: owner.user.id,
    });
    await (await read()).Body!.transformToString();
    skew = 9 * MINUTE;
    await (await read()).Body!.transformToString();
    skew = 11 * MINUTE;
    await assertS3Error(read, "AccessDenied", 403);
  } finally {
    for (const c of clients) c.destroy();
    await a.stop();
  }
});
