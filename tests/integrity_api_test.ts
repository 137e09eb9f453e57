/**
 * Integrity end to end: bytes corrupted on the disk (a blob file) and in KV (an inline object's
 * row) of a stopped server are reported after a restart by the background scrubber
 * (`--scrub-rate`, `GET /api/v1/integrity`), by `POST /api/v1/buckets/{bucket}/verify-integrity`
 * and by the admin CLI (`scrub status`, `verify`); a clean bucket reports nothing; each finding
 * is an audit event; callers without access to the bucket get nothing.
 */
import { CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { assert, assertEquals } from "./_helpers/assert.ts";
import { cli } from "./_helpers/admin_cli.ts";
import { TEST_ACCESS_KEY, TEST_SECRET_KEY } from "./_helpers/server.ts";
import { type AuditEntry, makeTenant, startIamServer } from "./iam_fixture.ts";

type Corrupt = { tenantId: string | null; bucket: string; key: string; versionId: string };

const keysOf = (list: Corrupt[]) => list.map((c) => `${c.bucket}/${c.key}@${c.versionId}`).sort();

/** Flips one bit of the stored bytes of `key` (a file, or an inline KV row) of a stopped server. */
async function corrupt(dataDir: string, bucket: string, key: string, at: number) {
  const kv = await Deno.openKv(`${dataDir}/kv.sqlite3`);
  try {
    const b = await kv.get<{ id: string }>(["bucket", "", bucket]);
    const rec = (await kv.get<{ blob: string; inline?: true; inlineRows?: number }>([
      "obj",
      b.value!.id,
      key,
    ])).value!;
    if (!rec.inline) {
      const path = `${dataDir}/objects/${rec.blob.slice(0, 2)}/${rec.blob}`;
      const data = await Deno.readFile(path);
      data[at] ^= 0x01;
      await Deno.writeFile(path, data);
      return;
    }
    const rowKey = rec.inlineRows === undefined ? ["blobd", rec.blob] : ["blobd", rec.blob, 0];
    const row = (await kv.get<Uint8Array>(rowKey)).value!.slice();
    row[at] ^= 0x01;
    await kv.set(rowKey, row);
  } finally {
    kv.close();
  }
}

Deno.test("corruption is reported by the scrubber, the verify endpoint and the admin CLI", async (t) => {
  let s = await startIamServer();
  const dataDir = s.srv.dataDir;
  try {
    const c = s.s3(TEST_ACCESS_KEY, TEST_SECRET_KEY);
    for (const bucket of ["scrub-bad", "scrub-good"]) {
      await c.send(new CreateBucketCommand({ Bucket: bucket }));
      await c.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: "dir/big",
          Body: new Uint8Array(40_000).fill(7),
        }),
      );
      await c.send(new PutObjectCommand({ Bucket: bucket, Key: "small", Body: "x".repeat(500) }));
    }
    const acme = await makeTenant(s, "scrubacme");

    await t.step("a clean server: the endpoint finds nothing; others may not check", async () => {
      const r = await s.api("/buckets/scrub-bad/verify-integrity", {
        method: "POST",
        token: s.adminToken,
      });
      assertEquals(r.status, 200);
      assertEquals([r.body.checkedObjects, r.body.checkedBytes, r.body.corrupt], [2, 40_500, []]);
      const other = await s.api("/buckets/scrub-bad/verify-integrity", {
        method: "POST",
        token: acme.user.token,
      });
      // The name falls back to the global bucket, which this tenant's user may not list (S3's 403).
      assertEquals(other.status, 403, JSON.stringify(other.body));
      const status = await s.api("/integrity", { token: acme.user.token });
      assertEquals(status.status, 403);
    });

    await s.srv.stop({ keepData: true });
    await corrupt(dataDir, "scrub-bad", "dir/big", 30_000);
    await corrupt(dataDir, "scrub-bad", "small", 3);
    s = await startIamServer({}, { dataDir, args: ["--scrub-rate", "1000000000"] });

    await t.step("the background scrubber reports both objects after the restart", async () => {
      let last = null;
      for (let i = 0; i < 400 && !last; i++) {
        const st = await s.api("/integrity", { token: s.adminToken });
        assertEquals(st.status, 200);
        assertEquals(st.body.enabled, true);
        last = st.body.last;
        if (!last) await new Promise((r) => setTimeout(r, 50));
      }
      assert(last, "a scrub pass finished");
      assertEquals(keysOf(last.corrupt), ["scrub-bad/dir/big@null", "scrub-bad/small@null"]);
      assertEquals([last.checkedObjects, last.corruptCount], [4, 2]);
    });

    await t.step("the verify endpoint reports them too; a clean bucket reports none", async () => {
      const bad = await s.api("/buckets/scrub-bad/verify-integrity", {
        method: "POST",
        token: s.adminToken,
      });
      assertEquals(bad.status, 200);
      assertEquals(keysOf(bad.body.corrupt), ["scrub-bad/dir/big@null", "scrub-bad/small@null"]);
      for (const f of bad.body.corrupt) assert(/^MD5 /.test(f.reason), f.reason);
      const good = await s.api("/buckets/scrub-good/verify-integrity", {
        method: "POST",
        token: s.adminToken,
      });
      assertEquals([good.body.checkedObjects, good.body.corruptCount, good.body.corrupt], [
        2,
        0,
        [],
      ]);
      const missing = await s.api("/buckets/scrub-none/verify-integrity", {
        method: "POST",
        token: s.adminToken,
      });
      assertEquals(missing.status, 404);
    });

    await t.step("every finding is an audit event", async () => {
      const r = await s.api("/audit?action=integrity.corrupt&limit=50", { token: s.adminToken });
      const items = r.body.items as AuditEntry[];
      assertEquals(items.length, 4, "two from the pass, two from the check");
      assertEquals(
        [...new Set(items.map((e) => e.resource))].sort(),
        ["bucket/scrub-bad/dir/big", "bucket/scrub-bad/small"],
      );
      assert(items.every((e) => e.result === "failure" && e.actorName === "system"));
      const checks = await s.api("/audit?action=bucket.verify-integrity", { token: s.adminToken });
      const mine = (checks.body.items as AuditEntry[]).filter((e) => e.actorName === "admin");
      assert(mine.length >= 3, "each on-demand check is recorded");
    });
  } finally {
    await s.srv.stop({ keepData: true });
  }

  try {
    await t.step("the admin CLI on the stopped server's data dir", async () => {
      const st = await cli("scrub", "status", "--data-dir", dataDir);
      assertEquals(st.code, 0, st.stderr);
      const status = st.json as { last: { corruptCount: number; corrupt: Corrupt[] } };
      assertEquals(status.last.corruptCount, 2);
      const v = await cli("verify", "scrub-bad", "--data-dir", dataDir);
      assertEquals(v.code, 0, v.stderr);
      assertEquals(keysOf((v.json as { corrupt: Corrupt[] }).corrupt), [
        "scrub-bad/dir/big@null",
        "scrub-bad/small@null",
      ]);
      const g = await cli("scrub", "verify", "scrub-good", "--data-dir", dataDir);
      assertEquals((g.json as { corruptCount: number }).corruptCount, 0);
    });
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
