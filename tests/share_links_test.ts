/**
 * Share links, presigned URLs and object search end to end: the real server, its console API and
 * plain fetch as the anonymous visitor. A link serves what a GET by its creator serves (headers,
 * Range, conditionals, a chosen version), stops when the creator loses read access or the link is
 * revoked (403 AccessDenied), and every use lands in the audit log.
 */
import {
  CreateBucketCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { assert, assertEquals } from "./_helpers/assert.ts";
import { type AuditEntry, makeTenant, startIamServer } from "./iam_fixture.ts";

const B = "shared-docs";

Deno.test("share links: served anonymously as the creator reads, revoked, audited", async () => {
  const s = await startIamServer();
  const t = await makeTenant(s, "sharing");
  const adminS3 = s.s3(t.admin.key, t.admin.secret);
  try {
    await adminS3.send(new CreateBucketCommand({ Bucket: B }));
    await adminS3.send(
      new PutBucketVersioningCommand({
        Bucket: B,
        VersioningConfiguration: { Status: "Enabled" },
      }),
    );
    const first = await adminS3.send(
      new PutObjectCommand({ Bucket: B, Key: "dir/report 1.pdf", Body: "version one" }),
    );
    await adminS3.send(
      new PutObjectCommand({
        Bucket: B,
        Key: "dir/report 1.pdf",
        Body: "0123456789 version two",
        ContentType: "application/pdf",
        ContentDisposition: 'attachment; filename="report.pdf"',
      }),
    );
    const asUser = { token: t.user.token };
    const asAdmin = { token: t.admin.token };

    // The tenant user cannot read the bucket yet: no link.
    const refused = await s.api(`/buckets/${B}/shares`, {
      ...asUser,
      body: { key: "dir/report 1.pdf", expiresInSeconds: 3600 },
    });
    assertEquals(refused.status, 403);
    const grant = await s.api(`/buckets/${B}/permissions`, {
      ...asAdmin,
      body: { subjectType: "user", subjectId: t.user.id, access: "read" },
    });
    assertEquals(grant.status, 201, JSON.stringify(grant.body));

    for (const expiresInSeconds of [10, 91 * 24 * 3600, "1h"]) {
      const bad = await s.api(`/buckets/${B}/shares`, {
        ...asUser,
        body: { key: "dir/report 1.pdf", expiresInSeconds },
      });
      assertEquals(bad.status, 400, String(expiresInSeconds));
    }
    const created = await s.api(`/buckets/${B}/shares`, {
      ...asUser,
      body: { key: "dir/report 1.pdf", expiresInSeconds: 3600 },
    });
    assertEquals(created.status, 201, JSON.stringify(created.body));
    const url = created.body.url as string;
    const id = created.body.share.id as string;
    assert(url.startsWith(`${s.srv.endpoint}/_share/`), url);
    assert(!JSON.stringify(created.body.share).includes(url.split("/").pop()!));

    const res = await fetch(url);
    assertEquals(res.status, 200);
    assertEquals(await res.text(), "0123456789 version two");
    assertEquals(res.headers.get("content-type"), "application/pdf");
    assertEquals(res.headers.get("content-disposition"), 'attachment; filename="report.pdf"');
    const etag = res.headers.get("etag")!;

    const ranged = await fetch(url, { headers: { range: "bytes=2-5" } });
    assertEquals(ranged.status, 206);
    assertEquals(ranged.headers.get("content-range"), "bytes 2-5/22");
    assertEquals(await ranged.text(), "2345");
    const notModified = await fetch(url, { headers: { "if-none-match": etag } });
    assertEquals(notModified.status, 304);
    await notModified.body?.cancel();
    const failed = await fetch(url, { headers: { "if-match": '"nope"' } });
    assertEquals(failed.status, 412);
    await failed.body?.cancel();
    const head = await fetch(url, { method: "HEAD" });
    assertEquals([head.status, head.headers.get("content-length")], [200, "22"]);
    const put = await fetch(url, { method: "PUT", body: "overwrite" });
    assertEquals(put.status, 405);
    assert((await put.text()).includes("<Code>MethodNotAllowed</Code>"));

    // A link to the first version keeps serving it.
    const pinned = await s.api(`/buckets/${B}/shares`, {
      ...asUser,
      body: { key: "dir/report 1.pdf", versionId: first.VersionId, expiresInSeconds: 600 },
    });
    assertEquals(pinned.status, 201);
    assertEquals(await (await fetch(pinned.body.url)).text(), "version one");

    // Lists: the user sees their links, the tenant admin the tenant's, another tenant nothing.
    const mine = await s.api(`/buckets/${B}/shares`, asUser);
    assertEquals(mine.body.items.length, 2);
    assertEquals((await s.api("/shares", asAdmin)).body.items.length, 2);
    const other = await makeTenant(s, "elsewhere");
    assertEquals((await s.api("/shares", { token: other.admin.token })).body.items, []);
    assertEquals(
      (await s.api(`/shares/${id}`, { token: other.admin.token, method: "DELETE" })).status,
      404,
    );

    // The creator loses read access: the link stops; access back, the link works again.
    const denied = async () => {
      const r = await fetch(url);
      const text = await r.text();
      assertEquals(r.status, 403);
      assert(text.includes("<Code>AccessDenied</Code>"), text);
    };
    assertEquals(
      (await s.api(`/buckets/${B}/permissions/${grant.body.id}`, { ...asAdmin, method: "DELETE" }))
        .status,
      204,
    );
    await denied();
    const regrant = await s.api(`/buckets/${B}/permissions`, {
      ...asAdmin,
      body: { subjectType: "user", subjectId: t.user.id, access: "read" },
    });
    assertEquals(regrant.status, 201);
    assertEquals((await fetch(url)).status, 200);

    // Revoked (by the tenant admin): 403 for good.
    assertEquals((await s.api(`/shares/${id}`, { ...asAdmin, method: "DELETE" })).status, 204);
    await denied();
    assertEquals((await s.api(`/buckets/${B}/shares`, asUser)).body.items.length, 1);
    const all = await s.api(`/buckets/${B}/shares?all=1`, asUser);
    assertEquals(all.body.items.find((l: { id: string }) => l.id === id).status, "revoked");
    const unknown = await fetch(`${s.srv.endpoint}/_share/${"A".repeat(43)}`);
    assertEquals(unknown.status, 403);
    await unknown.body?.cancel();

    const audit = await s.api("/audit?action=share&limit=200", { token: s.adminToken });
    const entries = audit.body.items as AuditEntry[];
    const accesses = entries.filter((e) => e.action === "share.access");
    assert(accesses.filter((e) => e.result === "success").length >= 6);
    assertEquals(accesses.filter((e) => e.result === "denied").length, 3);
    assert(accesses.every((e) => e.ip === "127.0.0.1"));
    const creates = entries.filter((e) => e.action === "share.create");
    assertEquals(creates.filter((e) => e.result === "success").length, 2);
    // The refused ones too: no read access (denied), bad expiries (failure).
    assertEquals(creates.length, 6);
    const revokes = entries.filter((e) => e.action === "share.revoke");
    // The other tenant's admin tried too (not found to them).
    assertEquals(revokes.map((e) => e.result).sort(), ["failure", "success"]);
  } finally {
    adminS3.destroy();
    await s.stop();
  }
});

Deno.test("presigned URLs: signed with the user's own key, refused when tampered", async () => {
  const s = await startIamServer();
  const t = await makeTenant(s, "presign");
  const adminS3 = s.s3(t.admin.key, t.admin.secret);
  try {
    await adminS3.send(new CreateBucketCommand({ Bucket: B }));
    await adminS3.send(new PutObjectCommand({ Bucket: B, Key: "a b/ü.txt", Body: "signed" }));
    const presign = (body: Record<string, unknown>, token = t.admin.token) =>
      s.api(`/buckets/${B}/presign`, { token, body });
    const base = {
      key: "a b/ü.txt",
      method: "GET",
      expiresInSeconds: 600,
      accessKeyId: t.admin.key,
    };

    const got = await presign(base);
    assertEquals(got.status, 200, JSON.stringify(got.body));
    assert(!JSON.stringify(got.body).includes(t.admin.secret));
    const ok = await fetch(got.body.url);
    assertEquals([ok.status, await ok.text()], [200, "signed"]);

    const sig = new URL(got.body.url).searchParams.get("X-Amz-Signature")!;
    const flipped = sig.slice(0, -1) + (sig.endsWith("0") ? "1" : "0");
    const tampered = await fetch(got.body.url.replace(sig, flipped));
    assertEquals(tampered.status, 403);
    assert((await tampered.text()).includes("<Code>SignatureDoesNotMatch</Code>"));
    const otherKey = await fetch(got.body.url.replace("%C3%BC.txt", "x.txt"));
    assertEquals(otherKey.status, 403);
    await otherKey.body?.cancel();

    const upload = await presign({ ...base, key: "up.txt", method: "PUT" });
    assertEquals(upload.status, 200);
    const putRes = await fetch(upload.body.url, { method: "PUT", body: "uploaded" });
    assertEquals(putRes.status, 200, await putRes.text());
    const read = await presign({ ...base, key: "up.txt" });
    assertEquals(await (await fetch(read.body.url)).text(), "uploaded");

    // Another user's key, more than 7 days, another method: refused.
    assertEquals((await presign(base, t.user.token)).status, 404);
    assertEquals((await presign({ ...base, expiresInSeconds: 7 * 24 * 3600 + 1 })).status, 400);
    assertEquals((await presign({ ...base, method: "DELETE" })).status, 400);
  } finally {
    adminS3.destroy();
    await s.stop();
  }
});

Deno.test("object search: filters and continuation through the console API", async () => {
  const s = await startIamServer();
  const t = await makeTenant(s, "search");
  const adminS3 = s.s3(t.admin.key, t.admin.secret);
  try {
    await adminS3.send(new CreateBucketCommand({ Bucket: B }));
    for (let i = 0; i < 12; i++) {
      await adminS3.send(
        new PutObjectCommand({
          Bucket: B,
          Key: `p/${String(i).padStart(2, "0")}`,
          Body: "x".repeat(i),
          ContentType: i % 2 ? "image/png" : "text/plain",
          Tagging: i % 4 === 0 ? "kind=report&year=2026" : "kind=other",
        }),
      );
    }
    const search = (q: string, token = t.admin.token) =>
      s.api(`/buckets/${B}/search?${q}`, { token });
    const images = await search("prefix=p/&contentType=image/&minSize=3&maxSize=9");
    assertEquals(images.status, 200, JSON.stringify(images.body));
    assertEquals(images.body.items.map((h: { key: string }) => h.key), [
      "p/03",
      "p/05",
      "p/07",
      "p/09",
    ]);
    assertEquals(images.body.continuationToken, null);
    const tagged = await search("tag=kind%3Dreport&tag=year%3D2026");
    assertEquals(tagged.body.items.map((h: { key: string }) => h.key), ["p/00", "p/04", "p/08"]);
    assertEquals(tagged.body.items[0].tags, { kind: "report", year: "2026" });

    const keys: string[] = [];
    let token: string | null = null;
    do {
      const page: { body: { items: { key: string }[]; continuationToken: string | null } } =
        await search(`limit=5${token ? `&continuationToken=${encodeURIComponent(token)}` : ""}`);
      keys.push(...page.body.items.map((h) => h.key));
      token = page.body.continuationToken;
    } while (token);
    assertEquals(keys.length, 12);

    const future = await search(`modifiedAfter=${encodeURIComponent("2999-01-01T00:00:00Z")}`);
    assertEquals(future.body.items, []);
    assertEquals((await search("minSize=-1")).status, 400);
    assertEquals((await search("continuationToken=%25%25")).status, 400);
    // The tenant user has no access to the bucket: no search either.
    assertEquals((await search("", t.user.token)).status, 403);
  } finally {
    adminS3.destroy();
    await s.stop();
  }
});

Deno.test("object search: a content-type filter needs s3:GetObject, a tag filter s3:GetObjectTagging", async () => {
  const s = await startIamServer();
  const t = await makeTenant(s, "finder");
  const adminS3 = s.s3(t.admin.key, t.admin.secret);
  try {
    await adminS3.send(new CreateBucketCommand({ Bucket: B }));
    for (
      const [Key, ContentType, Tagging] of [
        ["a.png", "image/png", "kind=report"],
        ["b.txt", "text/plain", "kind=other"],
      ]
    ) {
      await adminS3.send(new PutObjectCommand({ Bucket: B, Key, Body: Key, ContentType, Tagging }));
    }
    const user = `arn:aws:iam::finder:user/${t.user.username}`;
    const allowUser = (Action: string, Resource: string, Effect = "Allow") => ({
      Effect,
      Principal: { AWS: user },
      Action,
      Resource,
    });
    const policy = async (...Statement: unknown[]) =>
      await adminS3.send(
        new PutBucketPolicyCommand({
          Bucket: B,
          Policy: JSON.stringify({ Version: "2012-10-17", Statement }),
        }),
      );
    const search = (q: string, token = t.user.token) =>
      s.api(`/buckets/${B}/search?${q}`, { token });
    const keys = (r: { body: { items: { key: string }[] } }) => r.body.items.map((h) => h.key);

    // The user may list and read the objects, but a Deny keeps their tags from them.
    await policy(
      allowUser("s3:ListBucket", `arn:aws:s3:::${B}`),
      allowUser("s3:GetObject", `arn:aws:s3:::${B}/*`),
      allowUser("s3:GetObjectTagging", `arn:aws:s3:::${B}/*`, "Deny"),
    );
    const listed = await search("prefix=");
    assertEquals([listed.status, keys(listed)], [200, ["a.png", "b.txt"]]);
    const typed = await search("contentType=image/");
    assertEquals([typed.status, keys(typed)], [200, ["a.png"]], JSON.stringify(typed.body));
    assertEquals(typed.body.items[0].contentType, "image/png");
    // Only what the filter asked about is returned: no tags with a content-type filter.
    assertEquals(typed.body.items[0].tags, undefined);
    const tagged = await search("tag=kind%3Dreport");
    assertEquals([tagged.status, tagged.body.error?.s3Code], [403, "AccessDenied"]);
    // The bucket's admin may read tags: the same search answers.
    const asAdmin = await search("tag=kind%3Dreport", t.admin.token);
    assertEquals([asAdmin.status, keys(asAdmin)], [200, ["a.png"]]);
    assertEquals(asAdmin.body.items[0].tags, { kind: "report" });

    // Now the other way: tags readable, object reads not.
    await policy(
      allowUser("s3:ListBucket", `arn:aws:s3:::${B}`),
      allowUser("s3:GetObjectTagging", `arn:aws:s3:::${B}/*`),
    );
    const byTag = await search("tag=kind%3Dreport");
    assertEquals([byTag.status, keys(byTag)], [200, ["a.png"]], JSON.stringify(byTag.body));
    assertEquals(byTag.body.items[0].contentType, undefined);
    const byType = await search("contentType=image/");
    assertEquals([byType.status, byType.body.error?.s3Code], [403, "AccessDenied"]);
    // A filter that matches no listing entry reads no record: nothing to refuse.
    const none = await search("contentType=image/&minSize=1000");
    assertEquals([none.status, keys(none)], [200, []]);
  } finally {
    adminS3.destroy();
    await s.stop();
  }
});
