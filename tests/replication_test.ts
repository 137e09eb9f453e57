/**
 * Bucket replication between two MaxIOFS servers on loopback (both started with
 * --allow-private-endpoints): the S3 rules document and its errors, destinations through the
 * admin CLI and the console API, 1,000 small objects and a 200 MiB multipart object copied (ETags
 * and bytes compared), status headers, delete markers, a destination that is down and a source
 * killed with its queue pending (nothing lost), two-way replication without loops, and a
 * destination over TLS.
 */
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetBucketReplicationCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketReplicationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { Agent } from "node:https";
import { Upload } from "@aws-sdk/lib-storage";
import { createHash } from "node:crypto";
import { assert, assertEquals } from "./_helpers/assert.ts";
import { bodyBytes, randomBytes, REGION, startServer } from "./_helpers/server.ts";
import { findProgram, needs } from "./_helpers/programs.ts";
import { makeCa, makeServerCert } from "./_helpers/tls.ts";
import { ADMIN_PASSWORD, ADMIN_USER, type IamServer, startIamServer } from "./iam_fixture.ts";
import { cli } from "./_helpers/admin_cli.ts";
import {
  addDestination,
  eventually,
  rules,
  status,
  versionedBucket,
} from "./_helpers/replication.ts";
import { resetPeakMemory, residentMemory } from "./_helpers/memory.ts";

const ALLOW = ["--allow-private-endpoints"];
/** How much the source's peak resident memory may grow while it copies a 200 MiB object. */
const PEAK_GROWTH_BOUND = 128 * 1024 * 1024;

async function objectBytes(s3: S3Client, bucket: string, key: string) {
  const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return await bodyBytes(r.Body);
}

const md5 = (b: Uint8Array) => createHash("md5").update(b).digest("hex");

async function streamMd5(body: ReadableStream<Uint8Array>): Promise<string> {
  const h = createHash("md5");
  for await (const chunk of body) h.update(chunk);
  return h.digest("hex");
}

/** Every key of a bucket with its ETag (ListObjectsV2 pages). */
async function etags(s3: S3Client, bucket: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) out.set(o.Key!, o.ETag!);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

Deno.test("replication: rules over S3, objects and markers copied to a second MaxIOFS", async (t) => {
  const dst = await startIamServer({}, { args: ALLOW });
  const src = await startIamServer({}, { args: ALLOW });
  const a = src.srv.client();
  const b = dst.srv.client();
  try {
    await versionedBucket(b, "dst");
    await a.send(new CreateBucketCommand({ Bucket: "src" }));

    await t.step(
      "errors: no configuration, versioning off, unknown destination, bad XML",
      async () => {
        const none = await a.send(new GetBucketReplicationCommand({ Bucket: "src" })).catch((e) =>
          e
        );
        assertEquals(none.name, "ReplicationConfigurationNotFoundError");
        assertEquals(none.$metadata.httpStatusCode, 404);
        const unversioned = await a.send(
          new PutBucketReplicationCommand({ Bucket: "src", ReplicationConfiguration: rules("dr") }),
        ).catch((e) => e);
        assertEquals(unversioned.name, "InvalidRequest");
        await a.send(
          new PutBucketVersioningCommand({
            Bucket: "src",
            VersioningConfiguration: { Status: "Enabled" },
          }),
        );
        const unknown = await a.send(
          new PutBucketReplicationCommand({ Bucket: "src", ReplicationConfiguration: rules("dr") }),
        ).catch((e) => e);
        assertEquals(unknown.name, "InvalidRequest");
        assert(/dr/.test(unknown.message), unknown.message);
      },
    );

    await t.step("a destination registered by the CLI; its secret is never returned", async () => {
      await addDestination(src, "dr", dst, "dst");
      const listed = await src.api("/replication/destinations", { token: src.adminToken });
      assertEquals(listed.status, 200);
      assertEquals(listed.body.destinations[0].name, "dr");
      assert(!JSON.stringify(listed.body).includes(dst.srv.secretKey), "secret returned");
      const refused = await src.api("/replication/destinations/bad", {
        method: "PUT",
        token: src.adminToken,
        body: { endpoint: "ftp://x", bucket: "b", accessKey: "k", secretKey: "s" },
      });
      assertEquals(refused.status, 400);
    });

    await t.step("the rules document round-trips; a malformed one leaves it in place", async () => {
      await a.send(
        new PutBucketReplicationCommand({ Bucket: "src", ReplicationConfiguration: rules("dr") }),
      );
      const got = await a.send(new GetBucketReplicationCommand({ Bucket: "src" }));
      assertEquals(got.ReplicationConfiguration?.Rules?.[0].Destination?.Bucket, "arn:aws:s3:::dr");
      assertEquals(
        got.ReplicationConfiguration?.Rules?.[0].DeleteMarkerReplication?.Status,
        "Enabled",
      );
      const bad = await a.send(
        new PutBucketReplicationCommand({
          Bucket: "src",
          ReplicationConfiguration: {
            Role: "",
            Rules: [{
              ID: "x",
              Status: "Enabled",
              Filter: { Prefix: "" },
              Destination: { Bucket: "arn:aws:s3:::dr" },
            }],
          },
        }),
      ).catch((e) => e);
      assertEquals(bad.name, "InvalidRequest"); // a Filter without DeleteMarkerReplication
      const still = await a.send(new GetBucketReplicationCommand({ Bucket: "src" }));
      assertEquals(still.ReplicationConfiguration?.Rules?.[0].ID, "all");
      const suspend = await a.send(
        new PutBucketVersioningCommand({
          Bucket: "src",
          VersioningConfiguration: { Status: "Suspended" },
        }),
      ).catch((e) => e);
      assertEquals(suspend.name, "InvalidBucketState");
    });

    await t.step(
      "small objects and a multipart object are copied with their metadata",
      async () => {
        // The rule is paused while the objects are written: the source's memory peak of the
        // copies alone is measured, from where it stood once the uploads were over.
        const pause = (action: string) =>
          src.api(`/buckets/src/replication/rules/all/${action}`, {
            method: "POST",
            token: src.adminToken,
          });
        assertEquals((await pause("pause")).status, 200);
        const small = Array.from({ length: 1000 }, (_, i) => `small/${i}`);
        for (let i = 0; i < small.length; i += 50) {
          await Promise.all(
            small.slice(i, i + 50).map((k) =>
              a.send(
                new PutObjectCommand({
                  Bucket: "src",
                  Key: k,
                  Body: `body of ${k}`,
                  ContentType: "text/plain",
                  Metadata: { n: k },
                }),
              )
            ),
          );
        }
        const big = randomBytes(200 * 1024 * 1024 + 5, 7);
        const bigMd5 = md5(big);
        await new Upload({
          client: a,
          params: { Bucket: "src", Key: "big.bin", Body: big },
          partSize: 16 * 1024 * 1024,
        }).done();
        const pid = src.srv.child.pid;
        await resetPeakMemory(pid);
        const before = await residentMemory(pid);
        assertEquals((await pause("resume")).status, 200);
        const headSrc = await a.send(new HeadObjectCommand({ Bucket: "src", Key: "small/0" }));
        assert(
          headSrc.ReplicationStatus === "PENDING" || headSrc.ReplicationStatus === "COMPLETED",
          String(headSrc.ReplicationStatus),
        );
        const srcEtags = await etags(a, "src");
        let dstEtags = new Map<string, string>();
        await eventually("every object at the destination", async () => {
          dstEtags = await etags(b, "dst");
          return dstEtags.size === small.length + 1;
        });
        // Single-part copies keep their MD5 ETag: the bytes of every small object are compared.
        for (const k of small) assertEquals(dstEtags.get(k), srcEtags.get(k), k);
        for (const k of small.slice(0, 20)) {
          assertEquals(new TextDecoder().decode(await objectBytes(b, "dst", k)), `body of ${k}`);
        }
        const h = await b.send(new HeadObjectCommand({ Bucket: "dst", Key: "small/3" }));
        assertEquals(h.ReplicationStatus, "REPLICA");
        assertEquals(h.ContentType, "text/plain");
        assertEquals(h.Metadata, { n: "small/3" });
        const got = await b.send(new GetObjectCommand({ Bucket: "dst", Key: "big.bin" }));
        assertEquals(got.ContentLength, big.length);
        assertEquals(await streamMd5(got.Body as ReadableStream<Uint8Array>), bigMd5);
        await eventually("the source says COMPLETED", async () => {
          const s = await a.send(new HeadObjectCommand({ Bucket: "src", Key: "big.bin" }));
          return s.ReplicationStatus === "COMPLETED";
        });
        // 8 MiB parts, two in flight: a copy holds 16 MiB of parts however large the object.
        // The bound leaves room for the stream's read buffers, the SDK's request copies, the
        // small objects copied alongside and garbage not yet collected; buffering the 200 MiB
        // object whole would pass it.
        const after = await residentMemory(pid);
        const growth = after.peak - before.rss;
        assert(
          growth < PEAK_GROWTH_BOUND,
          `the source's peak memory grew by ${(growth / 2 ** 20).toFixed(1)} MiB while copying`,
        );
      },
    );

    await t.step("a delete marker is replicated per the rule", async () => {
      await a.send(new DeleteObjectCommand({ Bucket: "src", Key: "small/1" }));
      await eventually(
        "the key is gone at the destination",
        async () =>
          await status(b.send(new HeadObjectCommand({ Bucket: "dst", Key: "small/1" }))) === 404,
      );
      // The marker's task leaves the queue just after the delete is visible.
      let st = await src.api("/buckets/src/replication", { token: src.adminToken });
      await eventually("the queue is empty", async () => {
        st = await src.api("/buckets/src/replication", { token: src.adminToken });
        return st.body.rules[0].queued === 0;
      });
      assertEquals(st.status, 200);
      assertEquals(st.body.rules[0].id, "all");
      assertEquals(st.body.failures, []);
      const metrics = await (await fetch(`${src.srv.consoleUrl}/metrics`)).text();
      const done = /^maxiofs_replication_tasks_total\{outcome="done"\} (\d+)/m.exec(metrics);
      assert(done && Number(done[1]) >= 1002, `replication series: ${done?.[0]}`);
      assert(/^maxiofs_replication_queue_depth \d+/m.test(metrics), "queue depth series");
    });
  } finally {
    await src.stop();
    await dst.stop();
  }
});

Deno.test("replication: a destination down and a source killed lose nothing; two-way has no loops", async (t) => {
  const dst = await startIamServer({}, { args: ALLOW });
  const src = await startIamServer({}, { args: ALLOW });
  const srcDir = src.srv.dataDir;
  const dstDir = dst.srv.dataDir;
  const dstPort = dst.srv.port;
  let a = src.srv.client();
  let b = dst.srv.client();
  let srcNow = src;
  let dstNow = dst;
  const restarted: { stop(): Promise<void> }[] = [];
  try {
    await versionedBucket(b, "dst");
    await versionedBucket(a, "src");
    await addDestination(src, "dr", dst, "dst");
    await a.send(
      new PutBucketReplicationCommand({ Bucket: "src", ReplicationConfiguration: rules("dr") }),
    );

    await t.step("writes while the destination is down, then the source is killed", async () => {
      await dst.srv.stop({ keepData: true });
      for (let i = 0; i < 20; i++) {
        await a.send(new PutObjectCommand({ Bucket: "src", Key: `down/${i}`, Body: `v${i}` }));
      }
      await eventually("a failed attempt is listed", async () => {
        const st = await src.api("/buckets/src/replication", { token: src.adminToken });
        return st.body.failures.length > 0;
      });
      await src.srv.kill9();
    });

    await t.step("both come back: the queue survived and everything arrives", async () => {
      const d2 = await startServer({
        dataDir: dstDir,
        args: [...ALLOW, "--listen", `127.0.0.1:${dstPort}`],
      });
      restarted.push(d2);
      b = d2.client();
      const s2 = await startServer({ dataDir: srcDir, args: ALLOW });
      restarted.push(s2);
      a = s2.client();
      // The backoff is cut short by a retry (the CLI), rather than waited out.
      const retry = await cli(
        "replication",
        "retry",
        "src",
        "--url",
        s2.consoleUrl,
        "--user",
        ADMIN_USER,
        "--password",
        ADMIN_PASSWORD,
      );
      assertEquals(retry.code, 0, retry.stderr);
      await eventually("all 20 objects at the destination", async () => {
        for (let i = 0; i < 20; i++) {
          const s = await status(
            b.send(new HeadObjectCommand({ Bucket: "dst", Key: `down/${i}` })),
          );
          if (s !== 200) return false;
        }
        return true;
      });
      assertEquals(new TextDecoder().decode(await objectBytes(b, "dst", "down/7")), "v7");
      srcNow = { ...src, srv: s2 } as IamServer;
      dstNow = { ...dst, srv: d2 } as IamServer;
    });

    await t.step("two-way: each side's writes reach the other once, never back", async () => {
      const login = async (s: IamServer) => {
        const r = await s.api("/auth/login", {
          body: { username: ADMIN_USER, password: ADMIN_PASSWORD },
        });
        return r.body.token as string;
      };
      const apiOf = (srv: IamServer["srv"]) =>
      async (path: string, init: {
        method?: string;
        body?: unknown;
        token?: string;
      } = {}) => {
        const res = await fetch(`${srv.consoleUrl}/api/v1${path}`, {
          method: init.method ?? (init.body === undefined ? "GET" : "POST"),
          headers: {
            ...(init.body === undefined ? {} : { "content-type": "application/json" }),
            ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
          },
          body: init.body === undefined ? undefined : JSON.stringify(init.body),
        });
        const text = await res.text();
        return { status: res.status, body: text ? JSON.parse(text) : null };
      };
      const srcApi = { ...srcNow, api: apiOf(srcNow.srv) } as IamServer;
      const dstApi = { ...dstNow, api: apiOf(dstNow.srv) } as IamServer;
      const srcToken = await login(srcApi);
      const dstToken = await login(dstApi);
      await addDestination(dstApi, "back", srcApi, "src");
      await b.send(
        new PutBucketReplicationCommand({ Bucket: "dst", ReplicationConfiguration: rules("back") }),
      );
      await a.send(new PutObjectCommand({ Bucket: "src", Key: "from-a", Body: "a" }));
      await b.send(new PutObjectCommand({ Bucket: "dst", Key: "from-b", Body: "b" }));
      await eventually(
        "from-a at B and from-b at A",
        async () =>
          await status(b.send(new HeadObjectCommand({ Bucket: "dst", Key: "from-a" }))) === 200 &&
          await status(a.send(new HeadObjectCommand({ Bucket: "src", Key: "from-b" }))) === 200,
      );
      // A later write on each side arrives after the earlier replica changes were seen (the feed
      // is in order), so by then any copy back would be queued or done.
      await a.send(new PutObjectCommand({ Bucket: "src", Key: "later-a", Body: "a2" }));
      await b.send(new PutObjectCommand({ Bucket: "dst", Key: "later-b", Body: "b2" }));
      await eventually(
        "later writes crossed",
        async () =>
          await status(b.send(new HeadObjectCommand({ Bucket: "dst", Key: "later-a" }))) === 200 &&
          await status(a.send(new HeadObjectCommand({ Bucket: "src", Key: "later-b" }))) === 200,
      );
      // A task leaves the queue just after its copy is visible.
      let stB = await dstApi.api("/buckets/dst/replication", { token: dstToken });
      await eventually("both queues empty", async () => {
        stB = await dstApi.api("/buckets/dst/replication", { token: dstToken });
        const stA = await srcApi.api("/buckets/src/replication", { token: srcToken });
        return stB.body.rules[0].queued === 0 && stA.body.rules[0].queued === 0;
      });
      // B copied its own two writes and nothing it received from A.
      assertEquals(stB.body.totals.done, 2);
      for (
        const [c, bucket, key] of [[a, "src", "from-a"], [b, "dst", "from-a"], [
          a,
          "src",
          "from-b",
        ], [b, "dst", "from-b"]] as const
      ) {
        const v = await c.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key }));
        assertEquals(v.Versions?.length, 1, `${bucket}/${key}`);
      }
      const stA = await srcApi.api("/buckets/src/replication", { token: srcToken });
      assertEquals(stA.body.failures, []);
      assertEquals(
        (await a.send(new HeadObjectCommand({ Bucket: "src", Key: "from-b" }))).ReplicationStatus,
        "REPLICA",
      );
    });
  } finally {
    for (const r of restarted) await r.stop();
    await src.stop();
    await dst.stop();
  }
});

const openssl = await findProgram("openssl");

Deno.test(needs(openssl, {
  name: "replication: a destination over TLS (its CA trusted through NODE_EXTRA_CA_CERTS)",
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "maxiofs-repl-tls-" });
    const ca = await makeCa(openssl.path, dir);
    const cert = await makeServerCert(openssl.path, ca, "dst");
    const dst = await startServer({
      args: [...ALLOW, "--tls-cert", cert.certFile, "--tls-key", cert.keyFile],
    });
    const src = await startIamServer({ NODE_EXTRA_CA_CERTS: ca.certFile }, { args: ALLOW });
    try {
      assert(dst.endpoint.startsWith("https://"), dst.endpoint);
      const b = new S3Client({
        endpoint: dst.endpoint,
        region: REGION,
        forcePathStyle: true,
        credentials: { accessKeyId: dst.accessKey, secretAccessKey: dst.secretKey },
        maxAttempts: 1,
        requestHandler: { httpsAgent: new Agent({ ca: ca.certPem }) },
      });
      const a = src.srv.client();
      await versionedBucket(b, "dst");
      await versionedBucket(a, "src");
      await addDestination(src, "dr", { srv: dst } as IamServer, "dst");
      await a.send(
        new PutBucketReplicationCommand({ Bucket: "src", ReplicationConfiguration: rules("dr") }),
      );
      await a.send(new PutObjectCommand({ Bucket: "src", Key: "over-tls", Body: "secure" }));
      await eventually(
        "the object at the TLS destination",
        async () =>
          await status(b.send(new HeadObjectCommand({ Bucket: "dst", Key: "over-tls" }))) === 200,
      );
      assertEquals(new TextDecoder().decode(await objectBytes(b, "dst", "over-tls")), "secure");
    } finally {
      await src.stop();
      await dst.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
}));
