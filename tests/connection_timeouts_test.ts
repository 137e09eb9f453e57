/**
 * Connection deadlines on both listeners, with 500 ms limits set through the options: a client
 * that trickles its request headers and a kept-alive connection left idle are closed; a
 * connection kept busy, and a request that takes longer than the limits, are not.
 */
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { assert, assertEquals } from "./_helpers/assert.ts";
import { startServer } from "./_helpers/server.ts";
import { signedHead } from "./_helpers/raw_http.ts";
import { signedFetch } from "./_helpers/signed_fetch.ts";

const enc = new TextEncoder();
/** Far above the 500 ms limits (plus the sweep), far below "never". */
const BOUND_MS = 3000;

/** Reads until the server closes the connection; resolves with how long that took, or null. */
async function closedWithin(conn: Deno.Conn, ms: number): Promise<number | null> {
  const started = performance.now();
  const timer = setTimeout(() => conn.close(), ms);
  const buf = new Uint8Array(16 * 1024);
  try {
    while (await conn.read(buf) !== null) { /* answers before the close */ }
    return performance.now() - started;
  } catch {
    return null; // our timer closed it: the server did not
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

async function readAnswer(conn: Deno.Conn): Promise<string> {
  const buf = new Uint8Array(16 * 1024);
  const n = await conn.read(buf);
  assert(n !== null, "closed instead of answering");
  return new TextDecoder().decode(buf.subarray(0, n));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("header and idle timeouts close slow and idle connections", async (t) => {
  const srv = await startServer({ args: ["--header-timeout", "0.5", "--idle-timeout", "0.5"] });
  const s3 = srv.client();
  const u = new URL(srv.endpoint);
  const connect = (url = u) => Deno.connect({ hostname: url.hostname, port: Number(url.port) });
  try {
    await s3.send(new CreateBucketCommand({ Bucket: "timeouts" }));

    await t.step("a client that trickles its headers is closed", async () => {
      for (const url of [u, new URL(srv.consoleUrl)]) {
        const conn = await connect(url);
        await conn.write(enc.encode(`GET / HTTP/1.1\r\nHost: ${url.host}\r\n`));
        const took = await closedWithin(conn, BOUND_MS);
        assert(took !== null, `${url.port}: still open after ${BOUND_MS} ms`);
      }
    });

    await t.step("a connection that never sends a request is closed", async () => {
      const took = await closedWithin(await connect(), BOUND_MS);
      assert(took !== null, `still open after ${BOUND_MS} ms`);
    });

    await t.step("a kept-alive connection left idle is closed after its answer", async () => {
      for (const url of [u, new URL(srv.consoleUrl)]) {
        const conn = await connect(url);
        await conn.write(enc.encode(`GET / HTTP/1.1\r\nHost: ${url.host}\r\n\r\n`));
        assert((await readAnswer(conn)).startsWith("HTTP/1.1 "));
        const took = await closedWithin(conn, BOUND_MS);
        assert(took !== null, `${url.port}: still open after ${BOUND_MS} ms`);
      }
    });

    await t.step("an error answered before an announced body is idle time after it", async () => {
      const conn = await connect();
      const head = await signedHead(srv, {
        method: "PUT",
        path: "/no-such-bucket/k",
        headers: { "content-length": "1000000" },
      });
      await conn.write(enc.encode(head));
      assert((await readAnswer(conn)).startsWith("HTTP/1.1 404"));
      const took = await closedWithin(conn, BOUND_MS);
      assert(took !== null, `still open after ${BOUND_MS} ms`);
    });

    await t.step("a connection kept busy outlives the limits", async () => {
      const conn = await connect();
      try {
        for (let i = 0; i < 5; i++) {
          const head = await signedHead(srv, { method: "HEAD", path: "/timeouts" });
          await conn.write(enc.encode(head));
          assert((await readAnswer(conn)).startsWith("HTTP/1.1 200"), `request ${i}`);
          await sleep(100);
        }
      } finally {
        conn.close();
      }
    });

    await t.step("a request running longer than the limits is not cut", async () => {
      const conn = await connect();
      try {
        const head = await signedHead(srv, {
          method: "PUT",
          path: "/timeouts/slow",
          headers: { "content-length": "4" },
        });
        await conn.write(enc.encode(head));
        // 4 x 200 ms: the request runs past both limits, while each gap is under them (a
        // loaded machine's scheduling delays fit in the other 300 ms).
        for (const byte of ["a", "b", "c", "d"]) {
          await sleep(200);
          await conn.write(enc.encode(byte));
        }
        assert((await readAnswer(conn)).startsWith("HTTP/1.1 200"));
      } finally {
        conn.close();
      }
      const res = await signedFetch(srv, { method: "GET", path: "/timeouts/slow" });
      assertEquals(await res.text(), "abcd");
    });
  } finally {
    s3.destroy();
    await srv.stop();
  }
});
