import { assertEquals } from "../../../tests/_helpers/assert.ts";
import { afterDays, expirationHeader, expirationOf, ruleMatches } from "./rules.ts";
import type { LifecycleConfig } from "./config.ts";
import type { ObjectRecord } from "../../storage/types.ts";

const rec = (over: Partial<ObjectRecord>): ObjectRecord => ({
  v: 1,
  key: "logs/a",
  versionId: "null",
  blob: "b",
  size: 10,
  etag: '"x"',
  lastModified: Date.UTC(2024, 0, 1, 10, 30),
  content: {},
  meta: {},
  storageClass: "STANDARD",
  ownerId: "o",
  ...over,
});

Deno.test("expiry days round up to the next midnight UTC", () => {
  assertEquals(afterDays(Date.UTC(2024, 0, 1, 10, 30), 1), Date.UTC(2024, 0, 3));
  assertEquals(afterDays(Date.UTC(2024, 0, 1), 1), Date.UTC(2024, 0, 2));
});

Deno.test("filters: prefix, tags and strict size bounds; markers never match tags", () => {
  const rule = {
    id: "r",
    status: "Enabled" as const,
    filter: { prefix: "logs/", tags: [["t", "1"]] as [string, string][], sizeGt: 5, sizeLt: 11 },
    expiration: { days: 1 },
  };
  assertEquals(ruleMatches(rule, rec({ tags: { t: "1" } })), true);
  assertEquals(ruleMatches(rule, rec({ tags: { t: "2" } })), false);
  assertEquals(ruleMatches(rule, rec({ tags: { t: "1" }, size: 11 })), false);
  assertEquals(ruleMatches(rule, rec({ tags: { t: "1" }, key: "other" })), false);
  assertEquals(ruleMatches(rule, rec({ deleteMarker: true })), false);
});

Deno.test("the earliest enabled rule names the expiration header", () => {
  const cfg: LifecycleConfig = {
    v: 1,
    rules: [
      { id: "late", status: "Enabled", filter: {}, expiration: { days: 30 } },
      { id: "soon", status: "Enabled", filter: { prefix: "logs/" }, expiration: { days: 2 } },
      { id: "off", status: "Disabled", filter: {}, expiration: { days: 1 } },
    ],
  };
  const e = expirationOf(cfg, rec({}))!;
  assertEquals(e, { at: Date.UTC(2024, 0, 4), ruleId: "soon" });
  assertEquals(expirationHeader(e), 'expiry-date="Thu, 04 Jan 2024 00:00:00 GMT", rule-id="soon"');
});
