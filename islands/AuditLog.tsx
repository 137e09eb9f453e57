/** Audit log viewer: filters, cursor pagination and CSV export of the filtered entries. */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { api, formatTime, listOf } from "./lib/api.ts";
import { toCsv } from "./lib/csv.ts";
import { Alerts, Loading } from "./lib/ui.tsx";

interface Entry {
  id: string;
  time: number;
  actorName?: string;
  actorId?: string;
  tenantId?: string | null;
  action: string;
  resource?: string;
  ip?: string;
  userAgent?: string;
  result: string;
  detail?: string | null;
}

interface Filters {
  tenantId: string;
  actor: string;
  action: string;
  result: string;
  from: string;
  to: string;
}

const COLUMNS = [
  "time",
  "actorName",
  "actorId",
  "tenantId",
  "action",
  "resource",
  "ip",
  "userAgent",
  "result",
  "detail",
];
const PAGE = 50;
/** Upper bound for one CSV export, so a huge log cannot freeze the tab. */
const EXPORT_MAX = 20_000;

function query(f: Filters, cursor: string | null, limit: number) {
  return {
    tenantId: f.tenantId,
    actor: f.actor,
    action: f.action,
    result: f.result,
    from: f.from ? new Date(f.from).getTime() : "",
    to: f.to ? new Date(f.to).getTime() : "",
    limit,
    cursor: cursor ?? "",
  };
}

export interface AuditLogProps extends Record<string, unknown> {
  globalAdmin: boolean;
}

export default function AuditLog({ globalAdmin }: AuditLogProps) {
  const filters = useSignal<Filters>({
    tenantId: "",
    actor: "",
    action: "",
    result: "",
    from: "",
    to: "",
  });
  const entries = useSignal<Entry[] | null>(null);
  const cursors = useSignal<(string | null)[]>([null]);
  const next = useSignal<string | null>(null);
  const error = useSignal("");
  const exporting = useSignal(false);

  const load = async (cursor: string | null) => {
    try {
      error.value = "";
      const doc = await api<{ nextCursor?: string | null }>("audit", {
        query: query(filters.value, cursor, PAGE),
      });
      entries.value = listOf<Entry>(doc);
      next.value = doc.nextCursor ?? null;
    } catch (e) {
      error.value = (e as Error).message;
      entries.value = [];
    }
  };
  useEffect(() => {
    load(null);
  }, []);

  const apply = (ev: Event) => {
    ev.preventDefault();
    const f = new FormData(ev.currentTarget as HTMLFormElement);
    filters.value = {
      tenantId: String(f.get("tenantId") ?? ""),
      actor: String(f.get("actor") ?? ""),
      action: String(f.get("action") ?? ""),
      result: String(f.get("result") ?? ""),
      from: String(f.get("from") ?? ""),
      to: String(f.get("to") ?? ""),
    };
    cursors.value = [null];
    load(null);
  };

  const exportCsv = async () => {
    exporting.value = true;
    try {
      const rows: Entry[] = [];
      let cursor: string | null = null;
      do {
        const doc: { nextCursor?: string | null } = await api("audit", {
          query: query(filters.value, cursor, 1000),
        });
        rows.push(...listOf<Entry>(doc));
        cursor = doc.nextCursor ?? null;
      } while (cursor && rows.length < EXPORT_MAX);
      const data = rows.map((r) => ({ ...r, time: new Date(r.time).toISOString() }));
      const blob = new Blob([toCsv(COLUMNS, data)], { type: "text/csv" });
      const a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = `maxiofs-audit-${new Date().toISOString().slice(0, 19)}.csv`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    } catch (e) {
      error.value = (e as Error).message;
    } finally {
      exporting.value = false;
    }
  };

  const f = filters.value;
  return (
    <div>
      <form class="panel row" onSubmit={apply} aria-label="Audit filters">
        {globalAdmin && (
          <label>
            Tenant id <input name="tenantId" value={f.tenantId} />
          </label>
        )}
        <label>
          Actor <input name="actor" value={f.actor} />
        </label>
        <label>
          Action <input name="action" value={f.action} placeholder="login" />
        </label>
        <label>
          Result
          <select name="result" value={f.result}>
            <option value="">any</option>
            <option value="success">success</option>
            <option value="failure">failure</option>
            <option value="denied">denied</option>
          </select>
        </label>
        <label>
          From <input name="from" type="datetime-local" value={f.from} />
        </label>
        <label>
          To <input name="to" type="datetime-local" value={f.to} />
        </label>
        <button type="submit" class="primary">Apply</button>
        <button type="button" onClick={exportCsv} disabled={exporting.value}>
          {exporting.value ? "Exporting…" : "Export CSV"}
        </button>
      </form>
      <Alerts error={error.value} />
      <div class="panel table-wrap">
        {entries.value === null ? <Loading /> : (
          <table id="audit-table">
            <thead>
              <tr>
                <th>Time</th>
                <th>Actor</th>
                <th>Action</th>
                <th class="hide-sm">Resource</th>
                <th class="hide-sm">IP</th>
                <th>Result</th>
              </tr>
            </thead>
            <tbody>
              {entries.value.length === 0 && (
                <tr>
                  <td colSpan={6}>No entries match.</td>
                </tr>
              )}
              {entries.value.map((e) => (
                <tr key={e.id} title={e.userAgent ?? ""}>
                  <td>{formatTime(e.time)}</td>
                  <td>{e.actorName || e.actorId || "—"}</td>
                  <td>
                    <code>{e.action}</code>
                  </td>
                  <td class="hide-sm">{e.resource ?? ""}</td>
                  <td class="hide-sm">{e.ip ?? ""}</td>
                  <td>
                    <span class={`badge ${e.result === "success" ? "ok" : "bad"}`}>{e.result}</span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <div class="pager">
          <span>Page {cursors.value.length}</span>
          <button
            type="button"
            disabled={cursors.value.length <= 1}
            onClick={() => {
              cursors.value = cursors.value.slice(0, -1);
              load(cursors.value.at(-1) ?? null);
            }}
          >
            Previous
          </button>
          <button
            type="button"
            disabled={!next.value}
            onClick={() => {
              cursors.value = [...cursors.value, next.value];
              load(next.value);
            }}
          >
            Next
          </button>
        </div>
      </div>
    </div>
  );
}
