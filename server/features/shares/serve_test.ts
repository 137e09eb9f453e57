import { assert, assertEquals } from "../../../tests/_helpers/assert.ts";
import { NO_CLIENT } from "../../iam/net.ts";
import { ShareServer } from "./serve.ts";

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/** A share server whose stores are never reached by these requests. */
const server = new ShareServer({
  links: {} as never,
  core: {} as never,
  storage: {} as never,
  handleAs: (() => {
    throw new Error("not reached");
  }) as never,
  domain: "s3.example.com",
  websiteDomain: "web.example.com",
  log: quiet,
});

const req = (url: string, method = "GET") => new Request(url, { method });

Deno.test("share paths: path style only; virtual-host and website requests are S3's keys", () => {
  assertEquals(server.response(req("http://s3.example.com/docs/_share/x"), NO_CLIENT), null);
  assertEquals(server.response(req("http://b.s3.example.com/_share/x"), NO_CLIENT), null);
  assertEquals(server.response(req("http://site.web.example.com/_share/x"), NO_CLIENT), null);
  assertEquals(server.response(req("http://s3.example.com/_sharex/y"), NO_CLIENT), null);
  assert(server.response(req("http://s3.example.com/_share/x", "PUT"), NO_CLIENT) !== null);
  assert(server.response(req("http://127.0.0.1:9000/_share/x", "DELETE"), NO_CLIENT) !== null);
});

Deno.test("share paths: a method other than GET or HEAD is 405 MethodNotAllowed", async () => {
  const res = await server.response(req("http://127.0.0.1/_share/abc", "POST"), NO_CLIENT)!;
  assertEquals(res.status, 405);
  assert((await res.text()).includes("<Code>MethodNotAllowed</Code>"));
});
