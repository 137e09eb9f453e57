/**
 * Dashboard: bucket and object counts, storage used, tenants, users and quota bars; for
 * administrators, the integrity scrubber's last pass and findings; for global administrators, the
 * last minute's request figures, live.
 */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { api, formatBytes, listOf } from "./lib/api.ts";
import { QuotaBar } from "../components/QuotaBar.tsx";
import { Loading } from "./lib/ui.tsx";
import { IntegrityPanel } from "./lib/IntegrityPanel.tsx";
import { LiveFigures } from "./lib/LiveFigures.tsx";

export interface DashboardProps extends Record<string, unknown> {
  admin: boolean;
  globalAdmin: boolean;
}

interface Tenant {
  id: string;
  name: string;
  displayName?: string;
  status: string;
  quota?: { maxBytes: number | null; maxBuckets: number | null; maxAccessKeys: number | null };
  usage?: { bytes: number; buckets: number; accessKeys: number };
}

interface Bucket {
  name: string;
  objects?: number;
  bytes?: number;
}

interface Data {
  buckets: Bucket[];
  tenants: Tenant[];
  users: number | null;
}

export function TenantQuotas({ t }: { t: Tenant }) {
  return (
    <>
      <QuotaBar label="Storage" used={t.usage?.bytes ?? 0} max={t.quota?.maxBytes} bytes />
      <QuotaBar label="Buckets" used={t.usage?.buckets ?? 0} max={t.quota?.maxBuckets} />
      <QuotaBar label="Access keys" used={t.usage?.accessKeys ?? 0} max={t.quota?.maxAccessKeys} />
    </>
  );
}

export default function Dashboard({ admin, globalAdmin }: DashboardProps) {
  const data = useSignal<Data | null>(null);
  const error = useSignal("");
  useEffect(() => {
    (async () => {
      try {
        const [b, t, u] = await Promise.all([
          api("buckets"),
          api("tenants").catch(() => ({ items: [] })),
          admin ? api("users").catch(() => null) : Promise.resolve(null),
        ]);
        data.value = {
          buckets: listOf<Bucket>(b),
          tenants: listOf<Tenant>(t),
          users: u ? listOf(u).length : null,
        };
      } catch (e) {
        error.value = (e as Error).message;
      }
    })();
  }, []);
  if (error.value) return <div class="alert error" role="alert">{error.value}</div>;
  const d = data.value;
  if (!d) return <Loading />;
  const objects = d.buckets.reduce((n, b) => n + (b.objects ?? 0), 0);
  const bytes = d.buckets.reduce((n, b) => n + (b.bytes ?? 0), 0);
  return (
    <div id="dashboard">
      <div class="cards">
        <div class="card">
          <div class="label">Buckets</div>
          <div class="value" data-testid="stat-buckets">{d.buckets.length}</div>
        </div>
        <div class="card">
          <div class="label">Objects</div>
          <div class="value" data-testid="stat-objects">{objects}</div>
        </div>
        <div class="card">
          <div class="label">Storage used</div>
          <div class="value" data-testid="stat-bytes">{formatBytes(bytes)}</div>
        </div>
        {globalAdmin && (
          <div class="card">
            <div class="label">Tenants</div>
            <div class="value">{d.tenants.length}</div>
          </div>
        )}
        {d.users !== null && (
          <div class="card">
            <div class="label">Users</div>
            <div class="value">{d.users}</div>
          </div>
        )}
      </div>
      {globalAdmin && <LiveFigures />}
      {d.tenants.length > 0 && (
        <div class="panel">
          <h2>{globalAdmin ? "Tenant quotas" : "Your tenant's quota"}</h2>
          <div class="cards wide">
            {d.tenants.map((t) => (
              <div class="card" key={t.id}>
                <strong>{t.displayName || t.name}</strong>{" "}
                <span class={`badge ${t.status === "active" ? "ok" : "bad"}`}>{t.status}</span>
                <TenantQuotas t={t} />
              </div>
            ))}
          </div>
        </div>
      )}
      <div class="panel">
        <h2>Largest buckets</h2>
        {d.buckets.length === 0
          ? (
            <p>
              No buckets yet. <a href="/buckets">Create one</a>
            </p>
          )
          : (
            <table>
              <thead>
                <tr>
                  <th>Bucket</th>
                  <th class="num">Objects</th>
                  <th class="num">Size</th>
                </tr>
              </thead>
              <tbody>
                {[...d.buckets].sort((a, b) => (b.bytes ?? 0) - (a.bytes ?? 0)).slice(0, 8).map((
                  b,
                ) => (
                  <tr key={b.name}>
                    <td>
                      <a href={`/buckets/${encodeURIComponent(b.name)}`}>{b.name}</a>
                    </td>
                    <td class="num">{b.objects ?? "—"}</td>
                    <td class="num">{formatBytes(b.bytes)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
      </div>
      {admin && <IntegrityPanel />}
    </div>
  );
}
