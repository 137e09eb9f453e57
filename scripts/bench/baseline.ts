/**
 * The raw baselines: a plain `Deno.serve` with no S3 logic. PUT streams the body into a temp file
 * and renames it into place (with `--durable`, after an `fdatasync` of the file: the cost of
 * making each object's bytes durable before answering, and nothing else), GET streams a file
 * back, HEAD answers whether the file (or the bucket's directory) is there, DELETE removes the
 * file. A ListObjectsV2 (`GET /bucket?list-type=2`) answers a fixed
 * document of 1000 keys built once: the cost of serving a listing's bytes with no lookup at all.
 * Keys map to paths (`bucket/dir/name`, parents created on demand). Request headers (signatures
 * included) are ignored.
 *
 * Usage: deno run -A scripts/bench/baseline.ts <root dir> [--durable]  (prints "listening on <url>")
 */

/** Keys in the fixed listing: `<prefix>0000` to `<prefix>0999`, as the bench writes them. */
const LIST_KEYS = 1000;

/** A ListObjectsV2 answer of 1000 keys of 4 KiB each, shaped as S3 shapes it. */
function listDocument(bucket: string, prefix: string): Uint8Array<ArrayBuffer> {
  const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");
  const contents: string[] = [];
  for (let i = 0; i < LIST_KEYS; i++) {
    contents.push(
      `<Contents><Key>${esc(prefix)}${String(i).padStart(4, "0")}</Key>` +
        `<LastModified>2026-01-01T00:00:00.000Z</LastModified>` +
        `<ETag>&quot;${i.toString(16).padStart(32, "0")}&quot;</ETag>` +
        `<Size>4096</Size><StorageClass>STANDARD</StorageClass></Contents>`,
    );
  }
  const head = `<Name>${esc(bucket)}</Name><Prefix>${esc(prefix)}</Prefix>` +
    `<KeyCount>${LIST_KEYS}</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>`;
  return new TextEncoder().encode(
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
      `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` +
      `${head}${contents.join("")}</ListBucketResult>`,
  );
}

function split(pathname: string): { bucket: string; key: string } {
  const p = pathname.slice(1);
  const i = p.indexOf("/");
  return i < 0
    ? { bucket: decodeURIComponent(p), key: "" }
    : { bucket: decodeURIComponent(p.slice(0, i)), key: decodeURIComponent(p.slice(i + 1)) };
}

/** The request handler of a baseline whose files live under `root`. */
function baseline(root: string, durable: boolean): (req: Request) => Promise<Response> {
  let seq = 0;
  /** Listings built so far, by bucket and prefix: each is built once, then only sent. */
  const listings = new Map<string, Uint8Array<ArrayBuffer>>();
  /** Keys are trusted here (the bench sends plain names); `..` would escape the root. */
  const fileOf = (bucket: string, key: string) => `${root}/${bucket}/${key}`;

  async function put(req: Request, bucket: string, key: string): Promise<Response> {
    const tmp = `${root}/.tmp/${Deno.pid}-${++seq}`;
    const file = await Deno.open(tmp, { write: true, createNew: true });
    if (durable) {
      try {
        if (req.body) await req.body.pipeTo(file.writable, { preventClose: true });
        await file.syncData();
      } finally {
        file.close();
      }
    } else if (req.body) await req.body.pipeTo(file.writable);
    else file.close();
    const dest = fileOf(bucket, key);
    try {
      await Deno.rename(tmp, dest);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      await Deno.mkdir(dest.slice(0, dest.lastIndexOf("/")), { recursive: true });
      await Deno.rename(tmp, dest);
    }
    return new Response(null, { status: 200 });
  }

  async function handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const { bucket, key } = split(url.pathname);
    try {
      if (req.method === "PUT" && key === "") {
        await Deno.mkdir(`${root}/${bucket}`, { recursive: true });
        return new Response(null, { status: 200 });
      }
      if (req.method === "PUT") return await put(req, bucket, key);
      if (req.method === "GET" && key === "") {
        const prefix = url.searchParams.get("prefix") ?? "";
        const id = `${bucket}/${prefix}`;
        let doc = listings.get(id);
        if (!doc) listings.set(id, doc = listDocument(bucket, prefix));
        return new Response(doc, { headers: { "content-type": "application/xml" } });
      }
      if (req.method === "GET") {
        const file = await Deno.open(fileOf(bucket, key), { read: true });
        const st = await file.stat();
        return new Response(file.readable, { headers: { "content-length": String(st.size) } });
      }
      if (req.method === "HEAD") {
        const st = await Deno.stat(key === "" ? `${root}/${bucket}` : fileOf(bucket, key));
        return new Response(null, { headers: { "content-length": String(st.size) } });
      }
      if (req.method === "DELETE") {
        await Deno.remove(fileOf(bucket, key)).catch(() => {});
        return new Response(null, { status: 204 });
      }
      return new Response(null, { status: 405 });
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return new Response(null, { status: 404 });
      return new Response(String(e), { status: 500 });
    }
  }

  return handle;
}

if (import.meta.main) {
  const root = Deno.args[0];
  if (!root) {
    console.error("usage: baseline.ts <root dir> [--durable]");
    Deno.exit(2);
  }
  await Deno.mkdir(`${root}/.tmp`, { recursive: true });
  Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: ({ hostname, port }) => console.log(`listening on http://${hostname}:${port}`),
  }, baseline(root, Deno.args.includes("--durable")));
}
