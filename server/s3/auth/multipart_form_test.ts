import { assert, assertEquals, assertRejects } from "../../../tests/_helpers/assert.ts";
import { S3Error } from "../errors.ts";
import { boundaryOf, dispositionParams, MultipartReader } from "./multipart_form.ts";

function streamOf(b: Uint8Array, step: number): ReadableStream<Uint8Array> {
  let o = 0;
  return new ReadableStream({
    pull(c) {
      if (o >= b.length) return c.close();
      c.enqueue(b.slice(o, o + step));
      o += step;
    },
  });
}

async function encode(form: FormData): Promise<{ body: Uint8Array; boundary: string }> {
  const res = new Response(form);
  const boundary = boundaryOf(res.headers.get("content-type")!);
  return { body: new Uint8Array(await res.arrayBuffer()), boundary };
}

const tooLarge = () => new S3Error("MaxPostPreDataLengthExceededError");

Deno.test("reads fields and streams the file at every split size", async () => {
  // File bytes that look like a boundary prefix must pass through untouched.
  const file = new TextEncoder().encode("line1\r\n--not-the-boundary\r\n--\r\n" + "z".repeat(5000));
  const form = new FormData();
  form.append("key", "a/${filename}");
  form.append("Content-Type", "text/plain");
  form.append("file", new Blob([file]), 'we"ird.txt');
  form.append("after", "ignored");
  const { body, boundary } = await encode(form);
  for (const step of [1, 3, 70, 1024, body.length]) {
    const r = new MultipartReader(streamOf(body, step), boundary);
    const p1 = await r.next();
    assertEquals([p1?.name, p1?.filename], ["key", null]);
    assertEquals(await r.text(100, tooLarge), "a/${filename}");
    const p2 = await r.next();
    assertEquals(p2?.name, "Content-Type");
    assertEquals(await r.text(100, tooLarge), "text/plain");
    const p3 = await r.next();
    assertEquals(p3?.name, "file");
    assert(p3?.filename?.startsWith("we"));
    const got = new Uint8Array(await new Response(r.stream()).arrayBuffer());
    assertEquals(got, file, `step ${step}`);
    const p4 = await r.next();
    assertEquals(p4?.name, "after");
    assertEquals(await r.next(), null);
  }
});

Deno.test("a truncated file part errors the stream", async () => {
  const form = new FormData();
  form.append("file", new Blob(["x".repeat(10000)]), "f");
  const { body, boundary } = await encode(form);
  const r = new MultipartReader(streamOf(body.subarray(0, body.length - 60), 512), boundary);
  await r.next();
  const e = await assertRejects(() => new Response(r.stream()).arrayBuffer());
  assert(e instanceof S3Error && e.code === "MalformedPOSTRequest", String(e));
});

Deno.test("a field over the limit is rejected; disposition parameters parse", async () => {
  const form = new FormData();
  form.append("policy", "p".repeat(300));
  const { body, boundary } = await encode(form);
  const r = new MultipartReader(streamOf(body, 64), boundary);
  await r.next();
  const e = await assertRejects(() => r.text(100, tooLarge));
  assert(e instanceof S3Error && e.code === "MaxPostPreDataLengthExceededError");
  const p = dispositionParams('form-data; name="file"; filename="C:\\dir\\a \\"b\\".txt"');
  assertEquals(p.get("name"), "file");
  assertEquals(p.get("filename"), 'C:\\dir\\a "b".txt');
  assertEquals(boundaryOf('multipart/form-data; boundary="a b"'), "a b");
});
