/**
 * A bucket's Replication tab (administrators): the rules with their queue figures (pause,
 * resume, sync now), the rules editor, the failure list with retry, and the namespace's
 * destinations (registered with their credentials, which are never shown again).
 * API: /api/v1/buckets/:bucket/replication and /api/v1/replication/destinations (docs/api.md).
 */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { useActions } from "./lib/actions.ts";
import { api, formatBytes, formatTime } from "./lib/api.ts";
import { ActionsTh, Alerts, CreatePanel, Loading } from "./lib/ui.tsx";

interface Rule {
  id: string;
  priority?: number;
  status: "Enabled" | "Disabled";
  legacyPrefix?: string;
  filter?: { prefix?: string; tags?: [string, string][] };
  destination: string;
  storageClass?: string;
  deleteMarkers: boolean;
  existingObjects: boolean;
  paused: boolean;
  queued: number;
  dead: number;
  lagMs: number | null;
}

interface Failure {
  id: number;
  ruleId: string;
  key: string;
  versionId: string | null;
  op: string;
  state: "queued" | "dead";
  attempts: number;
  nextAt: number;
  lastError: string | null;
}

interface Status {
  mode: { mode: "realtime" | "scheduled" | "manual"; intervalSeconds: number | null };
  rules: Rule[];
  failures: Failure[];
  totals: { done: number; failed: number; bytes: number };
}

interface Destination {
  name: string;
  endpoint: string;
  region: string;
  bucket: string;
  pathStyle: boolean;
  accessKey: string;
}

/** One rule of the editor, as the API's PUT takes it. */
interface EditRule {
  id: string;
  prefix: string;
  tags?: { key: string; value: string }[];
  destination: string;
  storageClass?: string;
  deleteMarkers: boolean;
  existingObjects?: boolean;
  enabled: boolean;
}

/** A stored rule as the editor sends it back (kept whole when another rule changes). */
const editOf = (r: Rule): EditRule => ({
  id: r.id,
  prefix: r.legacyPrefix ?? r.filter?.prefix ?? "",
  tags: (r.filter?.tags ?? []).map(([key, value]) => ({ key, value })),
  destination: r.destination,
  storageClass: r.storageClass,
  deleteMarkers: r.deleteMarkers,
  existingObjects: r.existingObjects,
  enabled: r.status === "Enabled",
});

export default function BucketReplication({ bucket, tenantId }: {
  bucket: string;
  tenantId: string;
}) {
  const status = useSignal<Status | null>(null);
  const dests = useSignal<Destination[] | null>(null);
  const openDest = useSignal(false);
  const base = `buckets/${encodeURIComponent(bucket)}/replication`;
  const query = { tenantId };
  const load = async () => {
    const [s, d] = await Promise.all([
      api<Status>(base, { query }),
      api<{ destinations: Destination[] }>("replication/destinations", { query }),
    ]);
    status.value = s;
    dests.value = d.destinations;
  };
  const { error, notice, act } = useActions(load);
  useEffect(() => {
    load().catch((e) => error.value = (e as Error).message);
  }, []);

  const saveRules = (rules: EditRule[]) =>
    act(
      () =>
        api(base, {
          method: "PUT",
          query,
          body: { rules: rules.map((r, i) => ({ ...r, priority: i + 1 })) },
        }),
      rules.length ? "Replication rules saved." : "Replication rules removed.",
    );

  const addRule = (ev: Event) => {
    ev.preventDefault();
    const form = ev.currentTarget as HTMLFormElement;
    const f = new FormData(form);
    const rule: EditRule = {
      id: String(f.get("id") ?? "").trim() || `rule-${(status.value?.rules.length ?? 0) + 1}`,
      prefix: String(f.get("prefix") ?? ""),
      destination: String(f.get("destination") ?? ""),
      deleteMarkers: f.get("deleteMarkers") === "on",
      enabled: true,
    };
    saveRules([...(status.value?.rules ?? []).map(editOf), rule]).then(() => form.reset());
  };

  const addDest = (ev: Event) => {
    ev.preventDefault();
    const form = ev.currentTarget as HTMLFormElement;
    const f = new FormData(form);
    const name = String(f.get("name") ?? "");
    act(
      () =>
        api(`replication/destinations/${encodeURIComponent(name)}`, {
          method: "PUT",
          query,
          body: {
            endpoint: String(f.get("endpoint") ?? ""),
            region: String(f.get("region") ?? "") || undefined,
            bucket: String(f.get("bucket") ?? ""),
            accessKey: String(f.get("accessKey") ?? ""),
            secretKey: String(f.get("secretKey") ?? ""),
            pathStyle: f.get("virtualHost") !== "on",
            conflict: f.get("keepNewer") === "on" ? "newer" : "source",
          },
        }).then(() => form.reset()),
      `Destination ${name} saved.`,
    );
  };

  const saveMode = (ev: Event) => {
    ev.preventDefault();
    const f = new FormData(ev.currentTarget as HTMLFormElement);
    const mode = String(f.get("mode"));
    const interval = Number(f.get("interval") || 0) * 60;
    act(
      () =>
        api(`${base}/mode`, {
          method: "PUT",
          query,
          body: { mode, intervalSeconds: mode === "scheduled" ? interval : null },
        }),
      "Replication mode saved.",
    );
  };

  const s = status.value;
  return (
    <div class="stack-wide" id="bucket-replication">
      <Alerts error={error.value} notice={notice.value} />
      <section class="panel stack-wide">
        <div class="row spread">
          <h2>Rules</h2>
          <button
            type="button"
            id="replication-sync"
            disabled={!s?.rules.length}
            onClick={() =>
              act(
                () => api(`${base}/sync`, { query, body: {} }),
                "Sync started: objects the destinations lack are queued.",
              )}
          >
            Sync now
          </button>
        </div>
        {s === null
          ? <Loading />
          : s.rules.length === 0
          ? <p>No replication rules. Versioning must be enabled to add one.</p>
          : (
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th>Rule</th>
                    <th>Prefix</th>
                    <th>Destination</th>
                    <th>Queued</th>
                    <th>Failed</th>
                    <th class="hide-sm">Lag</th>
                    <ActionsTh />
                  </tr>
                </thead>
                <tbody>
                  {s.rules.map((r) => (
                    <tr key={r.id}>
                      <td>
                        <strong>{r.id}</strong>{" "}
                        <span class={`badge ${r.status === "Enabled" && !r.paused ? "ok" : ""}`}>
                          {r.paused ? "paused" : r.status.toLowerCase()}
                        </span>
                        {r.deleteMarkers && <span class="badge">markers</span>}
                      </td>
                      <td>
                        <code>{editOf(r).prefix || "(all)"}</code>
                      </td>
                      <td>{r.destination}</td>
                      <td>{r.queued}</td>
                      <td>{r.dead}</td>
                      <td class="hide-sm">
                        {r.lagMs === null ? "—" : `${Math.round(r.lagMs / 1000)} s`}
                      </td>
                      <td>
                        <div class="row">
                          <button
                            type="button"
                            onClick={() =>
                              act(
                                () =>
                                  api(
                                    `${base}/rules/${encodeURIComponent(r.id)}/${
                                      r.paused ? "resume" : "pause"
                                    }`,
                                    { query, body: {} },
                                  ),
                                r.paused ? `Rule ${r.id} resumed.` : `Rule ${r.id} paused.`,
                              )}
                          >
                            {r.paused ? "Resume" : "Pause"}
                          </button>
                          <button
                            type="button"
                            onClick={() =>
                              confirm(`Remove rule ${r.id}?`) &&
                              saveRules(s.rules.filter((x) => x.id !== r.id).map(editOf))}
                          >
                            Remove
                          </button>
                        </div>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        {s && (
          <form class="row" onSubmit={saveMode} id="replication-mode" key={JSON.stringify(s.mode)}>
            <label>
              Mode
              <select name="mode" value={s.mode.mode}>
                <option value="realtime">Real time (each write is queued)</option>
                <option value="scheduled">Scheduled sync</option>
                <option value="manual">Manual (sync now only)</option>
              </select>
            </label>
            <label>
              Every (minutes)
              <input
                type="number"
                name="interval"
                min="1"
                value={s.mode.intervalSeconds ? s.mode.intervalSeconds / 60 : ""}
              />
            </label>
            <button type="submit">Save mode</button>
          </form>
        )}
        {s && (
          <p class="hint">
            Since the server started: {s.totals.done} copied ({formatBytes(s.totals.bytes)}),{" "}
            {s.totals.failed} failed attempts.
          </p>
        )}
        <form class="row" onSubmit={addRule} id="replication-add-rule">
          <label>
            Rule ID <input name="id" placeholder="optional" />
          </label>
          <label>
            Prefix <input name="prefix" placeholder="(all objects)" />
          </label>
          <label>
            Destination
            <select name="destination" required>
              {(dests.value ?? []).map((d) => <option key={d.name} value={d.name}>{d.name}
              </option>)}
            </select>
          </label>
          <label class="check">
            <input type="checkbox" name="deleteMarkers" /> Replicate delete markers
          </label>
          <button class="primary" type="submit" disabled={!dests.value?.length}>
            Add rule
          </button>
        </form>
      </section>

      <section class="panel stack-wide">
        <div class="row spread">
          <h2>Failures</h2>
          <button
            type="button"
            disabled={!s?.failures.length}
            onClick={() =>
              act(() => api(`${base}/retry`, { query, body: {} }), "Failed copies queued again.")}
          >
            Retry all
          </button>
        </div>
        {s && s.failures.length === 0 && <p>No failed copies.</p>}
        {s && s.failures.length > 0 && (
          <div class="table-wrap">
            <table id="replication-failures">
              <thead>
                <tr>
                  <th>Key</th>
                  <th>Rule</th>
                  <th>Attempts</th>
                  <th>Error</th>
                  <ActionsTh />
                </tr>
              </thead>
              <tbody>
                {s.failures.map((f) => (
                  <tr key={f.id}>
                    <td>
                      <code>{f.key}</code> {f.op !== "put" && <span class="badge">{f.op}</span>}
                    </td>
                    <td>{f.ruleId}</td>
                    <td>
                      {f.attempts} {f.state === "dead"
                        ? <span class="badge bad">gave up</span>
                        : <span class="hint">next {formatTime(f.nextAt)}</span>}
                    </td>
                    <td class="hint">{f.lastError}</td>
                    <td>
                      <button
                        type="button"
                        onClick={() =>
                          act(
                            () => api(`${base}/retry`, { query, body: { id: f.id } }),
                            `${f.key} queued again.`,
                          )}
                      >
                        Retry
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <section class="stack-wide">
        <h2>Destinations</h2>
        {dests.value === null ? <Loading /> : (
          <div class="panel table-wrap">
            <table id="replication-destinations">
              <thead>
                <tr>
                  <th>Name (ARN)</th>
                  <th>Endpoint</th>
                  <th>Bucket</th>
                  <th class="hide-sm">Access key</th>
                  <ActionsTh />
                </tr>
              </thead>
              <tbody>
                {dests.value.map((d) => (
                  <tr key={d.name}>
                    <td>
                      <strong>{d.name}</strong>
                      <div class="hint">arn:aws:s3:::{d.name}</div>
                    </td>
                    <td>
                      {d.endpoint} <span class="hint">{d.region}</span>
                    </td>
                    <td>{d.bucket}</td>
                    <td class="hide-sm">
                      <code>{d.accessKey}</code>
                    </td>
                    <td>
                      <div class="row">
                        <button
                          type="button"
                          onClick={() =>
                            act(async () => {
                              const r = await api<{ ok: boolean; error?: string }>(
                                `replication/destinations/${encodeURIComponent(d.name)}/test`,
                                { query, body: {} },
                              );
                              if (!r.ok) throw new Error(`${d.name}: ${r.error}`);
                            }, `${d.name} answers.`)}
                        >
                          Test
                        </button>
                        <button
                          type="button"
                          onClick={() =>
                            confirm(`Remove destination ${d.name}?`) && act(
                              () =>
                                api(`replication/destinations/${encodeURIComponent(d.name)}`, {
                                  method: "DELETE",
                                  query,
                                }),
                              `Destination ${d.name} removed.`,
                            )}
                        >
                          Remove
                        </button>
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <CreatePanel open={openDest} title="Add destination">
          <form class="stack" onSubmit={addDest} id="replication-add-destination">
            <label>
              Name <input name="name" required pattern="[a-z0-9][a-z0-9.\-]{0,62}" />
              <span class="hint">Rules name it as arn:aws:s3:::name.</span>
            </label>
            <label>
              Endpoint URL <input name="endpoint" type="url" required placeholder="https://" />
            </label>
            <label>
              Region <input name="region" placeholder="us-east-1" />
            </label>
            <label>
              Remote bucket <input name="bucket" required />
            </label>
            <label>
              Access key <input name="accessKey" required autocomplete="off" />
            </label>
            <label>
              Secret key{" "}
              <input name="secretKey" type="password" autocomplete="new-password" required />
            </label>
            <label class="check">
              <input type="checkbox" name="virtualHost" /> Virtual-host style requests
            </label>
            <label class="check">
              <input type="checkbox" name="keepNewer" />{" "}
              Keep a destination object newer than the source's (last writer wins)
            </label>
            <div>
              <button class="primary" type="submit">Save destination</button>
            </div>
          </form>
        </CreatePanel>
      </section>
    </div>
  );
}
