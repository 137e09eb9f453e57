/**
 * Request signing end to end: SigV4 header failures, SigV4 presigned URLs from the SDK's
 * presigner, and SigV2 (header and presigned) from boto3 with signature_version "s3".
 */
import { assert, assertEquals } from "./_helpers/assert.ts";
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { createHmac } from "node:crypto";
import { bodyBytes, startServer, type TestServer } from "./_helpers/server.ts";
import { errorCode, presignUrl, signedFetch } from "./_helpers/signed_fetch.ts";
import { findProgram, needs } from "./_helpers/programs.ts";

const boto3 = await findProgram("boto3");
const s3cmdProgram = await findProgram("s3cmd");

const BUCKET = "signing";

async function expectError(res: Response, status: number, code: string): Promise<void> {
  assertEquals([res.status, await errorCode(res)], [status, code]);
}

/** A SigV2 Authorization header computed here (HMAC-SHA1 per the S3 V2 documentation). */
function v2Header(
  srv: TestServer,
  method: string,
  resource: string,
  date: string,
  secret = srv.secretKey,
): Record<string, string> {
  const sts = `${method}\n\n\n${date}\n${resource}`;
  const sig = createHmac("sha1", secret).update(sts).digest("base64");
  return { date, authorization: `AWS ${srv.accessKey}:${sig}` };
}

const BOTO_SCRIPT = `
import sys, urllib.request, urllib.error
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
ep, ak, sk, bucket = sys.argv[1:5]
def client(secret):
    return boto3.client("s3", endpoint_url=ep, aws_access_key_id=ak, aws_secret_access_key=secret,
        region_name="us-east-1",
        config=Config(signature_version="s3", s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
s3 = client(sk)
key = "v2/hello world+x~y.txt"
s3.put_object(Bucket=bucket, Key=key, Body=b"hello v2", ContentType="text/plain", Metadata={"color": "red"})
r = s3.get_object(Bucket=bucket, Key=key)
assert r["Body"].read() == b"hello v2"
assert r["Metadata"] == {"color": "red"}, r["Metadata"]
assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] == 8
assert [o["Key"] for o in s3.list_objects(Bucket=bucket, Prefix="v2/")["Contents"]] == [key]
assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="v2/")["Contents"]] == [key]
r = s3.get_object(Bucket=bucket, Key=key, ResponseContentType="application/x-v2")
assert r["ContentType"] == "application/x-v2", r["ContentType"]
url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=300)
assert "AWSAccessKeyId=" in url and "Signature=" in url, url
assert urllib.request.urlopen(url).read() == b"hello v2"
url = s3.generate_presigned_url("get_object",
    Params={"Bucket": bucket, "Key": key, "ResponseContentDisposition": "attachment"}, ExpiresIn=300)
resp = urllib.request.urlopen(url)
assert resp.headers["Content-Disposition"] == "attachment", resp.headers
put_url = s3.generate_presigned_url("put_object",
    Params={"Bucket": bucket, "Key": "v2/put", "ContentType": "text/plain"}, ExpiresIn=300)
urllib.request.urlopen(urllib.request.Request(put_url, data=b"presigned v2 put", method="PUT",
    headers={"Content-Type": "text/plain"})).read()
assert s3.get_object(Bucket=bucket, Key="v2/put")["Body"].read() == b"presigned v2 put"
try:
    urllib.request.urlopen(url.replace("Signature=", "Signature=A"))
    raise SystemExit("tampered presigned URL was accepted")
except urllib.error.HTTPError as e:
    assert e.code == 403 and b"<Code>SignatureDoesNotMatch</Code>" in e.read()
try:
    client("wrong-secret").get_object(Bucket=bucket, Key=key)
    raise SystemExit("wrong secret was accepted")
except ClientError as e:
    assert e.response["Error"]["Code"] == "SignatureDoesNotMatch", e.response
s3.delete_object(Bucket=bucket, Key=key)
print("BOTO-V2-OK")
`;

Deno.test("request signing: SigV4 failures, presigned URLs, SigV2", async (t) => {
  const srv = await startServer();
  const s3 = srv.client();
  try {
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "obj", Body: "object body" }));

    await t.step("a request signed 20 minutes ago is RequestTimeTooSkewed", async () => {
      const res = await signedFetch(srv, {
        method: "GET",
        path: `/${BUCKET}/obj`,
        date: new Date(Date.now() - 20 * 60 * 1000),
      });
      await expectError(res, 403, "RequestTimeTooSkewed");
    });

    await t.step("an unknown access key is InvalidAccessKeyId", async () => {
      const res = await signedFetch(srv, {
        method: "GET",
        path: `/${BUCKET}/obj`,
        accessKey: "AKIAUNKNOWNKEY000000",
      });
      await expectError(res, 403, "InvalidAccessKeyId");
    });

    await t.step("a wrong secret is SignatureDoesNotMatch", async () => {
      const res = await signedFetch(srv, {
        method: "GET",
        path: `/${BUCKET}/obj`,
        secretKey: "not-the-secret-key-00000000000000000000",
      });
      await expectError(res, 403, "SignatureDoesNotMatch");
    });

    await t.step("an anonymous request is AccessDenied", async () => {
      await expectError(await fetch(`${srv.endpoint}/${BUCKET}/obj`), 403, "AccessDenied");
      await expectError(await fetch(`${srv.endpoint}/${BUCKET}`), 403, "AccessDenied");
      const put = await fetch(`${srv.endpoint}/${BUCKET}/anon`, { method: "PUT", body: "x" });
      await expectError(put, 403, "AccessDenied");
    });

    await t.step(
      "SDK presigned GetObject, PutObject, HeadObject and ListObjectsV2 work",
      async () => {
        const putUrl = await getSignedUrl(
          s3,
          new PutObjectCommand({ Bucket: BUCKET, Key: "presigned/a b+c.txt" }),
          { expiresIn: 300 },
        );
        const put = await fetch(putUrl, { method: "PUT", body: "via presigned put" });
        assertEquals(put.status, 200, await put.text());
        const getUrl = await getSignedUrl(
          s3,
          new GetObjectCommand({ Bucket: BUCKET, Key: "presigned/a b+c.txt" }),
          { expiresIn: 300 },
        );
        const got = await fetch(getUrl);
        assertEquals([got.status, await got.text()], [200, "via presigned put"]);
        const headUrl = await getSignedUrl(
          s3,
          new HeadObjectCommand({ Bucket: BUCKET, Key: "presigned/a b+c.txt" }),
          { expiresIn: 300 },
        );
        const head = await fetch(headUrl, { method: "HEAD" });
        assertEquals([head.status, head.headers.get("content-length")], [200, "17"]);
        const listUrl = await getSignedUrl(
          s3,
          new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "presigned/" }),
          { expiresIn: 300 },
        );
        const list = await fetch(listUrl);
        const xml = await list.text();
        assertEquals(list.status, 200, xml);
        assert(xml.includes("<Key>presigned/a b+c.txt</Key>"), xml);
      },
    );

    await t.step("malformed SigV4 headers and queries get their AWS error codes", async () => {
      const url = `${srv.endpoint}/${BUCKET}/obj`;
      const malformed = await fetch(url, {
        headers: { authorization: "AWS4-HMAC-SHA256 Credential=garbage", "x-amz-date": "x" },
      });
      await expectError(malformed, 400, "AuthorizationHeaderMalformed");
      await expectError(
        await fetch(url, { headers: { authorization: "Bearer abc" } }),
        400,
        "InvalidArgument",
      );
      // A valid signature on a request that lost x-amz-content-sha256.
      const noHash = await signedFetch(
        srv,
        { method: "GET", path: `/${BUCKET}/obj` },
        { headers: { "x-amz-content-sha256": "" } },
      );
      await expectError(noHash, 400, "InvalidRequest");
      const presigned = await presignUrl(srv, {
        method: "GET",
        path: `/${BUCKET}/obj`,
        expiresIn: 60,
      });
      // The credential scope names another day than X-Amz-Date.
      const otherDay = presigned.replace(
        /(X-Amz-Credential=[^%]+%2F)(\d{8})/,
        (_m, a: string, d: string) => a + String(Number(d) - 1),
      );
      assert(otherDay !== presigned);
      await expectError(await fetch(otherDay), 400, "AuthorizationQueryParametersError");
      const noSig = presigned.replace(/&X-Amz-Signature=[0-9a-f]+/, "");
      assert(noSig !== presigned);
      await expectError(await fetch(noSig), 400, "AuthorizationQueryParametersError");
    });

    await t.step("an expired presigned URL is AccessDenied", async () => {
      const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: BUCKET, Key: "obj" }), {
        expiresIn: 60,
        signingDate: new Date(Date.now() - 10 * 60 * 1000),
      });
      await expectError(await fetch(url), 403, "AccessDenied");
    });

    await t.step("X-Amz-Expires over a week is AuthorizationQueryParametersError", async () => {
      const url = await presignUrl(srv, { method: "GET", path: `/${BUCKET}/obj`, expiresIn: 600 });
      const tooLong = url.replace("X-Amz-Expires=600", "X-Amz-Expires=604801");
      assert(tooLong !== url);
      await expectError(await fetch(tooLong), 400, "AuthorizationQueryParametersError");
      const week = await presignUrl(srv, {
        method: "GET",
        path: `/${BUCKET}/obj`,
        expiresIn: 604800,
      });
      assertEquals((await fetch(week)).status, 200);
    });

    await t.step("a tampered presigned URL is SignatureDoesNotMatch", async () => {
      const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: BUCKET, Key: "obj" }), {
        expiresIn: 300,
      });
      const other = url.replace(`/${BUCKET}/obj?`, `/${BUCKET}/objx?`);
      assert(other !== url);
      await expectError(await fetch(other), 403, "SignatureDoesNotMatch");
      await expectError(await fetch(url + "&extra=1"), 403, "SignatureDoesNotMatch");
    });

    await t.step("SigV2 header: valid, skewed clock, wrong secret", async () => {
      const now = new Date().toUTCString();
      const ok = await fetch(`${srv.endpoint}/${BUCKET}/obj`, {
        headers: v2Header(srv, "GET", `/${BUCKET}/obj`, now),
      });
      assertEquals([ok.status, await ok.text()], [200, "object body"]);
      const old = new Date(Date.now() - 20 * 60 * 1000).toUTCString();
      await expectError(
        await fetch(`${srv.endpoint}/${BUCKET}/obj`, {
          headers: v2Header(srv, "GET", `/${BUCKET}/obj`, old),
        }),
        403,
        "RequestTimeTooSkewed",
      );
      await expectError(
        await fetch(`${srv.endpoint}/${BUCKET}/obj`, {
          headers: v2Header(srv, "GET", `/${BUCKET}/obj`, now, "wrong"),
        }),
        403,
        "SignatureDoesNotMatch",
      );
    });

    await t.step("SigV2 presigned: valid and expired", async () => {
      const url = (expires: number) => {
        const sig = createHmac("sha1", srv.secretKey)
          .update(`GET\n\n\n${expires}\n/${BUCKET}/obj`)
          .digest("base64");
        return `${srv.endpoint}/${BUCKET}/obj?AWSAccessKeyId=${srv.accessKey}&Expires=${expires}&Signature=${
          encodeURIComponent(sig)
        }`;
      };
      const future = Math.floor(Date.now() / 1000) + 300;
      const ok = await fetch(url(future));
      assertEquals([ok.status, await ok.text()], [200, "object body"]);
      const past = Math.floor(Date.now() / 1000) - 60;
      await expectError(await fetch(url(past)), 403, "AccessDenied");
    });

    await t.step(needs(boto3, {
      name: "boto3 with SigV2 (signature_version s3): objects and presigned URLs",
      fn: async () => {
        const script = await Deno.makeTempFile({ suffix: ".py" });
        try {
          await Deno.writeTextFile(script, BOTO_SCRIPT);
          const out = await new Deno.Command(boto3.path, {
            args: [script, srv.endpoint, srv.accessKey, srv.secretKey, BUCKET],
            stdout: "piped",
            stderr: "piped",
          }).output();
          const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
          assert(out.success && text.includes("BOTO-V2-OK"), text);
        } finally {
          await Deno.remove(script);
        }
        const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "v2/put" }));
        assertEquals(new TextDecoder().decode(await bodyBytes(got.Body)), "presigned v2 put");
      },
    }));

    await t.step(needs(s3cmdProgram, {
      name: "s3cmd with signature_v2: put, ls, get, signurl, del",
      fn: async () => {
        const dir = await Deno.makeTempDir();
        try {
          const host = new URL(srv.endpoint).host;
          const cfg = `${dir}/s3cfg`;
          await Deno.writeTextFile(
            cfg,
            `[default]\naccess_key = ${srv.accessKey}\nsecret_key = ${srv.secretKey}\n` +
              `host_base = ${host}\nhost_bucket = ${host}\nuse_https = False\nsignature_v2 = True\n`,
          );
          await Deno.writeTextFile(`${dir}/in.txt`, "s3cmd v2 body");
          const s3cmd = async (...args: string[]) => {
            const out = await new Deno.Command(s3cmdProgram.path, {
              args: ["-c", cfg, ...args],
              stdout: "piped",
              stderr: "piped",
            }).output();
            const dec = new TextDecoder();
            const text = dec.decode(out.stdout) + dec.decode(out.stderr);
            assert(out.success, `s3cmd ${args.join(" ")}: ${text}`);
            return text;
          };
          const uri = `s3://${BUCKET}/cmd/a file+b.txt`;
          await s3cmd("put", `${dir}/in.txt`, uri);
          assert((await s3cmd("ls", `s3://${BUCKET}/cmd/`)).includes(uri));
          await s3cmd("get", "--force", uri, `${dir}/out.txt`);
          assertEquals(await Deno.readTextFile(`${dir}/out.txt`), "s3cmd v2 body");
          const url = (await s3cmd("signurl", uri, "+300")).trim();
          assert(url.includes("AWSAccessKeyId="), url);
          const res = await fetch(url);
          assertEquals([res.status, await res.text()], [200, "s3cmd v2 body"]);
          await s3cmd("del", uri);
        } finally {
          await Deno.remove(dir, { recursive: true });
        }
      },
    }));
  } finally {
    s3.destroy();
    await srv.stop();
  }
});
