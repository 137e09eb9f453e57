/**
 * ListBuckets as AWS pages it, against the real server: the SDK's ListBucketsCommand with
 * MaxBuckets / ContinuationToken / Prefix / BucketRegion, its paginator, the aws cli's
 * list-buckets (--prefix, --page-size, --max-items, --starting-token), and AWS's errors for a
 * bad max-buckets or continuation token.
 */
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  ListBucketsCommand,
  type ListBucketsCommandOutput,
  paginateListBuckets,
} from "@aws-sdk/client-s3";
import { assert, assertEquals } from "./_helpers/assert.ts";
import { REGION } from "./_helpers/server.ts";
import { startIamServer } from "./iam_fixture.ts";
import { errorCode, signedFetch } from "./_helpers/signed_fetch.ts";
import { awsEnv, run } from "./_helpers/cli.ts";
import { findProgram } from "./_helpers/programs.ts";

const awsCli = await findProgram("aws");

const PAGED = Array.from({ length: 23 }, (_, i) => `pg-${String(i).padStart(2, "0")}`);
const OTHERS = ["aa-first", "zz-last"];
const ALL = [...OTHERS, ...PAGED].sort();

const namesOf = (out: ListBucketsCommandOutput) => out.Buckets?.map((b) => b.Name!) ?? [];

Deno.test("ListBuckets pagination through the SDK and the aws cli", async (t) => {
  const iam = await startIamServer();
  const srv = iam.srv;
  const s3 = srv.client();
  try {
    // Created out of order: listings are in name order whatever the creation order.
    for (const name of [...ALL].reverse()) await s3.send(new CreateBucketCommand({ Bucket: name }));

    await t.step(
      "without parameters: every bucket, no token, region and date on each",
      async () => {
        const out = await s3.send(new ListBucketsCommand({}));
        assertEquals(namesOf(out), ALL);
        assertEquals(out.ContinuationToken, undefined);
        assertEquals(out.Prefix, undefined);
        assert(out.Owner?.ID, "owner");
        for (const b of out.Buckets!) {
          assertEquals(b.BucketRegion, REGION);
          assert(b.CreationDate instanceof Date && !isNaN(b.CreationDate.getTime()));
        }
      },
    );

    await t.step("MaxBuckets pages with continuation tokens until the last", async () => {
      const seen: string[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const out = await s3.send(
          new ListBucketsCommand({ MaxBuckets: 4, ContinuationToken: token }),
        );
        pages++;
        token = out.ContinuationToken;
        assertEquals(namesOf(out).length, token ? 4 : ALL.length % 4 || 4);
        seen.push(...namesOf(out));
      } while (token && pages < 50);
      assertEquals(seen, ALL);
      assertEquals(pages, Math.ceil(ALL.length / 4));
      // A page that ends exactly at the last bucket carries no token.
      const exact = await s3.send(new ListBucketsCommand({ MaxBuckets: ALL.length }));
      assertEquals([namesOf(exact).length, exact.ContinuationToken], [ALL.length, undefined]);
    });

    await t.step("Prefix filters, is echoed, and pages with the token", async () => {
      const out = await s3.send(new ListBucketsCommand({ Prefix: "pg-" }));
      assertEquals([namesOf(out), out.Prefix, out.ContinuationToken], [PAGED, "pg-", undefined]);
      const first = await s3.send(new ListBucketsCommand({ Prefix: "pg-1", MaxBuckets: 6 }));
      assertEquals(namesOf(first), PAGED.filter((n) => n.startsWith("pg-1")).slice(0, 6));
      assert(first.ContinuationToken);
      const rest = await s3.send(
        new ListBucketsCommand({ Prefix: "pg-1", ContinuationToken: first.ContinuationToken }),
      );
      assertEquals(namesOf(rest), PAGED.filter((n) => n.startsWith("pg-1")).slice(6));
      assertEquals(rest.ContinuationToken, undefined);
      const none = await s3.send(new ListBucketsCommand({ Prefix: "nothing-" }));
      assertEquals([namesOf(none), none.Prefix], [[], "nothing-"]);
    });

    await t.step("BucketRegion filters by region", async () => {
      const same = await s3.send(new ListBucketsCommand({ BucketRegion: REGION, MaxBuckets: 3 }));
      assertEquals(namesOf(same), ALL.slice(0, 3));
      const other = await s3.send(new ListBucketsCommand({ BucketRegion: "ap-south-2" }));
      assertEquals(namesOf(other), []);
    });

    await t.step("the SDK paginator walks every page", async () => {
      const pages: string[][] = [];
      for await (
        const page of paginateListBuckets({ client: s3, pageSize: 5 }, { Prefix: "pg-" })
      ) {
        pages.push(namesOf(page));
      }
      assertEquals(pages.flat(), PAGED);
      assertEquals(pages.map((p) => p.length), [5, 5, 5, 5, 3]);
    });

    await t.step("a deleted bucket drops out, a new one appears", async () => {
      await s3.send(new DeleteBucketCommand({ Bucket: "pg-05" }));
      await s3.send(new CreateBucketCommand({ Bucket: "pg-05a" }));
      const out = await s3.send(new ListBucketsCommand({ Prefix: "pg-0", MaxBuckets: 100 }));
      assertEquals(
        namesOf(out),
        [
          ...PAGED.filter((n) => n.startsWith("pg-0") && n !== "pg-05"),
          "pg-05a",
        ].sort(),
      );
      await s3.send(new DeleteBucketCommand({ Bucket: "pg-05a" }));
      await s3.send(new CreateBucketCommand({ Bucket: "pg-05" }));
    });

    await t.step("the console's bucket list shows the same buckets as ListBuckets", async () => {
      const consoleNames = async () => {
        const r = await iam.api("/buckets", { token: iam.adminToken });
        assertEquals(r.status, 200);
        return (r.body.items as { name: string }[]).map((b) => b.name);
      };
      assertEquals(await consoleNames(), ALL);
      await s3.send(new DeleteBucketCommand({ Bucket: "aa-first" }));
      const made = await iam.api("/buckets", {
        token: iam.adminToken,
        body: { name: "mm-console" },
      });
      assertEquals(made.status, 201);
      const now = [...ALL.filter((n) => n !== "aa-first"), "mm-console"].sort();
      assertEquals(await consoleNames(), now);
      assertEquals(namesOf(await s3.send(new ListBucketsCommand({}))), now);
      await s3.send(new DeleteBucketCommand({ Bucket: "mm-console" }));
      await s3.send(new CreateBucketCommand({ Bucket: "aa-first" }));
      assertEquals(namesOf(await s3.send(new ListBucketsCommand({}))), ALL);
    });

    await t.step("bad max-buckets and continuation tokens are InvalidArgument", async () => {
      const bad: Record<string, string>[] = [
        { "max-buckets": "0" },
        { "max-buckets": "10001" },
        { "max-buckets": "-3" },
        { "max-buckets": "ten" },
        { "continuation-token": "" },
        { "continuation-token": "!!!" },
        { "continuation-token": btoa("Not_A_Bucket") },
      ];
      for (const query of bad) {
        const res = await signedFetch(srv, { method: "GET", path: "/", query });
        assertEquals(res.status, 400, JSON.stringify(query));
        assertEquals(await errorCode(res), "InvalidArgument", JSON.stringify(query));
      }
      const ok = await signedFetch(srv, {
        method: "GET",
        path: "/",
        query: { "max-buckets": "10000" },
      });
      assertEquals(ok.status, 200);
      await ok.body?.cancel();
    });

    for (const [i, tool] of awsCli.installed.entries()) {
      await t.step(`aws cli ${tool.version}: list-buckets pages`, async () => {
        const dir = await Deno.makeTempDir({ prefix: "maxiofs-lb-cli-" });
        try {
          const env = await awsEnv(srv, dir, { oneAttempt: true });
          const aws = async (...args: string[]) =>
            JSON.parse(
              (await run(tool.path, ["--endpoint-url", srv.endpoint, "s3api", ...args], {
                env,
                timeoutMs: 60_000,
              })).stdout,
            );
          const names = (out: { Buckets?: { Name: string }[] }) =>
            (out.Buckets ?? []).map((b) => b.Name);
          // Every version lists every bucket unpaginated.
          assertEquals(names(await aws("list-buckets")), ALL, `cli ${i} unpaginated`);
          // Versions from before AWS's ListBuckets pagination (e.g. Debian's 2.9) refuse these.
          const paged = await aws("list-buckets", "--prefix", "pg-", "--page-size", "4").catch(
            (e: Error) => {
              if (/Unknown options: --prefix/.test(e.message)) return null;
              throw e;
            },
          );
          if (paged === null) return;
          // The cli follows the tokens itself: small pages still give the whole list.
          assertEquals(names(paged), PAGED, `cli ${i} --page-size`);
          const first = await aws("list-buckets", "--max-items", "5");
          assertEquals(names(first), ALL.slice(0, 5));
          assert(first.NextToken, "--max-items leaves a NextToken");
          const rest = await aws("list-buckets", "--starting-token", first.NextToken);
          assertEquals(names(rest), ALL.slice(5));
        } finally {
          await Deno.remove(dir, { recursive: true });
        }
      });
    }
  } finally {
    s3.destroy();
    await iam.stop();
  }
});
