/**
 * The policy simulator (`POST /api/v1/access/simulate`): a principal, an operation, a bucket and
 * key, a source address and TLS; the server's own evaluator answers Allowed or Denied and what
 * decided (the policy statement, ACL grant, bucket grant or rule).
 */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { api, errorText, listOf } from "./api.ts";
import { Alerts } from "./ui.tsx";

interface Result {
  allowed: boolean;
  by: string;
  principal: string;
  op: string;
  bucket: { name: string; account: string | null };
  key: string | null;
}

export interface PolicySimulatorProps {
  /** The operations the server simulates (SIMULATED_OPS). */
  ops: readonly string[];
  /** A fixed bucket (the Permissions page); absent: typed in (`bucket` or `tenant:bucket`). */
  bucket?: string;
  /** The namespace of a fixed bucket ("" = the caller's own). */
  tenantId?: string;
}

export function PolicySimulator({ ops, bucket, tenantId = "" }: PolicySimulatorProps) {
  const result = useSignal<Result | null>(null);
  const error = useSignal("");
  const busy = useSignal(false);
  const users = useSignal<string[]>([]);

  useEffect(() => {
    api("users", { query: { tenantId } })
      .then((d) => users.value = listOf<{ username: string }>(d).map((u) => u.username))
      .catch(() => {});
  }, [tenantId]);

  const submit = async (ev: Event) => {
    ev.preventDefault();
    const f = new FormData(ev.currentTarget as HTMLFormElement);
    const field = (k: string) => String(f.get(k) ?? "").trim();
    error.value = "";
    result.value = null;
    busy.value = true;
    try {
      result.value = await api<Result>("access/simulate", {
        body: {
          principal: field("principal"),
          op: field("op"),
          bucket: bucket ?? field("bucket"),
          ...(bucket !== undefined && tenantId ? { tenantId } : {}),
          key: field("key"),
          sourceIp: field("sourceIp"),
          secure: f.get("secure") === "on",
        },
      }) as unknown as Result;
    } catch (e) {
      error.value = errorText(e);
    } finally {
      busy.value = false;
    }
  };

  const r = result.value;
  return (
    <section class="panel stack-wide" id="policy-simulator">
      <h2>Policy simulator</h2>
      <p class="hint">
        Would this request be allowed? The server's own evaluator answers, with what decided it.
      </p>
      <form class="stack" onSubmit={submit}>
        <div class="row">
          <label>
            Principal
            <input name="principal" required list="sim-principals" placeholder="username" />
            <datalist id="sim-principals">
              <option value="anonymous" />
              <option value="root" />
              {users.value.map((u) => <option key={u} value={u} />)}
            </datalist>
            <span class="hint">A username (any tenant), anonymous or root.</span>
          </label>
          <label>
            Operation
            <select name="op">
              {ops.map((o) => <option key={o} value={o}>{o}</option>)}
            </select>
          </label>
          {bucket === undefined && (
            <label>
              Bucket <input name="bucket" required placeholder="bucket or tenant:bucket" />
            </label>
          )}
          <label>
            Key <input name="key" placeholder="photos/cat.jpg" />
          </label>
          <label>
            Source IP <input name="sourceIp" placeholder="203.0.113.7" />
          </label>
          <label class="check">
            <input type="checkbox" name="secure" /> TLS
          </label>
        </div>
        <div>
          <button class="primary" type="submit" disabled={busy.value}>Simulate</button>
        </div>
      </form>
      <Alerts error={error.value} />
      {r && (
        <div
          class={`sim-result ${r.allowed ? "ok" : "bad"}`}
          id="simulation-result"
          data-allowed={String(r.allowed)}
          role="status"
        >
          <strong class="sim-verdict">{r.allowed ? "Allowed" : "Denied"}</strong>
          <div>
            {r.principal} · {r.op} · {r.bucket.account ? `${r.bucket.account}:` : ""}
            {r.bucket.name}
            {r.key !== null && `/${r.key}`}
          </div>
          <div>
            Decided by: <span data-by>{r.by}</span>
          </div>
        </div>
      )}
    </section>
  );
}
