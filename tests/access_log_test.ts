/**
 * `--access-log`: one line per S3 request on standard output, JSON with `--log-format json`, text
 * of twelve space-separated fields otherwise; an unknown `--log-format` refuses to start.
 */
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { assert, assertEquals } from "./_helpers/assert.ts";
import { startServer } from "./_helpers/server.ts";
import { signedFetch } from "./_helpers/signed_fetch.ts";

/** The output line that carries `requestId`, once the server has printed it. */
async function lineOf(output: string[], requestId: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const line = output.find((l) => l.includes(requestId));
    if (line) return line;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`no access log line for ${requestId}:\n${output.join("\n")}`);
}

Deno.test("access log: JSON lines with who, what and how it went", async () => {
  const srv = await startServer({ args: ["--access-log", "--log-format", "json"] });
  const s3 = srv.client();
  try {
    await s3.send(new CreateBucketCommand({ Bucket: "logs" }));
    const put = await signedFetch(srv, { method: "PUT", path: "/logs/a%20b.txt", body: "hello" });
    assertEquals(put.status, 200);
    await put.body?.cancel();
    const entry = JSON.parse(await lineOf(srv.output, put.headers.get("x-amz-request-id")!));
    assertEquals(
      [entry.operation, entry.bucket, entry.key, entry.status, entry.bytesIn, entry.client],
      ["PutObject", "logs", "a b.txt", 200, 5, "127.0.0.1"],
    );
    assertEquals(entry.principal, "root");
    assert(typeof entry.ms === "number" && !Number.isNaN(Date.parse(entry.time)));

    const missing = await fetch(`${srv.endpoint}/logs/nope`);
    await missing.body?.cancel();
    const anon = JSON.parse(await lineOf(srv.output, missing.headers.get("x-amz-request-id")!));
    assertEquals([anon.operation, anon.status, anon.principal], ["GetObject", 403, null]);
  } finally {
    s3.destroy();
    await srv.stop();
  }
});

Deno.test("access log: text lines of twelve fields; no access log unless asked", async () => {
  const srv = await startServer({ args: ["--access-log"] });
  const quiet = await startServer();
  try {
    const res = await signedFetch(srv, { method: "GET", path: "/" });
    assertEquals(res.status, 200);
    await res.body?.cancel();
    const id = res.headers.get("x-amz-request-id")!;
    const fields = (await lineOf(srv.output, id)).split(" ");
    assertEquals(fields.length, 12, fields.join(" "));
    assertEquals(
      [fields[1], fields[2], fields[3], fields[5], fields[6], fields[7], fields[8]],
      [id, "127.0.0.1", "root", "ListBuckets", "-", "-", "200"],
    );
    const other = await signedFetch(quiet, { method: "GET", path: "/" });
    await other.body?.cancel();
    const otherId = other.headers.get("x-amz-request-id")!;
    // Stopping drains the server's output: everything it printed is in `output` then.
    await quiet.stop();
    assertEquals(quiet.output.filter((l) => l.includes(otherId)), []);
  } finally {
    await srv.stop();
    await quiet.stop();
  }
});

Deno.test("an unknown --log-format refuses to start, naming the flag", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--unstable-kv",
      "main.ts",
      "--log-format",
      "xml",
      "--data-dir",
      "/nonexistent-x",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(out.code, 2);
  assert(new TextDecoder().decode(out.stderr).includes('Cannot parse log format "xml"'));
});
