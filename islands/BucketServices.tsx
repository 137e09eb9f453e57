/**
 * A bucket's inventory and server access logging (the Inventory tab): the inventory
 * configurations with a form to add or replace one, Run now, Delete, the report history (when,
 * objects listed, where the manifest was written), and the logging target. Everything goes
 * through `/api/v1/buckets/:bucket/inventory` and `/logging`, which run S3's operations as the
 * session user.
 */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { api, errorText, formatTime } from "./lib/api.ts";
import { Alerts, formField, Loading } from "./lib/ui.tsx";

interface Configuration {
  id: string;
  enabled: boolean;
  destination: { bucketArn: string; format: string; prefix?: string };
  filterPrefix?: string;
  includedVersions: "All" | "Current";
  optionalFields: string[];
  frequency: "Daily" | "Weekly";
}

interface Run {
  id: number;
  configId: string;
  startedAt: number;
  finishedAt: number | null;
  status: "running" | "done" | "failed";
  objects: number;
  bytes: number;
  files: number;
  destination: string;
  manifestKey: string | null;
  error: string | null;
}

interface Logging {
  targetBucket: string;
  targetPrefix: string;
  keyFormat: "SimplePrefix" | "PartitionedPrefix";
  dateSource?: string;
}

/** The optional fields offered by the form (S3's names). */
const FIELDS = [
  "Size",
  "LastModifiedDate",
  "ETag",
  "StorageClass",
  "IsMultipartUploaded",
  "EncryptionStatus",
  "ObjectLockRetainUntilDate",
  "ObjectLockMode",
  "ObjectLockLegalHoldStatus",
  "ChecksumAlgorithm",
  "ObjectOwner",
  "LifecycleExpirationDate",
];

export default function BucketServices({ bucket, tenantId }: { bucket: string; tenantId: string }) {
  const configs = useSignal<Configuration[] | null>(null);
  const runs = useSignal<Run[]>([]);
  const logging = useSignal<Logging | null | undefined>(undefined);
  const error = useSignal("");
  const notice = useSignal("");
  const busy = useSignal(false);
  const query = { tenantId: tenantId || undefined };
  const base = `buckets/${encodeURIComponent(bucket)}`;

  const load = async () => {
    try {
      const inv = await api<{ configurations: Configuration[]; runs: Run[] }>(
        `${base}/inventory`,
        { query },
      );
      configs.value = inv.configurations;
      runs.value = inv.runs;
      logging.value = (await api<{ logging: Logging | null }>(`${base}/logging`, { query }))
        .logging;
    } catch (e) {
      error.value = errorText(e);
    }
  };
  useEffect(() => {
    load();
  }, []);

  const act = async (what: () => Promise<unknown>, done: string) => {
    busy.value = true;
    try {
      await what();
      notice.value = done;
      error.value = "";
      await load();
    } catch (e) {
      error.value = errorText(e);
      notice.value = "";
    } finally {
      busy.value = false;
    }
  };

  const saveConfiguration = (ev: Event) => {
    ev.preventDefault();
    const form = ev.target as HTMLFormElement;
    const id = formField(ev, "id").trim();
    const fields = FIELDS.filter((f) =>
      (form.elements.namedItem(`field-${f}`) as HTMLInputElement | null)?.checked
    );
    const prefix = formField(ev, "prefix").trim();
    const filterPrefix = formField(ev, "filterPrefix").trim();
    const body = {
      enabled: (form.elements.namedItem("enabled") as HTMLInputElement).checked,
      destination: {
        bucketArn: `arn:aws:s3:::${formField(ev, "destination").trim()}`,
        format: formField(ev, "format"),
        ...(prefix ? { prefix } : {}),
      },
      ...(filterPrefix ? { filterPrefix } : {}),
      includedVersions: formField(ev, "versions"),
      optionalFields: fields,
      frequency: formField(ev, "frequency"),
    };
    act(
      () => api(`${base}/inventory/${encodeURIComponent(id)}`, { method: "PUT", body, query }),
      `Inventory configuration ${id} saved.`,
    );
  };

  const runNow = (id: string) =>
    act(
      () => api(`${base}/inventory/${encodeURIComponent(id)}/run`, { method: "POST", query }),
      `The report of ${id} was written.`,
    );

  const remove = (id: string) => {
    if (!confirm(`Delete the inventory configuration ${id}? Reports already written stay.`)) return;
    act(
      () => api(`${base}/inventory/${encodeURIComponent(id)}`, { method: "DELETE", query }),
      `Inventory configuration ${id} deleted.`,
    );
  };

  const saveLogging = (ev: Event) => {
    ev.preventDefault();
    const target = formField(ev, "targetBucket").trim();
    const body = target
      ? {
        targetBucket: target,
        targetPrefix: formField(ev, "targetPrefix"),
        keyFormat: formField(ev, "keyFormat"),
        dateSource: formField(ev, "dateSource"),
      }
      : {};
    act(
      () => api(`${base}/logging`, { method: "PUT", body, query }),
      target ? `Access logs of ${bucket} go to ${target}.` : "Access logging turned off.",
    );
  };

  const list = configs.value;
  const log = logging.value;
  return (
    <div class="stack-wide">
      <Alerts error={error.value} notice={notice.value} />
      <div class="panel" id="inventory">
        <h2>Inventory</h2>
        <p class="hint">
          Reports list the bucket's objects daily or weekly as gzip CSV files in a destination
          bucket of the same tenant, with a manifest.json, as S3 Inventory writes them.
        </p>
        {list === null
          ? <Loading />
          : list.length === 0
          ? <p data-empty>No inventory configuration.</p>
          : (
            <table data-inventory-configs>
              <thead>
                <tr>
                  <th>Id</th>
                  <th>Status</th>
                  <th>Schedule</th>
                  <th>Versions</th>
                  <th>Destination</th>
                  <th>Fields</th>
                  <th></th>
                </tr>
              </thead>
              <tbody>
                {list.map((c) => (
                  <tr key={c.id} data-config={c.id}>
                    <td>
                      <code>{c.id}</code>
                    </td>
                    <td>{c.enabled ? "Enabled" : "Disabled"}</td>
                    <td>{c.frequency}</td>
                    <td>{c.includedVersions}</td>
                    <td>
                      <code>{c.destination.bucketArn.replace("arn:aws:s3:::", "")}</code>
                      {c.destination.prefix ? ` / ${c.destination.prefix}` : ""}{" "}
                      ({c.destination.format})
                    </td>
                    <td>{c.optionalFields.join(", ") || "—"}</td>
                    <td>
                      <button
                        type="button"
                        disabled={busy.value}
                        onClick={() => runNow(c.id)}
                        data-run={c.id}
                      >
                        Run now
                      </button>{" "}
                      <button
                        type="button"
                        class="danger"
                        disabled={busy.value}
                        onClick={() => remove(c.id)}
                      >
                        Delete
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        <form class="stack" onSubmit={saveConfiguration} id="inventory-form">
          <h3>Add or replace a configuration</h3>
          <label>
            Id <input name="id" required pattern="[A-Za-z0-9._\-]{1,64}" />
          </label>
          <label>
            Destination bucket <input name="destination" required />
          </label>
          <label>
            Destination prefix <input name="prefix" />
          </label>
          <label>
            Only keys starting with <input name="filterPrefix" />
          </label>
          <label>
            Format{" "}
            <select name="format">
              <option value="CSV">CSV</option>
              <option value="JSON">JSON lines (MaxIOFS extension)</option>
            </select>
          </label>
          <label>
            Schedule{" "}
            <select name="frequency">
              <option value="Daily">Daily</option>
              <option value="Weekly">Weekly</option>
            </select>
          </label>
          <label>
            Versions{" "}
            <select name="versions">
              <option value="Current">Current only</option>
              <option value="All">All versions</option>
            </select>
          </label>
          <fieldset>
            <legend>Additional fields</legend>
            {FIELDS.map((f) => (
              <label key={f} class="check">
                <input type="checkbox" name={`field-${f}`} /> {f}
              </label>
            ))}
          </fieldset>
          <label class="check">
            <input type="checkbox" name="enabled" checked /> Enabled
          </label>
          <div>
            <button class="primary" type="submit" disabled={busy.value}>Save configuration</button>
          </div>
        </form>
      </div>
      <div class="panel" id="inventory-history">
        <h2>Report history</h2>
        {runs.value.length === 0
          ? <p>No report has been written yet.</p>
          : (
            <table data-inventory-runs>
              <thead>
                <tr>
                  <th>Configuration</th>
                  <th>Started</th>
                  <th>Status</th>
                  <th>Objects listed</th>
                  <th>Written to</th>
                </tr>
              </thead>
              <tbody>
                {runs.value.map((r) => (
                  <tr key={r.id} data-run-row={r.configId}>
                    <td>
                      <code>{r.configId}</code>
                    </td>
                    <td>{formatTime(r.startedAt)}</td>
                    <td>{r.status}{r.error ? `: ${r.error}` : ""}</td>
                    <td>{r.objects}</td>
                    <td>
                      {r.manifestKey
                        ? (
                          <code>
                            {r.destination.replace("arn:aws:s3:::", "")}/{r.manifestKey}
                          </code>
                        )
                        : "—"}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
      </div>
      <div class="panel" id="access-logging">
        <h2>Server access logging</h2>
        {log === undefined
          ? <Loading />
          : (
            <form class="stack" onSubmit={saveLogging} key={log ? log.targetBucket : "off"}>
              <p data-logging-state>
                {log
                  ? `Requests are logged to ${log.targetBucket}/${log.targetPrefix}.`
                  : "Access logging is off."}
              </p>
              <label>
                Target bucket (empty: off){" "}
                <input name="targetBucket" value={log?.targetBucket ?? ""} />
              </label>
              <label>
                Target prefix <input name="targetPrefix" value={log?.targetPrefix ?? ""} />
              </label>
              <label>
                Object names{" "}
                <select name="keyFormat" value={log?.keyFormat ?? "SimplePrefix"}>
                  <option value="SimplePrefix">prefix + date-time</option>
                  <option value="PartitionedPrefix">partitioned by owner/region/bucket/date</option>
                </select>
              </label>
              <label>
                Partition date{" "}
                <select name="dateSource" value={log?.dateSource ?? "EventTime"}>
                  <option value="EventTime">time of the requests</option>
                  <option value="DeliveryTime">time of delivery</option>
                </select>
              </label>
              <div>
                <button class="primary" type="submit" disabled={busy.value}>Save logging</button>
              </div>
            </form>
          )}
      </div>
    </div>
  );
}
