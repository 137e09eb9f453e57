/**
 * The raw baseline: a plain `Deno.serve` with no S3 logic. PUT streams the body into a temp file
 * and renames it into place, GET streams a file back, GET on a bucket lists its directory, DELETE
 * removes the file. Keys map to paths (`bucket/dir/name`, parents created on demand), so a LIST
 * with a `dir/` prefix reads one directory, as a plain file server would. Request headers
 * (signatures included) are ignored.
 *
 * Usage: deno run -A scripts/bench/baseline.ts <root dir>   (prints "listening on <url>")
 */
const root = Deno.args[0];
if (!root) {
  console.error("usage: baseline.ts <root dir>");
  Deno.exit(2);
}
await Deno.mkdir(`${root}/.tmp`, { recursive: true });
let seq = 0;

function split(pathname: string): { bucket: string; key: string } {
  const p = pathname.slice(1);
  const i = p.indexOf("/");
  return i < 0
    ? { bucket: decodeURIComponent(p), key: "" }
    : { bucket: decodeURIComponent(p.slice(0, i)), key: decodeURIComponent(p.slice(i + 1)) };
}

/** Keys are trusted here (the bench sends plain names); `..` would escape the root. */
const fileOf = (bucket: string, key: string) => `${root}/${bucket}/${key}`;

async function handle(req: Request): Promise<Response> {
  const url = new URL(req.url);
  const { bucket, key } = split(url.pathname);
  try {
    if (req.method === "PUT" && key === "") {
      await Deno.mkdir(`${root}/${bucket}`, { recursive: true });
      return new Response(null, { status: 200 });
    }
    if (req.method === "PUT") {
      const tmp = `${root}/.tmp/${Deno.pid}-${++seq}`;
      const file = await Deno.open(tmp, { write: true, createNew: true });
      if (req.body) await req.body.pipeTo(file.writable);
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
    if (req.method === "GET" && key === "") {
      // Reads the one directory the prefix names (no recursion: the bench lists one level).
      const prefix = url.searchParams.get("prefix") ?? "";
      const slash = prefix.lastIndexOf("/");
      const dir = prefix.slice(0, slash + 1);
      const names: string[] = [];
      for await (const e of Deno.readDir(`${root}/${bucket}/${dir}`)) {
        const k = dir + e.name;
        if (e.isFile && k.startsWith(prefix)) names.push(k);
      }
      names.sort();
      const page = names.slice(0, 1000);
      const body = `<List>${page.map((k) => `<Key>${k}</Key>`).join("")}</List>`;
      return new Response(body, { headers: { "content-type": "application/xml" } });
    }
    if (req.method === "GET") {
      const file = await Deno.open(fileOf(bucket, key), { read: true });
      const st = await file.stat();
      return new Response(file.readable, { headers: { "content-length": String(st.size) } });
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

Deno.serve({
  hostname: "127.0.0.1",
  port: 0,
  onListen: ({ hostname, port }) => console.log(`listening on http://${hostname}:${port}`),
}, handle);
