/**
 * Veeam SOSAPI: `system.xml` and `capacity.xml` under the SOSAPI prefix of every bucket, read with
 * GetObject's permission; capacity follows the bucket's byte quota, else the tenant's (a change
 * shows at once), else the disk; an object stored under the key is served instead.
 */
import { statfsSync } from "node:fs";
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { assert, assertEquals } from "./_helpers/assert.ts";
import { makeTenant, startIamServer } from "./iam_fixture.ts";

const PREFIX = ".system-d26a9498-cb7c-4a87-a44a-8ae204f5ba6c/";
const KiB = 1024;

/** The decoded text of each leaf element under `root` of an XML document. */
function fields(xml: string, root: string): Record<string, string> {
  const body = new RegExp(`<${root}>([\\s\\S]*)</${root}>`).exec(xml);
  assert(body, `no <${root}> in ${xml}`);
  const out: Record<string, string> = {};
  for (const m of body[1].matchAll(/<(\w+)>([^<]*)<\/\1>/g)) {
    out[m[1]] = m[2].replaceAll("&quot;", '"').replaceAll("&amp;", "&");
  }
  return out;
}

Deno.test("Veeam SOSAPI virtual objects", async (t) => {
  const s = await startIamServer();
  try {
    const tn = await makeTenant(s, "veeam-t", { maxBytes: 1024 * KiB });
    const c = s.s3(tn.user.key, tn.user.secret);
    await c.send(new CreateBucketCommand({ Bucket: "backups" }));
    const read = async (name: string) => {
      const r = await c.send(new GetObjectCommand({ Bucket: "backups", Key: PREFIX + name }));
      return { text: await r.Body!.transformToString(), r };
    };

    await t.step("system.xml states the protocol and capabilities", async () => {
      const { text, r } = await read("system.xml");
      assertEquals(r.ContentType, "application/xml");
      assertEquals(r.ContentLength, new TextEncoder().encode(text).byteLength);
      const sys = fields(text, "SystemInfo");
      assertEquals(sys.ProtocolVersion, '"1.0"');
      assert(sys.ModelName.includes("MaxIOFS"));
      const caps = fields(text, "ProtocolCapabilities");
      assertEquals(caps, { CapacityInfo: "true", UploadSessions: "false", IAMSTS: "false" });
      assertEquals(fields(text, "SystemRecommendations").KbBlockSize, "4096");
    });

    await t.step("capacity.xml reports the tenant quota and what the tenant stores", async () => {
      await c.send(
        new PutObjectCommand({ Bucket: "backups", Key: "a", Body: new Uint8Array(100 * KiB) }),
      );
      const cap = fields((await read("capacity.xml")).text, "CapacityInfo");
      assertEquals(Number(cap.Capacity), 1024 * KiB);
      assertEquals(Number(cap.Used), 100 * KiB);
      assertEquals(Number(cap.Available), 924 * KiB);
    });

    await t.step("a quota change shows up at once", async () => {
      const r = await s.api(`/tenants/${tn.tenantId}`, {
        method: "PATCH",
        token: s.adminToken,
        body: { quota: { maxBytes: 2048 * KiB } },
      });
      assertEquals(r.status, 200);
      const cap = fields((await read("capacity.xml")).text, "CapacityInfo");
      assertEquals(Number(cap.Capacity), 2048 * KiB);
      assertEquals(Number(cap.Available), 1948 * KiB);
    });

    await t.step("a bucket's own quota comes before the tenant's", async () => {
      const q = await s.api("/buckets/backups/quota", {
        method: "PUT",
        token: tn.admin.token,
        body: { maxBytes: 300 * KiB },
      });
      assertEquals(q.status, 200, JSON.stringify(q.body));
      const cap = fields((await read("capacity.xml")).text, "CapacityInfo");
      assertEquals(Number(cap.Capacity), 300 * KiB);
      assertEquals(Number(cap.Used), 100 * KiB);
      assertEquals(Number(cap.Available), 200 * KiB);
      await s.api("/buckets/backups/quota", {
        method: "PUT",
        token: tn.admin.token,
        body: { maxBytes: null },
      });
    });

    await t.step("HEAD answers the same length and ETag as GET", async () => {
      const { r } = await read("system.xml");
      const h = await c.send(
        new HeadObjectCommand({ Bucket: "backups", Key: PREFIX + "system.xml" }),
      );
      assertEquals(h.ContentLength, r.ContentLength);
      assertEquals(h.ETag, r.ETag);
    });

    await t.step("a bucket without a quota reports the data dir's disk", async () => {
      const root = s.srv.client();
      await root.send(new CreateBucketCommand({ Bucket: "global-backups" }));
      const r = await root.send(
        new GetObjectCommand({ Bucket: "global-backups", Key: PREFIX + "capacity.xml" }),
      );
      const cap = fields(await r.Body!.transformToString(), "CapacityInfo");
      const st = statfsSync(s.srv.dataDir);
      assertEquals(Number(cap.Capacity), st.blocks * st.bsize);
      const used = Number(cap.Capacity) - Number(cap.Available);
      assertEquals(Number(cap.Used), used);
    });

    await t.step("read with GetObject's permission: anonymous is denied", async () => {
      const res = await fetch(`${s.srv.endpoint}/veeam-t:backups/${PREFIX}system.xml`);
      assertEquals(res.status, 403);
      assert((await res.text()).includes("<Code>AccessDenied</Code>"));
    });

    await t.step("an object stored under the key is served instead", async () => {
      const own = '<SystemInfo><ProtocolVersion>"1.0"</ProtocolVersion></SystemInfo>';
      await c.send(
        new PutObjectCommand({ Bucket: "backups", Key: PREFIX + "system.xml", Body: own }),
      );
      assertEquals((await read("system.xml")).text, own);
    });

    await t.step("other keys under the prefix are ordinary: NoSuchKey", async () => {
      const res = await c.send(new GetObjectCommand({ Bucket: "backups", Key: PREFIX + "x.xml" }))
        .then(() => "found", (e) => e.name);
      assertEquals(res, "NoSuchKey");
    });
  } finally {
    await s.stop();
  }
});
