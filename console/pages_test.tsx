import type { ComponentChildren } from "preact";
import { assert, assertEquals } from "../tests/_helpers/assert.ts";
import { createConsoleHandler } from "./mod.ts";
import { type Client, NO_CLIENT } from "../server/iam/net.ts";
import { createPageHandler, type Manifest, type PageProps } from "./pages.ts";
import { island } from "./island.tsx";
import type { SessionUser } from "./session.ts";
import { parseMe } from "./session.ts";

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const admin: SessionUser = {
  id: "u1",
  username: "admin",
  role: "global_admin",
  tenantId: null,
  mustChangePassword: false,
  twoFactorEnabled: false,
};
const plain: SessionUser = { ...admin, id: "u2", username: "bob", role: "tenant_user" };

function consoleAs(user: SessionUser | null) {
  return createConsoleHandler({
    log: quiet,
    session: { current: () => Promise.resolve(user) },
    api: (req) => Response.json({ path: new URL(req.url).pathname }),
  });
}

const get = (h: (r: Request, c: Client) => Promise<Response>, path: string) =>
  h(new Request(`http://console.test${path}`), NO_CLIENT);

Deno.test("pages need a session and redirect to login with the way back", async () => {
  const res = await get(consoleAs(null), "/buckets?x=1");
  assertEquals(res.status, 303);
  assertEquals(res.headers.get("location"), "/login?next=%2Fbuckets%3Fx%3D1");
  assertEquals(res.headers.get("x-frame-options"), "DENY");
});

Deno.test("login renders without a session, with its island and the layout assets", async () => {
  const res = await get(consoleAs(null), "/login?next=/keys");
  assertEquals(res.status, 200);
  const html = await res.text();
  assert(html.startsWith("<!DOCTYPE html>"));
  assert(html.includes('data-island="LoginForm"'));
  assert(html.includes("&quot;next&quot;:&quot;/keys&quot;"), "props travel as JSON");
  assert(/src="\/static\/islands\.js\?v=[0-9a-f]{16}"/.test(html));
  assert(!html.includes("<script>"), "no inline script (CSP)");
  assert(!html.includes("style="), "no inline style (CSP)");
  const csp = res.headers.get("content-security-policy") ?? "";
  assert(csp.includes("frame-ancestors 'none'") && csp.includes("script-src 'self'"));
  assertEquals(res.headers.get("x-content-type-options"), "nosniff");
});

Deno.test("signed-in pages render in the layout; admin pages are hidden from users", async () => {
  const asAdmin = await get(consoleAs(admin), "/buckets/my-bucket?prefix=a%2F");
  assertEquals(asAdmin.status, 200);
  const html = await asAdmin.text();
  assert(html.includes('data-island="ObjectBrowser"'));
  assert(html.includes("&quot;bucket&quot;:&quot;my-bucket&quot;"));
  assert(html.includes('href="/tenants"'), "admins see the tenants link");
  const asUser = await get(consoleAs(plain), "/tenants");
  assertEquals(asUser.status, 404);
  const tenantAdmin = consoleAs({ ...plain, role: "tenant_admin", tenantId: "t1" });
  assertEquals((await get(tenantAdmin, "/users")).status, 200);
  assertEquals((await get(tenantAdmin, "/settings")).status, 404);
  assert(!(await asUser.text()).includes('href="/tenants"'));
});

Deno.test("unknown pages answer the 404 page; API and assets are routed first", async () => {
  const h = consoleAs(admin);
  const nf = await get(h, "/no/such/page");
  assertEquals(nf.status, 404);
  assert((await nf.text()).includes("Page not found"));
  const api = await get(h, "/api/v1/users");
  assertEquals(await api.json(), { path: "/api/v1/users" });
  assertEquals(api.headers.get("x-content-type-options"), "nosniff");
  const css = await get(h, "/static/app.css");
  assertEquals(css.status, 200);
  assertEquals(css.headers.get("content-type"), "text/css; charset=utf-8");
});

Deno.test("the login page sends signed-in users on, to same-origin paths only", async () => {
  const h = consoleAs(admin);
  const on = await get(h, "/login?next=%2Fkeys");
  assertEquals([on.status, on.headers.get("location")], [303, "/keys"]);
  for (const evil of ["//evil.example/x", "https://evil.example/", "/\\evil.example"]) {
    const res = await get(h, `/login?next=${encodeURIComponent(evil)}`);
    assertEquals(res.headers.get("location"), "/", evil);
  }
  const change = await get(consoleAs({ ...admin, mustChangePassword: true }), "/login?step=change");
  assertEquals(change.status, 200);
});

Deno.test("a forced password change sends every page to the change step", async () => {
  const res = await get(consoleAs({ ...admin, mustChangePassword: true }), "/buckets");
  assertEquals(res.status, 303);
  assertEquals(res.headers.get("location"), "/login?step=change");
});

Deno.test("a page that throws renders the 500 page and is logged", async () => {
  const errors: string[] = [];
  const Boom = (_: PageProps) => {
    throw new Error("boom");
  };
  const Fine = (_: PageProps) => island(Counter, { n: 1 });
  const Counter = ({ n }: { n: number }) => <b>{n}</b>;
  const manifest: Manifest = {
    routes: {
      "boom.tsx": { default: Boom },
      "fine.tsx": { default: Fine },
      "_500.tsx": { default: () => <p>sorry</p> },
    },
    islands: { Counter: { default: Counter as never } },
  };
  const pages = createPageHandler({
    manifest,
    session: { current: () => Promise.resolve(admin) },
    assetUrls: { css: "/c", js: "/j" },
    log: { ...quiet, error: (m) => errors.push(m) },
  });
  const res = (await pages(new Request("http://x/boom")))!;
  assertEquals(res.status, 500);
  assertEquals(await res.text(), "<!DOCTYPE html><p>sorry</p>");
  assertEquals(errors.length, 1);
  const ok = (await pages(new Request("http://x/fine")))!;
  assertEquals(
    await ok.text(),
    '<!DOCTYPE html><div data-island="Counter" data-props="{&quot;n&quot;:1}" class="island"><b>1</b></div>',
  );
  assertEquals(await pages(new Request("http://x/fine", { method: "POST" })), null);
});

Deno.test("_layout.tsx files wrap the pages below them, outermost first", async () => {
  const Outer = ({ children }: PageProps & { children?: ComponentChildren }) => (
    <main>{children}</main>
  );
  const Inner = ({ children, params }: PageProps & { children?: ComponentChildren }) => (
    <section data-b={params.b}>{children}</section>
  );
  const manifest: Manifest = {
    routes: {
      "_layout.tsx": { default: Outer as never },
      "b/_layout.tsx": { default: Inner as never },
      "b/[b].tsx": { default: () => <i>page</i> },
      "top.tsx": { default: () => <i>top</i> },
    },
    islands: {},
  };
  const pages = createPageHandler({
    manifest,
    session: { current: () => Promise.resolve(admin) },
    assetUrls: { css: "/c", js: "/j" },
    log: quiet,
  });
  const nested = (await pages(new Request("http://x/b/one")))!;
  assertEquals(
    await nested.text(),
    '<!DOCTYPE html><main><section data-b="one"><i>page</i></section></main>',
  );
  const top = (await pages(new Request("http://x/top")))!;
  assertEquals(await top.text(), "<!DOCTYPE html><main><i>top</i></main>");
});

Deno.test("parseMe reads the API's me document", () => {
  const me = parseMe({
    user: { id: "7", username: "ann", role: "tenant_admin", tenantId: "t1", totpEnabled: true },
    mustChangePassword: true,
  });
  assertEquals(me, {
    id: "7",
    username: "ann",
    role: "tenant_admin",
    tenantId: "t1",
    mustChangePassword: true,
    twoFactorEnabled: true,
  });
  assertEquals(parseMe(null), null);
  assertEquals(parseMe({ error: { code: "Unauthenticated" } }), null);
});
