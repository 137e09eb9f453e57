/**
 * `deno bench server/iam/authorize_bench.ts`: what authorizing one request costs through the one
 * evaluator (issue 15's target: under 20 µs with a 20-statement bucket policy and ACLs). The
 * server runs in-process; the requests are decided, not sent: identity policies, the bucket
 * policy, the public access block and the ACLs are all read through their caches as a real
 * request reads them.
 */
import { startApp } from "../../tests/_helpers/app.ts";
import { NO_CLIENT } from "./net.ts";
import { createTenant } from "./tenants.ts";
import { createUser } from "./users.ts";
import { principalOf } from "./access_keys.ts";

const h = await startApp();
const { app } = h;
const core = app.iam.core;
const owner = createTenant(core, { name: "owner-t" });
const other = createTenant(core, { name: "other-t" });
const ownerUser = await createUser(core, {
  username: "bench-owner",
  password: "bench-owner-Password-1",
  role: "tenant_user",
  tenantId: owner.id,
});
const reader = await createUser(core, {
  username: "bench-reader",
  password: "bench-reader-Password-1",
  role: "tenant_user",
  tenantId: other.id,
});
const ownerP = {
  ...principalOf({ id: ownerUser.id, username: "bench-owner", role: "tenant_user" }),
  tenantId: owner.id,
};
const readerP = {
  ...principalOf({ id: reader.id, username: "bench-reader", role: "tenant_user" }),
  tenantId: other.id,
};
const s3 = (method: string, path: string, body?: string, headers: Record<string, string> = {}) =>
  app.handleAs(
    new Request(`http://127.0.0.1${path}`, {
      method,
      body,
      headers: body === undefined ? headers : { ...headers, "content-length": String(body.length) },
    }),
    ownerP,
    NO_CLIENT,
  );
for (
  const res of [
    await s3("PUT", "/data", undefined, { "x-amz-acl": "authenticated-read" }),
    await s3("PUT", "/data/photos/cat.jpg", "meow", { "x-amz-acl": "public-read" }),
  ]
) {
  if (res.status !== 200) throw new Error(`setup: ${res.status} ${await res.text()}`);
}
const statements = Array.from({ length: 20 }, (_, i) => ({
  Sid: `S${i}`,
  Effect: i === 19 ? "Allow" : i % 5 === 0 ? "Deny" : "Allow",
  Principal: i % 3 === 0 ? "*" : {
    AWS: [
      i % 2 ? "arn:aws:iam::other-t:user/bench-reader" : "arn:aws:iam::other-t:root",
      "arn:aws:iam::owner-t:root",
    ],
  },
  Action: i % 2 === 0 ? ["s3:GetObject", "s3:GetObjectVersion"] : "s3:Put*",
  Resource: i === 19 ? "arn:aws:s3:::data/photos/*" : `arn:aws:s3:::data/prefix-${i}/*`,
  Condition: i % 4 === 0
    ? {
      IpAddress: { "aws:SourceIp": ["10.0.0.0/8", "192.168.0.0/16"] },
      StringLike: { "aws:UserAgent": "*backup*" },
    }
    : undefined,
}));
const put = await s3(
  "PUT",
  "/data?policy",
  JSON.stringify({ Version: "2012-10-17", Statement: statements }),
);
if (put.status !== 204) throw new Error(`policy: ${put.status} ${await put.text()}`);
const bucket = await app.storage.backend.getBucket(owner.id, "data");
const view = {
  query: new URLSearchParams(),
  headers: new Headers({ "user-agent": "bench" }),
  client: { ip: "203.0.113.7", secure: false },
};
const decide = (p: typeof ownerP | null, name: string) =>
  app.iam.authorizer.decide(view, p, "GetObject", bucket, name, "photos/cat.jpg");
for (
  const [p, name] of [[ownerP, "data"], [readerP, "owner-t:data"], [null, "owner-t:data"]] as const
) {
  const d = await decide(p, name);
  if (!d.allowed) {
    throw new Error(`expected an Allow for ${p?.displayName ?? "anonymous"}: ${d.by}`);
  }
}

Deno.bench(
  "authorize GetObject: the bucket owner (namespace rule, policy checked for Deny)",
  async () => {
    await decide(ownerP, "data");
  },
);
Deno.bench(
  "authorize GetObject: another tenant's user (20-statement policy, then ACLs)",
  async () => {
    await decide(readerP, "owner-t:data");
  },
);
Deno.bench(
  "authorize GetObject: anonymous (20-statement policy, then the object's ACL)",
  async () => {
    await decide(null, "owner-t:data");
  },
);
globalThis.addEventListener("unload", () => h.stop());
