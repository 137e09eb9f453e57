/**
 * Browser POST uploads end to end: V4 and V2 signed policies, conditions, content-length-range,
 * success_action_status and redirects. Policies are signed here with node:crypto following the
 * AWS documentation (the SDK's presigned-post package is not available offline).
 */
import { assert, assertEquals } from "./_helpers/assert.ts";
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { createHmac } from "node:crypto";
import { bodyBytes, randomBytes, REGION, startServer, type TestServer } from "./_helpers/server.ts";
import { errorCode } from "./_helpers/signed_fetch.ts";
import { findProgram, needs } from "./_helpers/programs.ts";

const boto3 = await findProgram("boto3");

const BUCKET = "posts";

type Condition = Record<string, string> | (string | number)[];

function amzNow(d = new Date()): { amzDate: string; day: string } {
  const amzDate = d.toISOString().replace(/[-:]|\.\d{3}/g, "");
  return { amzDate, day: amzDate.slice(0, 8) };
}

function policyOf(conditions: Condition[], expiresInMs = 10 * 60 * 1000): string {
  const expiration = new Date(Date.now() + expiresInMs).toISOString();
  return btoa(JSON.stringify({ expiration, conditions }));
}

interface PostSpec {
  key: string;
  fields?: Record<string, string>;
  /** Extra conditions beyond bucket, key and the given fields. */
  conditions?: Condition[];
  /** Replace the generated conditions entirely. */
  rawConditions?: Condition[];
  expiresInMs?: number;
  file: Uint8Array | string;
  filename?: string;
  /** Fields appended after the file (ignored by S3). */
  after?: Record<string, string>;
  secret?: string;
}

function baseConditions(spec: PostSpec): Condition[] {
  return [
    { bucket: BUCKET },
    ["starts-with", "$key", spec.key.replace("${filename}", "")],
    ...Object.entries(spec.fields ?? {}).map(([k, v]) => ({ [k]: v })),
    ...(spec.conditions ?? []),
  ];
}

function finish(form: FormData, spec: PostSpec): FormData {
  const file = typeof spec.file === "string" ? new TextEncoder().encode(spec.file) : spec.file;
  form.append("file", new Blob([file as BlobPart]), spec.filename ?? "upload.bin");
  for (const [k, v] of Object.entries(spec.after ?? {})) form.append(k, v);
  return form;
}

/** A V4-signed POST form: signature = hex HMAC-SHA256(signing key, base64 policy). */
function v4Form(srv: TestServer, spec: PostSpec): FormData {
  const { amzDate, day } = amzNow();
  const credential = `${srv.accessKey}/${day}/${REGION}/s3/aws4_request`;
  const conditions = spec.rawConditions ?? [
    ...baseConditions(spec),
    { "x-amz-algorithm": "AWS4-HMAC-SHA256" },
    { "x-amz-credential": credential },
    { "x-amz-date": amzDate },
  ];
  const policy = policyOf(conditions, spec.expiresInMs);
  let k: Uint8Array = createHmac("sha256", "AWS4" + (spec.secret ?? srv.secretKey)).update(day)
    .digest();
  for (const part of [REGION, "s3", "aws4_request"]) {
    k = createHmac("sha256", k).update(part).digest();
  }
  const form = new FormData();
  form.append("key", spec.key);
  for (const [name, v] of Object.entries(spec.fields ?? {})) form.append(name, v);
  form.append("X-Amz-Algorithm", "AWS4-HMAC-SHA256");
  form.append("X-Amz-Credential", credential);
  form.append("X-Amz-Date", amzDate);
  form.append("Policy", policy);
  form.append("X-Amz-Signature", createHmac("sha256", k).update(policy).digest("hex"));
  return finish(form, spec);
}

/** A V2-signed POST form: signature = base64 HMAC-SHA1(secret, base64 policy). */
function v2Form(srv: TestServer, spec: PostSpec): FormData {
  const policy = policyOf(spec.rawConditions ?? baseConditions(spec), spec.expiresInMs);
  const form = new FormData();
  form.append("key", spec.key);
  for (const [name, v] of Object.entries(spec.fields ?? {})) form.append(name, v);
  form.append("AWSAccessKeyId", srv.accessKey);
  form.append("policy", policy);
  form.append(
    "signature",
    createHmac("sha1", spec.secret ?? srv.secretKey).update(policy).digest("base64"),
  );
  return finish(form, spec);
}

async function post(srv: TestServer, form: FormData): Promise<Response> {
  return await fetch(`${srv.endpoint}/${BUCKET}`, {
    method: "POST",
    body: form,
    redirect: "manual",
  });
}

async function expectError(res: Response, status: number, code: string): Promise<void> {
  assertEquals([res.status, await errorCode(res)], [status, code]);
}

Deno.test("browser POST uploads with signed policies", async (t) => {
  const srv = await startServer();
  const s3 = srv.client();
  const read = async (key: string) =>
    await bodyBytes((await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body);
  const text = async (key: string) => new TextDecoder().decode(await read(key));
  try {
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));

    await t.step("V4: default 204, ${filename}, content type and metadata stored", async () => {
      const res = await post(
        srv,
        v4Form(srv, {
          key: "uploads/${filename}",
          fields: { "Content-Type": "text/plain", "x-amz-meta-origin": "browser" },
          file: "hello from a form",
          filename: "note.txt",
          after: { "x-amz-meta-late": "ignored" },
        }),
      );
      assertEquals(res.status, 204, await res.text());
      assert(res.headers.get("etag"));
      const head = await s3.send(
        new HeadObjectCommand({ Bucket: BUCKET, Key: "uploads/note.txt" }),
      );
      assertEquals(head.ContentType, "text/plain");
      assertEquals(head.Metadata, { origin: "browser" });
      assertEquals(head.ETag, res.headers.get("etag"));
      assertEquals(await text("uploads/note.txt"), "hello from a form");
    });

    await t.step("V4: the tagging field is stored as object tags", async () => {
      const tagging =
        "<Tagging><TagSet><Tag><Key>team</Key><Value>web</Value></Tag><Tag><Key>x</Key>" +
        "<Value>1</Value></Tag></TagSet></Tagging>";
      const res = await post(
        srv,
        v4Form(srv, { key: "tagged", fields: { tagging }, file: "t" }),
      );
      assertEquals(res.status, 204, await res.text());
      const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "tagged" }));
      assertEquals(head.TagCount, 2);
      const bad = await post(
        srv,
        v4Form(srv, { key: "tagged2", fields: { tagging: "<Tagging><TagSet>" }, file: "t" }),
      );
      await expectError(bad, 400, "MalformedXML");
    });

    await t.step("V4: success_action_status 201 returns PostResponse XML", async () => {
      const res = await post(
        srv,
        v4Form(srv, {
          key: "xml/doc.bin",
          fields: { success_action_status: "201" },
          file: "x",
        }),
      );
      const xml = await res.text();
      assertEquals(res.status, 201, xml);
      const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "xml/doc.bin" }));
      assert(xml.includes("<PostResponse>"), xml);
      assert(xml.includes(`<Bucket>${BUCKET}</Bucket>`), xml);
      assert(xml.includes("<Key>xml/doc.bin</Key>"), xml);
      assert(xml.includes(`<ETag>${head.ETag!.replaceAll('"', "&quot;")}</ETag>`), xml);
      assert(/<Location>http:\/\/[^<]+\/posts\/xml\/doc\.bin<\/Location>/.test(xml), xml);
      const ok200 = await post(
        srv,
        v4Form(srv, { key: "xml/200", fields: { success_action_status: "200" }, file: "y" }),
      );
      assertEquals(ok200.status, 200);
      await ok200.body?.cancel();
    });

    await t.step("V4: success_action_redirect answers 303 with bucket, key and etag", async () => {
      const res = await post(
        srv,
        v4Form(srv, {
          key: "redir/a b.txt",
          fields: { success_action_redirect: "https://app.example/done?x=1" },
          file: "redirected",
        }),
      );
      await res.body?.cancel();
      assertEquals(res.status, 303);
      const to = new URL(res.headers.get("location")!);
      assertEquals(to.origin + to.pathname, "https://app.example/done");
      assertEquals(to.searchParams.get("x"), "1");
      assertEquals(to.searchParams.get("bucket"), BUCKET);
      assertEquals(to.searchParams.get("key"), "redir/a b.txt");
      const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "redir/a b.txt" }));
      assertEquals(to.searchParams.get("etag"), head.ETag);
    });

    await t.step("V4: a large file streams through intact", async () => {
      const data = randomBytes(3 * 1024 * 1024 + 17, 21);
      const res = await post(
        srv,
        v4Form(srv, {
          key: "big.bin",
          file: data,
          conditions: [["content-length-range", 0, 10 * 1024 * 1024]],
        }),
      );
      assertEquals(res.status, 204, await res.text());
      assertEquals(await read("big.bin"), data);
    });

    await t.step(
      "policy conditions: a failed condition or an extra field is AccessDenied",
      async () => {
        const bad = v4Form(srv, {
          key: "other/key",
          rawConditions: undefined,
          conditions: [],
          file: "z",
        });
        // The policy says key starts with "other/key"; send a key outside it.
        bad.set("key", "elsewhere/key");
        await expectError(await post(srv, bad), 403, "AccessDenied");
        const wrongEq = v4Form(srv, {
          key: "eq/key",
          fields: { "Content-Type": "image/png" },
          file: "z",
        });
        wrongEq.set("Content-Type", "text/html");
        await expectError(await post(srv, wrongEq), 403, "AccessDenied");
        // Changing a field breaks no signature (the policy is what is signed), the policy does.
        const extra = v4Form(srv, { key: "extra/key", file: "z" });
        const withExtra = new FormData();
        for (const [k, v] of extra) {
          if (k === "file") withExtra.append("x-amz-meta-unlisted", "1");
          withExtra.append(k, v);
        }
        await expectError(await post(srv, withExtra), 403, "AccessDenied");
        const ignored = v4Form(srv, { key: "ignored/key", file: "z" });
        const withIgnored = new FormData();
        for (const [k, v] of ignored) {
          if (k === "file") withIgnored.append("x-ignore-note", "1");
          withIgnored.append(k, v);
        }
        const ok = await post(srv, withIgnored);
        assertEquals(ok.status, 204, await ok.text());
      },
    );

    await t.step("content-length-range: too large and too small, nothing stored", async () => {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "sized", Body: "original" }));
      const range: Condition = ["content-length-range", 10, 100];
      await expectError(
        await post(srv, v4Form(srv, { key: "sized", conditions: [range], file: "x".repeat(101) })),
        400,
        "EntityTooLarge",
      );
      await expectError(
        await post(srv, v4Form(srv, { key: "sized", conditions: [range], file: "123456789" })),
        400,
        "EntityTooSmall",
      );
      assertEquals(await text("sized"), "original");
      const ok = await post(
        srv,
        v4Form(srv, { key: "sized", conditions: [range], file: "0123456789" }),
      );
      assertEquals(ok.status, 204, await ok.text());
      assertEquals(await text("sized"), "0123456789");
    });

    await t.step("an expired policy is AccessDenied", async () => {
      await expectError(
        await post(srv, v4Form(srv, { key: "late", expiresInMs: -60_000, file: "late" })),
        403,
        "AccessDenied",
      );
    });

    await t.step(
      "V4: wrong secret is SignatureDoesNotMatch, no credentials AccessDenied",
      async () => {
        await expectError(
          await post(srv, v4Form(srv, { key: "sig", file: "s", secret: "wrong-secret" })),
          403,
          "SignatureDoesNotMatch",
        );
        const anon = new FormData();
        anon.append("key", "anon");
        anon.append("file", new Blob(["a"]), "a.txt");
        await expectError(await post(srv, anon), 403, "AccessDenied");
      },
    );

    await t.step("malformed forms: missing key, missing file, broken body", async () => {
      const noKey = v4Form(srv, { key: "k", file: "f" });
      noKey.delete("key");
      await expectError(await post(srv, noKey), 400, "InvalidArgument");
      const noFile = v4Form(srv, { key: "k", file: "f" });
      noFile.delete("file");
      await expectError(await post(srv, noFile), 400, "InvalidArgument");
      const truncated = await fetch(`${srv.endpoint}/${BUCKET}`, {
        method: "POST",
        headers: { "content-type": "multipart/form-data; boundary=XyZ" },
        body:
          '--XyZ\r\nContent-Disposition: form-data; name="key"\r\n\r\nk\r\n--XyZ\r\nContent-Disp',
      });
      await expectError(truncated, 400, "MalformedPOSTRequest");
    });

    await t.step("V2: signed policy with 201, and a wrong signature", async () => {
      const res = await post(
        srv,
        v2Form(srv, {
          key: "v2/${filename}",
          fields: { success_action_status: "201", "Content-Type": "text/csv" },
          file: "a,b\n1,2\n",
          filename: "C:\\Users\\me\\table.csv",
        }),
      );
      const xml = await res.text();
      assertEquals(res.status, 201, xml);
      assert(xml.includes("<Key>v2/table.csv</Key>"), xml);
      assertEquals(await text("v2/table.csv"), "a,b\n1,2\n");
      await expectError(
        await post(srv, v2Form(srv, { key: "v2/bad", file: "b", secret: "nope" })),
        403,
        "SignatureDoesNotMatch",
      );
      await expectError(
        await post(srv, v2Form(srv, { key: "v2/old", file: "b", expiresInMs: -1000 })),
        403,
        "AccessDenied",
      );
    });

    await t.step(needs(boto3, {
      name: "boto3 generate_presigned_post (V4 and V2) forms are accepted",
      fn: async () => {
        const script = [
          "import sys, json, boto3",
          "from botocore.config import Config",
          "ep, ak, sk, bucket = sys.argv[1:5]",
          "for sv in ['s3v4', 's3']:",
          "    c = boto3.client('s3', endpoint_url=ep, aws_access_key_id=ak, aws_secret_access_key=sk,",
          "        region_name='us-east-1', config=Config(signature_version=sv, s3={'addressing_style': 'path'}))",
          "    print(json.dumps(c.generate_presigned_post(bucket, 'boto/' + sv + '/${filename}',",
          "        Fields={'success_action_status': '201', 'Content-Type': 'text/plain'},",
          "        Conditions=[{'success_action_status': '201'}, {'Content-Type': 'text/plain'},",
          "            ['content-length-range', 1, 1000]], ExpiresIn=300)))",
        ].join("\n");
        const out = await new Deno.Command(boto3.path, {
          args: ["-c", script, srv.endpoint, srv.accessKey, srv.secretKey, BUCKET],
          stdout: "piped",
          stderr: "piped",
        }).output();
        assert(out.success, new TextDecoder().decode(out.stderr));
        const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
        assertEquals(lines.length, 2);
        for (const [i, line] of lines.entries()) {
          const { url, fields } = JSON.parse(line) as {
            url: string;
            fields: Record<string, string>;
          };
          const form = new FormData();
          for (const [k, v] of Object.entries(fields)) form.append(k, v);
          form.append("file", new Blob([`boto form ${i}`]), "b.txt");
          const res = await fetch(url, { method: "POST", body: form });
          const xml = await res.text();
          assertEquals(res.status, 201, xml);
          const key = `boto/${i === 0 ? "s3v4" : "s3"}/b.txt`;
          assert(xml.includes(`<Key>${key}</Key>`), xml);
          assertEquals(await text(key), `boto form ${i}`);
        }
      },
    }));
  } finally {
    s3.destroy();
    await srv.stop();
  }
});
