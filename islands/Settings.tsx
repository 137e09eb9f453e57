/**
 * Server settings (global admins), one tab per category: security (password policy, sign-in,
 * sessions, S3 rate limits, the server's public access block), storage (bucket quota defaults),
 * system (maintenance mode), email, alerts, metrics and audit. Each tab saves its own fields
 * with one PATCH; the server applies them at once. Secrets are written, never read back.
 */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { api } from "./lib/api.ts";
import { Loading } from "./lib/ui.tsx";
import { publicAccessBlockFromJson, publicAccessBlockJson } from "./lib/access_xml.ts";
import { PublicAccessSwitches } from "./lib/PublicAccessSwitches.tsx";

type Json = Record<string, unknown>;

type Kind = "number" | "bool" | "text" | "secret" | "list" | "select";

interface Field {
  /** `lockoutThreshold`, or `category.field`. */
  key: string;
  label: string;
  kind: Kind;
  hint?: string;
  options?: string[];
}

interface Tab {
  id: string;
  label: string;
  fields: Field[];
}

const TABS: Tab[] = [
  {
    id: "security",
    label: "Security",
    fields: [
      { key: "passwordRequireUpper", label: "Require an uppercase letter", kind: "bool" },
      { key: "passwordRequireLower", label: "Require a lowercase letter", kind: "bool" },
      { key: "passwordRequireDigit", label: "Require a digit", kind: "bool" },
      { key: "passwordRequireSymbol", label: "Require a symbol", kind: "bool" },
      {
        key: "passwordMinLength",
        label: "Minimum password length",
        kind: "number",
        hint: "characters",
      },
      {
        key: "lockoutThreshold",
        label: "Lock an account after",
        kind: "number",
        hint: "failed sign-ins in a row (0 = never)",
      },
      { key: "lockoutMinutes", label: "Lockout duration", kind: "number", hint: "minutes" },
      {
        key: "loginRateLimitPerMinute",
        label: "Sign-in attempts per client IP",
        kind: "number",
        hint: "per minute",
      },
      { key: "sessionHours", label: "Session lifetime", kind: "number", hint: "hours" },
      {
        key: "security.s3RequestsPerSecondPerKey",
        label: "S3 requests per access key",
        kind: "number",
        hint: "per second (0 = no limit)",
      },
      {
        key: "security.s3BurstPerKey",
        label: "S3 burst per access key",
        kind: "number",
        hint: "requests (0 = one second's worth)",
      },
      {
        key: "security.s3RequestsPerSecondPerAddress",
        label: "S3 requests per client address",
        kind: "number",
        hint: "per second (0 = no limit)",
      },
      {
        key: "security.s3BurstPerAddress",
        label: "S3 burst per client address",
        kind: "number",
        hint: "requests (0 = one second's worth)",
      },
    ],
  },
  {
    id: "storage",
    label: "Storage",
    fields: [
      {
        key: "storage.defaultBucketMaxBytes",
        label: "Bucket quota (bytes) for buckets without their own",
        kind: "number",
        hint: "bytes (0 = none)",
      },
      {
        key: "storage.defaultBucketMaxObjects",
        label: "Bucket quota (objects) for buckets without their own",
        kind: "number",
        hint: "objects (0 = none)",
      },
    ],
  },
  {
    id: "system",
    label: "System",
    fields: [
      {
        key: "system.maintenanceMode",
        label: "Maintenance mode (S3 writes and console changes answer 503; reads go on)",
        kind: "bool",
      },
      { key: "system.maintenanceMessage", label: "Maintenance message", kind: "text" },
    ],
  },
  {
    id: "email",
    label: "Email",
    fields: [
      { key: "email.enabled", label: "Send alerts by email", kind: "bool" },
      { key: "email.host", label: "SMTP host", kind: "text" },
      { key: "email.port", label: "SMTP port", kind: "number" },
      {
        key: "email.security",
        label: "Connection security",
        kind: "select",
        options: ["none", "starttls", "tls"],
      },
      { key: "email.username", label: "SMTP user name", kind: "text" },
      { key: "email.password", label: "SMTP password", kind: "secret" },
      { key: "email.from", label: "From address", kind: "text" },
      { key: "email.to", label: "Recipients", kind: "list", hint: "one address per line" },
    ],
  },
  {
    id: "alerts",
    label: "Alerts",
    fields: [
      { key: "alerts.diskWarnPercent", label: "Disk usage warning", kind: "number", hint: "%" },
      {
        key: "alerts.diskCriticalPercent",
        label: "Disk usage critical",
        kind: "number",
        hint: "%",
      },
      { key: "alerts.quotaWarnPercent", label: "Quota usage warning", kind: "number", hint: "%" },
      {
        key: "alerts.quotaCriticalPercent",
        label: "Quota usage critical",
        kind: "number",
        hint: "%",
      },
      {
        key: "alerts.failedLoginsPerHour",
        label: "Failed sign-ins before an alert",
        kind: "number",
        hint: "per hour",
      },
    ],
  },
  {
    id: "metrics",
    label: "Metrics",
    fields: [{
      key: "metrics.token",
      label: "Bearer token /metrics asks for",
      kind: "secret",
    }],
  },
  {
    id: "audit",
    label: "Audit",
    fields: [
      { key: "auditRetentionDays", label: "Keep audit entries for", kind: "number", hint: "days" },
      { key: "audit.s3ObjectEvents", label: "Record S3 object writes and deletes", kind: "bool" },
    ],
  },
];

/** The value at `a.b` of the settings (secrets: whether they are set). */
function valueAt(s: Json, key: string): unknown {
  const [a, b] = key.split(".");
  if (b === undefined) return s[a];
  const cat = (s[a] ?? {}) as Json;
  return b === "password" || b === "token" ? cat[`${b}Set`] : cat[b];
}

/** The PATCH body of a tab's form: top-level keys, and category objects with their fields. */
function patchOf(tab: Tab, form: FormData): Json {
  const patch: Json = {};
  for (const f of tab.fields) {
    const raw = form.get(f.key);
    let v: unknown;
    if (f.kind === "bool") v = raw === "on";
    else if (f.kind === "number") v = Number(raw);
    else if (f.kind === "list") {
      v = String(raw ?? "").split(/[\s,]+/).filter((x) => x !== "");
    } else v = String(raw ?? "");
    // An empty secret field keeps the stored secret; "Remove" sends "".
    if (f.kind === "secret" && v === "" && form.get(`${f.key}:remove`) !== "on") continue;
    const [a, b] = f.key.split(".");
    if (b === undefined) patch[a] = v;
    else ((patch[a] ??= {}) as Json)[b] = v;
  }
  return patch;
}

function FieldInput({ f, s }: { f: Field; s: Json }) {
  const v = valueAt(s, f.key);
  if (f.kind === "bool") {
    return (
      <label class="check">
        <input type="checkbox" name={f.key} checked={!!v} /> {f.label}
      </label>
    );
  }
  let input;
  if (f.kind === "number") {
    input = <input type="number" name={f.key} min="0" required value={Number(v ?? 0)} />;
  } else if (f.kind === "select") {
    input = (
      <select name={f.key} value={String(v ?? "")}>
        {f.options!.map((o) => <option key={o} value={o}>{o}</option>)}
      </select>
    );
  } else if (f.kind === "list") {
    input = <textarea name={f.key} rows={3} value={((v ?? []) as string[]).join("\n")} />;
  } else if (f.kind === "secret") {
    input = (
      <>
        <input
          type="password"
          name={f.key}
          autocomplete="new-password"
          placeholder={v ? "set (leave empty to keep)" : "not set"}
        />
        {v && (
          <label class="check">
            <input type="checkbox" name={`${f.key}:remove`} /> Remove
          </label>
        )}
      </>
    );
  } else {
    input = <input type="text" name={f.key} value={String(v ?? "")} />;
  }
  return (
    <label>
      {f.label}
      <span class="row">
        {input}
        {f.hint && <span class="hint">{f.hint}</span>}
      </span>
    </label>
  );
}

export default function SettingsForm(_props: Record<string, unknown>) {
  const settings = useSignal<Json | null>(null);
  const tab = useSignal<string>("security");
  const msg = useSignal<{ ok: boolean; text: string } | null>(null);

  useEffect(() => {
    api<Json>("settings").then((s) => settings.value = s).catch((e) =>
      msg.value = { ok: false, text: e.message }
    );
  }, []);

  const current = TABS.find((t) => t.id === tab.value)!;
  const save = async (ev: Event) => {
    ev.preventDefault();
    const patch = patchOf(current, new FormData(ev.currentTarget as HTMLFormElement));
    try {
      settings.value = await api<Json>("settings", { method: "PATCH", body: patch });
      msg.value = { ok: true, text: "Settings saved." };
    } catch (e) {
      msg.value = { ok: false, text: (e as Error).message };
    }
  };

  /** Sends a test mail with the saved email settings; the SMTP server's failure in words. */
  const testEmail = async () => {
    msg.value = null;
    try {
      const r = await api<{ to: string[] }>("settings/email/test", { body: {} });
      msg.value = { ok: true, text: `Test email sent to ${r.to.join(", ")}.` };
    } catch (e) {
      msg.value = { ok: false, text: (e as Error).message };
    }
  };

  const s = settings.value;
  return (
    <div class="stack-wide">
      <div class="row" role="tablist" aria-label="Settings categories">
        {TABS.map((t) => (
          <button
            key={t.id}
            type="button"
            role="tab"
            id={`settings-tab-${t.id}`}
            aria-selected={t.id === tab.value}
            class={t.id === tab.value ? "primary" : ""}
            onClick={() => {
              tab.value = t.id;
              msg.value = null;
            }}
          >
            {t.label}
          </button>
        ))}
      </div>
      <div class="panel" role="tabpanel" aria-labelledby={`settings-tab-${current.id}`}>
        {msg.value && (
          <div class={`alert ${msg.value.ok ? "ok" : "error"}`} role="status">{msg.value.text}</div>
        )}
        {!s ? <Loading /> : (
          <form
            class="stack"
            onSubmit={save}
            // The key remounts the form per tab (uncontrolled inputs take the tab's values).
            key={current.id}
            id={current.id === "security" ? "settings-form" : `settings-form-${current.id}`}
          >
            <h2>{current.label}</h2>
            {current.fields.map((f) => <FieldInput key={f.key} f={f} s={s} />)}
            <div class="row">
              <button class="primary" type="submit">Save settings</button>
              {current.id === "email" && (
                <button type="button" id="test-email" onClick={testEmail}>
                  Send a test email
                </button>
              )}
            </div>
          </form>
        )}
      </div>
      {current.id === "security" && (
        <PublicAccessSwitches
          id="global-public-access"
          title="Block public access (every bucket of the server)"
          load={async () =>
            publicAccessBlockFromJson(
              (await api<{ publicAccessBlock: unknown }>("settings")).publicAccessBlock,
            )}
          save={async (pab) => {
            await api("settings", {
              method: "PATCH",
              body: { publicAccessBlock: publicAccessBlockJson(pab) },
            });
          }}
        />
      )}
    </div>
  );
}
