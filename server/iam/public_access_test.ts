import { Buffer } from "node:buffer";
import { assert, assertEquals } from "../../tests/_helpers/assert.ts";
import { openDb } from "../db/mod.ts";
import { parseXmlDocument } from "../s3/xml.ts";
import { S3Error } from "../s3/errors.ts";
import type { IamCore } from "./core.ts";
import { getSettings, isSettingsProblem, updateSettings } from "./settings.ts";
import { SecretBox } from "./secrets.ts";
import { createTenant, deleteTenant } from "./tenants.ts";
import { IamError } from "./errors.ts";
import { withStorage } from "../../tests/_helpers/storage.ts";
import {
  effectivePublicAccessBlock,
  getGlobalPublicAccessBlock,
  getTenantPublicAccessBlock,
  noPublicAccessBlock,
  parsePublicAccessBlock,
  PUBLIC_ACCESS_BLOCK_CONFIG,
  type PublicAccessBlock,
  publicAccessBlockFor,
  publicAccessBlockFromJson,
  publicAccessBlockXml,
  putGlobalPublicAccessBlock,
  putTenantPublicAccessBlock,
} from "./public_access.ts";

const NS = "http://s3.amazonaws.com/doc/2006-03-01/";
const parse = (inner: string) =>
  parsePublicAccessBlock(
    parseXmlDocument(
      `<PublicAccessBlockConfiguration xmlns="${NS}">${inner}</PublicAccessBlockConfiguration>`,
      "PublicAccessBlockConfiguration",
    ),
  );

function thrownCode(run: () => unknown): string | null {
  try {
    run();
  } catch (e) {
    if (e instanceof S3Error || e instanceof IamError) return e.code;
    throw e;
  }
  return null;
}

function testCore(): IamCore {
  const key = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64");
  return {
    db: openDb(":memory:"),
    box: new SecretBox(key),
    signingKey: key,
    clock: { now: () => 1_800_000_000_000 },
  };
}

Deno.test("PublicAccessBlockConfiguration: absent elements are false, values as sent", () => {
  assertEquals(parse(""), noPublicAccessBlock());
  assertEquals(parse("<BlockPublicAcls>true</BlockPublicAcls>"), {
    ...noPublicAccessBlock(),
    blockPublicAcls: true,
  });
  assertEquals(
    parse(
      "<RestrictPublicBuckets>true</RestrictPublicBuckets><BlockPublicPolicy>false</BlockPublicPolicy>" +
        "<IgnorePublicAcls> true </IgnorePublicAcls><BlockPublicAcls>false</BlockPublicAcls>",
    ),
    {
      blockPublicAcls: false,
      ignorePublicAcls: true,
      blockPublicPolicy: false,
      restrictPublicBuckets: true,
    },
  );
});

Deno.test("PublicAccessBlockConfiguration: anything else is MalformedXML", () => {
  for (
    const inner of [
      "<BlockPublicAcls>yes</BlockPublicAcls>",
      "<BlockPublicAcls></BlockPublicAcls>",
      "<BlockPublicAcls>TRUE</BlockPublicAcls>",
      "<BlockPublicAcls>true</BlockPublicAcls><BlockPublicAcls>false</BlockPublicAcls>",
      "<BlockPublicAccess>true</BlockPublicAccess>",
      "<BlockPublicAcls><V>true</V></BlockPublicAcls>",
      "text<BlockPublicAcls>true</BlockPublicAcls>",
    ]
  ) {
    assertEquals(thrownCode(() => parse(inner)), "MalformedXML", inner);
  }
  assertEquals(
    thrownCode(() => parseXmlDocument("<PublicAccessBlock/>", "PublicAccessBlockConfiguration")),
    "MalformedXML",
  );
});

Deno.test("publicAccessBlockXml writes every flag in AWS's order and reads back", () => {
  const pab: PublicAccessBlock = {
    blockPublicAcls: true,
    ignorePublicAcls: false,
    blockPublicPolicy: true,
    restrictPublicBuckets: false,
  };
  const xml = publicAccessBlockXml(pab);
  assertEquals(
    xml,
    `<?xml version="1.0" encoding="UTF-8"?>\n<PublicAccessBlockConfiguration xmlns="${NS}">` +
      "<BlockPublicAcls>true</BlockPublicAcls><IgnorePublicAcls>false</IgnorePublicAcls>" +
      "<BlockPublicPolicy>true</BlockPublicPolicy><RestrictPublicBuckets>false</RestrictPublicBuckets>" +
      "</PublicAccessBlockConfiguration>",
  );
  assertEquals(
    parsePublicAccessBlock(parseXmlDocument(xml, "PublicAccessBlockConfiguration")),
    pab,
  );
});

Deno.test("effectivePublicAccessBlock ORs each flag of bucket, tenant and global", () => {
  const only = (k: keyof PublicAccessBlock) => ({ ...noPublicAccessBlock(), [k]: true });
  assertEquals(effectivePublicAccessBlock(null, null, null), noPublicAccessBlock());
  assertEquals(
    effectivePublicAccessBlock(only("blockPublicAcls"), only("ignorePublicAcls"), null),
    { ...noPublicAccessBlock(), blockPublicAcls: true, ignorePublicAcls: true },
  );
  assertEquals(
    effectivePublicAccessBlock(noPublicAccessBlock(), null, only("restrictPublicBuckets")),
    only("restrictPublicBuckets"),
  );
  // A level that clears a flag does not clear it at another level.
  assertEquals(
    effectivePublicAccessBlock(noPublicAccessBlock(), only("blockPublicPolicy"), null),
    only("blockPublicPolicy"),
  );
});

Deno.test("publicAccessBlockFromJson: booleans only, absent false", () => {
  assertEquals(publicAccessBlockFromJson({}), noPublicAccessBlock());
  assertEquals(publicAccessBlockFromJson({ blockPublicPolicy: true }).blockPublicPolicy, true);
  for (const bad of [null, [], "x", { blockPublicAcls: "true" }, { blockPublicAccess: true }]) {
    assertEquals(thrownCode(() => publicAccessBlockFromJson(bad)), "InvalidRequest");
  }
});

Deno.test("tenant blocks are settings rows, removed with the tenant; the global one a setting", async () => {
  const core = testCore();
  const t = createTenant(core, { name: "acme" });
  assertEquals(getTenantPublicAccessBlock(core, t.id), null);
  const pab = { ...noPublicAccessBlock(), ignorePublicAcls: true };
  putTenantPublicAccessBlock(core, t.id, pab);
  assertEquals(getTenantPublicAccessBlock(core, t.id), pab);
  // The row is not a setting of /settings.
  assert(!("publicAccessBlock/" + t.id in getSettings(core)));
  putTenantPublicAccessBlock(core, t.id, null);
  assertEquals(getTenantPublicAccessBlock(core, t.id), null);
  putTenantPublicAccessBlock(core, t.id, pab);
  await deleteTenant(core, t.id);
  assertEquals(getTenantPublicAccessBlock(core, t.id), null);

  assertEquals(getGlobalPublicAccessBlock(core), noPublicAccessBlock());
  await putGlobalPublicAccessBlock(core, { ...noPublicAccessBlock(), blockPublicAcls: true });
  assertEquals(getGlobalPublicAccessBlock(core).blockPublicAcls, true);
  // A stored block that names some flags keeps the others false.
  assert(
    !isSettingsProblem(
      await updateSettings(core, { publicAccessBlock: { blockPublicPolicy: true } }),
    ),
  );
  assertEquals(getGlobalPublicAccessBlock(core), {
    ...noPublicAccessBlock(),
    blockPublicPolicy: true,
  });
  assertEquals(
    problemOf(await updateSettings(core, { publicAccessBlock: { blockPublicPolicy: "yes" } })),
    "publicAccessBlock.blockPublicPolicy must be a boolean",
  );
  assertEquals(
    problemOf(await updateSettings(core, { publicAccessBlock: { other: true } })),
    'unknown field "other" of publicAccessBlock',
  );
  assertEquals(
    problemOf(await updateSettings(core, { publicAccessBlock: true })),
    "publicAccessBlock must be an object",
  );
  assertEquals(getGlobalPublicAccessBlock(core).blockPublicPolicy, true);
  core.db.close();
});

Deno.test("publicAccessBlockFor reads the bucket's, its tenant's and the global block", async () => {
  await withStorage("maxiofs-pab-", async (s) => {
    const core = { ...testCore(), storage: s.backend };
    const t = createTenant(core, { name: "acme" });
    const b = await s.backend.createBucket({ ns: t.id, name: "pics", ownerId: "u", region: "r" });
    const g = await s.backend.createBucket({ ns: "", name: "pics", ownerId: "u", region: "r" });
    assertEquals(await publicAccessBlockFor(core, s.backend, b.ns, b), noPublicAccessBlock());
    await s.backend.putBucketConfig(b.id, PUBLIC_ACCESS_BLOCK_CONFIG, {
      ...noPublicAccessBlock(),
      blockPublicAcls: true,
    });
    putTenantPublicAccessBlock(core, t.id, { ...noPublicAccessBlock(), ignorePublicAcls: true });
    await putGlobalPublicAccessBlock(core, {
      ...noPublicAccessBlock(),
      restrictPublicBuckets: true,
    });
    assertEquals(await publicAccessBlockFor(core, s.backend, b.ns, b), {
      blockPublicAcls: true,
      ignorePublicAcls: true,
      blockPublicPolicy: false,
      restrictPublicBuckets: true,
    });
    // A global bucket has no tenant block; the bucket's own is per bucket.
    assertEquals(await publicAccessBlockFor(core, s.backend, g.ns, g), {
      ...noPublicAccessBlock(),
      restrictPublicBuckets: true,
    });
    core.db.close();
  });
});

/** The message of a refused settings change; null when it was stored. */
function problemOf(out: Awaited<ReturnType<typeof updateSettings>>): string | null {
  return isSettingsProblem(out) ? out.message : null;
}
