/**
 * A bucket's ACL (GetBucketAcl / PutBucketAcl) or, with `objectKey`, its object's (GetObjectAcl /
 * PutObjectAcl of the latest version): the owner, the grants as a table, a canned ACL applied with
 * `x-amz-acl`, and grant rows added or removed and sent as AccessControlPolicy XML.
 */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import {
  type Acl,
  aclXml,
  ALL_USERS,
  AUTHENTICATED_USERS,
  CANNED_ACLS,
  type Grant,
  granteeLabel,
  type GranteeType,
  LOG_DELIVERY,
  parseAcl,
  type Permission,
  PERMISSIONS,
} from "./access_xml.ts";
import { useActions } from "./actions.ts";
import { errorText } from "./api.ts";
import { type BucketRef, documentBody, s3 } from "./s3.ts";
import { ActionsTh, Alerts, Loading } from "./ui.tsx";

const GROUPS: [string, string][] = [
  [ALL_USERS, "AllUsers (everyone, anonymous too)"],
  [AUTHENTICATED_USERS, "AuthenticatedUsers (any signed caller)"],
  [LOG_DELIVERY, "LogDelivery"],
];

export function AclEditor({ bucket, objectKey = "" }: { bucket: BucketRef; objectKey?: string }) {
  // The object's editor sits in the object details dialog: its own ids.
  const idp = objectKey ? "object-" : "";
  const acl = useSignal<Acl | null>(null);
  const { error, notice, act } = useActions(() => load(), errorText);
  const granteeType = useSignal<GranteeType>("CanonicalUser");

  const load = async () => {
    try {
      acl.value = parseAcl(await (await s3("GET", bucket, objectKey, { acl: "" })).text());
    } catch (e) {
      error.value = errorText(e);
    }
  };
  useEffect(() => {
    load();
  }, []);

  const put = (init: () => Promise<RequestInit>, ok: string) =>
    act(async () => s3("PUT", bucket, objectKey, { acl: "" }, await init()), ok);

  const saveGrants = (grants: Grant[], ok: string) => {
    if (!acl.value) return;
    const owner = acl.value.owner;
    return put(() => documentBody(aclXml({ owner, grants })), ok);
  };

  const add = (ev: Event) => {
    ev.preventDefault();
    const form = ev.currentTarget as HTMLFormElement;
    const f = new FormData(form);
    const g: Grant = {
      type: granteeType.value,
      value: String(f.get("grantee") ?? "").trim(),
      permission: String(f.get("permission")) as Permission,
    };
    form.reset();
    saveGrants([...(acl.value?.grants ?? []), g], "Grant added.");
  };

  const applyCanned = (ev: Event) => {
    ev.preventDefault();
    const canned = String(new FormData(ev.currentTarget as HTMLFormElement).get("canned"));
    put(() => Promise.resolve({ headers: { "x-amz-acl": canned } }), `ACL set to ${canned}.`);
  };

  const a = acl.value;
  return (
    <section class="panel stack-wide" id={`${idp}acl-editor`}>
      <h2>{objectKey ? "Object ACL" : "Access control list"}</h2>
      <Alerts error={error.value} notice={notice.value} />
      {!a ? (error.value ? null : <Loading />) : (
        <>
          <p>
            Owner: <strong data-owner>{a.owner.displayName ?? a.owner.id}</strong>{" "}
            <code class="hint">{a.owner.id}</code>
          </p>
          <table>
            <thead>
              <tr>
                <th>Grantee</th>
                <th>Type</th>
                <th>Permission</th>
                <ActionsTh />
              </tr>
            </thead>
            <tbody>
              {a.grants.map((g, i) => (
                <tr key={`${g.type}/${g.value}/${g.permission}/${i}`} data-acl-grant={i}>
                  <td>{granteeLabel(g)}</td>
                  <td>{g.type}</td>
                  <td>{g.permission}</td>
                  <td>
                    <button
                      type="button"
                      onClick={() =>
                        saveGrants(
                          a.grants.filter((_, j) =>
                            j !== i
                          ),
                          "Grant removed.",
                        )}
                    >
                      Remove<span class="sr-only">grant {i + 1}</span>
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      <form class="row" onSubmit={applyCanned} id={`${idp}canned-acl-form`}>
        <label>
          Canned ACL
          <select name="canned">
            {CANNED_ACLS.map((c) => <option key={c} value={c}>{c}</option>)}
          </select>
        </label>
        <button type="submit">Apply</button>
      </form>
      <form class="row" onSubmit={add} id={`${idp}acl-grant-form`}>
        <label>
          Grantee type
          <select
            name="type"
            value={granteeType.value}
            onChange={(e) =>
              granteeType.value = (e.currentTarget as HTMLSelectElement).value as GranteeType}
          >
            <option value="CanonicalUser">User (canonical id)</option>
            <option value="Group">Group</option>
            <option value="AmazonCustomerByEmail">User (email)</option>
          </select>
        </label>
        <label>
          Grantee
          {granteeType.value === "Group"
            ? (
              <select name="grantee">
                {GROUPS.map(([uri, label]) => <option key={uri} value={uri}>{label}</option>)}
              </select>
            )
            : (
              <input
                name="grantee"
                required
                placeholder={granteeType.value === "CanonicalUser" ? "user id" : "email"}
              />
            )}
        </label>
        <label>
          Permission
          <select name="permission">
            {PERMISSIONS.map((p) => <option key={p} value={p}>{p}</option>)}
          </select>
        </label>
        <button type="submit" disabled={!a}>Add grant</button>
      </form>
    </section>
  );
}
