import { assert, assertEquals, assertRejects } from "../../tests/_helpers/assert.ts";
import { addressRange, checkEndpoint, EndpointRefused, isPublicAddress } from "./outbound.ts";

const strict = { allowPrivate: false };
async function refusedBy(fn: () => Promise<unknown>): Promise<void> {
  assert(await assertRejects(fn) instanceof EndpointRefused);
}
const noDns = () => Promise.reject(new Error("no lookup expected"));

Deno.test("outbound: address classes", () => {
  for (const ip of ["127.0.0.1", "10.1.2.3", "172.16.0.9", "192.168.1.1", "169.254.169.254"]) {
    assertEquals(isPublicAddress(ip), false, ip);
  }
  for (const ip of ["::1", "fe80::1", "fd00::5", "::ffff:127.0.0.1", "0.0.0.0", "100.64.0.1"]) {
    assertEquals(isPublicAddress(ip), false, ip);
  }
  assertEquals(isPublicAddress("93.184.216.34"), true);
  assertEquals(isPublicAddress("2606:4700::1111"), true);
  assertEquals(addressRange("::ffff:10.0.0.1"), "private");
});

Deno.test("outbound: literal hosts, names and the operator's allowance", async () => {
  await refusedBy(
    () => checkEndpoint("http://127.0.0.1:9000/x", strict, noDns),
  );
  await refusedBy(() => checkEndpoint("http://[::1]:9000/", strict, noDns));
  await refusedBy(() => checkEndpoint("http://localhost/", strict, noDns));
  await refusedBy(() => checkEndpoint("ftp://example.com/", strict, noDns));
  await refusedBy(
    () => checkEndpoint("http://u:p@example.com/", strict, noDns),
  );
  await refusedBy(() => checkEndpoint("not a url", strict, noDns));
  // A public name that resolves to a private address is refused (and says which).
  const e = await assertRejects(
    () => checkEndpoint("https://hook.example.com/", strict, () => Promise.resolve(["10.0.0.7"])),
  ) as Error;
  assert(e instanceof EndpointRefused);
  assertEquals(e.message.includes("10.0.0.7"), true);
  const ok = await checkEndpoint(
    "https://hook.example.com/in",
    strict,
    () => Promise.resolve(["93.184.216.34", "2606:4700::1111"]),
  );
  assertEquals(ok.pathname, "/in");
  assertEquals(
    (await checkEndpoint("http://127.0.0.1:9000/x", { allowPrivate: true }, noDns)).port,
    "9000",
  );
});
