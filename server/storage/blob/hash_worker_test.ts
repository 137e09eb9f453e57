import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { HashOffload } from "./hash_offload.ts";
import {
  type HashReply,
  type HashRequest,
  hashWorker,
  type HashWorkerScope,
} from "./hash_worker.ts";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

Deno.test("hash worker program: digests per session, in order; a bad session answers an error", () => {
  const replies: HashReply[] = [];
  const scope: HashWorkerScope = { onmessage: null, postMessage: (m) => replies.push(m) };
  hashWorker(scope, createHash);
  const send = (data: HashRequest) => scope.onmessage!(new MessageEvent("message", { data }));
  const enc = new TextEncoder();
  send({ t: "open", s: 1, algs: ["md5", "sha256"] });
  send({ t: "data", s: 1, d: enc.encode("hello ") });
  send({ t: "data", s: 1, d: enc.encode("world") });
  send({ t: "end", s: 1 });
  send({ t: "data", s: 2, d: enc.encode("no session") });
  assert.deepEqual(replies.map((r) => r.t), ["ack", "ack", "digest", "error"]);
  const digest = replies[2];
  assert.ok(digest.t === "digest");
  assert.equal(hex(digest.d[0]), createHash("md5").update("hello world").digest("hex"));
  assert.equal(hex(digest.d[1]), createHash("sha256").update("hello world").digest("hex"));
});

Deno.test("hash offload: the program runs in workers started from its source text", async () => {
  const off = new HashOffload(2);
  try {
    const data = new Uint8Array(200_000).map((_, i) => (i * 7919) % 251);
    const sessions = [off.open(["md5"]), off.open(["sha1", "md5"])];
    for (const s of sessions) {
      for (let i = 0; i < data.length; i += 65536) await s.update(data.subarray(i, i + 65536));
    }
    const [a, b] = await Promise.all(sessions.map((s) => s.finish()));
    const md5 = createHash("md5").update(data).digest("hex");
    assert.equal(hex(a[0]), md5);
    assert.equal(hex(b[0]), createHash("sha1").update(data).digest("hex"));
    assert.equal(hex(b[1]), md5);
  } finally {
    off.close();
  }
});
