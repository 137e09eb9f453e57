/**
 * CIDR matching with a malformed prefix length: it matches nothing (a bare `/` read as `/0`
 * matched every address, so a typo in `--trusted-proxies` or in an `aws:SourceIp` condition
 * trusted or allowed everyone), and never throws (a fractional length did, answering 500).
 */
import { assertEquals } from "../../tests/_helpers/assert.ts";
import { ClientResolver, ipInCidr } from "./net.ts";

Deno.test("ipInCidr: a malformed prefix length matches nothing", () => {
  for (const cidr of ["10.0.0.0/", "10.0.0.0/8.5", "10.0.0.0/+8", "10.0.0.0/0x8", "10.0.0.0/33"]) {
    assertEquals(ipInCidr("10.1.2.3", cidr), false, cidr);
  }
  for (const cidr of ["::/", "::/64.5", "::/129"]) {
    assertEquals(ipInCidr("::1", cidr), false, cidr);
  }
  // Well-formed lengths, /0 included, still match as before.
  assertEquals(ipInCidr("10.1.2.3", "10.0.0.0/8"), true);
  assertEquals(ipInCidr("10.1.2.3", "0.0.0.0/0"), true);
  assertEquals(ipInCidr("2001:db8::1", "2001:db8::/32"), true);
  assertEquals(ipInCidr("2001:db9::1", "2001:db8::/32"), false);
});

Deno.test("ClientResolver: forwarded headers count only from a trusted proxy", () => {
  const req = (headers: Record<string, string>) => new Request("http://s3.local/", { headers });
  const forwarded = { "x-forwarded-for": "1.2.3.4", "x-forwarded-proto": "https" };
  const typo = new ClientResolver(["10.0.0.0/"]);
  assertEquals(typo.resolve(req(forwarded), "9.9.9.9"), { ip: "9.9.9.9", secure: false });
  const proxies = new ClientResolver(["10.0.0.0/8"]);
  assertEquals(proxies.resolve(req(forwarded), "10.0.0.7"), { ip: "1.2.3.4", secure: true });
  assertEquals(proxies.resolve(req(forwarded), "9.9.9.9"), { ip: "9.9.9.9", secure: false });
  assertEquals(proxies.resolve(req(forwarded), null), { ip: null, secure: false });
});
