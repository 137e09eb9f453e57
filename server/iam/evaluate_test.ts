/** The order of the one evaluator: Deny anywhere wins; same namespace any Allow; others the bucket's. */
import { assertEquals } from "../../tests/_helpers/assert.ts";
import {
  type AccessSources,
  decideAccess,
  DEFAULT_DENY,
  NO_MATCH,
  type Verdict,
} from "./evaluate.ts";

const allow = (by: string): Verdict => ({ effect: "Allow", by });
const deny = (by: string): Verdict => ({ effect: "Deny", by });

function sources(
  over: Partial<Record<keyof AccessSources, unknown>>,
  asked: string[],
): AccessSources {
  const v = (name: string, value: unknown) => () => {
    asked.push(name);
    return value ?? NO_MATCH;
  };
  const p = (name: string, value: unknown) => () => {
    asked.push(name);
    return Promise.resolve((value ?? NO_MATCH) as Verdict);
  };
  return {
    sameNamespace: (over.sameNamespace as boolean | undefined) ?? true,
    identity: v("identity", over.identity) as () => Verdict,
    namespaceRules: v("rules", over.namespaceRules) as () => Verdict,
    bucketPolicy: p("policy", over.bucketPolicy),
    acl: p("acl", over.acl),
  };
}

Deno.test("decideAccess: explicit Deny of identity or bucket policy wins over every Allow", async () => {
  const asked: string[] = [];
  assertEquals(
    await decideAccess(sources({ identity: deny("id"), namespaceRules: allow("owner") }, asked)),
    { allowed: false, by: "id" },
  );
  assertEquals(
    await decideAccess(
      sources({ namespaceRules: allow("owner"), bucketPolicy: deny("stmt") }, []),
    ),
    { allowed: false, by: "stmt" },
  );
});

Deno.test("decideAccess: in the namespace any Allow; the ACL is read last, only when needed", async () => {
  const asked: string[] = [];
  assertEquals(
    await decideAccess(sources({ namespaceRules: allow("owner") }, asked)),
    { allowed: true, by: "owner" },
  );
  assertEquals(asked.includes("acl"), false);
  assertEquals(
    await decideAccess(sources({ identity: allow("id") }, [])),
    { allowed: true, by: "id" },
  );
  assertEquals(await decideAccess(sources({ acl: allow("grant") }, [])), {
    allowed: true,
    by: "grant",
  });
  assertEquals(await decideAccess(sources({}, [])), { allowed: false, by: DEFAULT_DENY });
});

Deno.test("decideAccess: across namespaces only the bucket's side allows", async () => {
  const cross = { sameNamespace: false };
  assertEquals(
    (await decideAccess(
      sources({ ...cross, identity: allow("id"), namespaceRules: allow("x") }, []),
    ))
      .allowed,
    false,
  );
  assertEquals(
    await decideAccess(sources({ ...cross, bucketPolicy: allow("stmt") }, [])),
    { allowed: true, by: "stmt" },
  );
  assertEquals(
    await decideAccess(sources({ ...cross, acl: allow("AllUsers READ") }, [])),
    { allowed: true, by: "AllUsers READ" },
  );
  assertEquals(
    (await decideAccess(sources({ ...cross, identity: deny("id"), acl: allow("g") }, []))).allowed,
    false,
  );
});
