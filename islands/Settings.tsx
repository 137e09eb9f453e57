/**
 * Server settings (global admins): password policy, lockout, rate limit, sessions, audit
 * retention, and the server's public access block (the global default every bucket gets).
 */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { api } from "./lib/api.ts";
import { Loading } from "./lib/ui.tsx";
import { publicAccessBlockFromJson, publicAccessBlockJson } from "./lib/access_xml.ts";
import { PublicAccessSwitches } from "./lib/PublicAccessSwitches.tsx";

type Settings = Record<string, number | boolean>;

const NUMBERS: [string, string, string][] = [
  ["passwordMinLength", "Minimum password length", "characters"],
  ["lockoutThreshold", "Lock an account after", "failed sign-ins in a row (0 = never)"],
  ["lockoutMinutes", "Lockout duration", "minutes"],
  ["loginRateLimitPerMinute", "Sign-in attempts per client IP", "per minute"],
  ["sessionHours", "Session lifetime", "hours"],
  ["auditRetentionDays", "Keep audit entries for", "days"],
];

const FLAGS: [string, string][] = [
  ["passwordRequireUpper", "Require an uppercase letter"],
  ["passwordRequireLower", "Require a lowercase letter"],
  ["passwordRequireDigit", "Require a digit"],
  ["passwordRequireSymbol", "Require a symbol"],
];

export default function SettingsForm(_props: Record<string, unknown>) {
  const settings = useSignal<Settings | null>(null);
  const msg = useSignal<{ ok: boolean; text: string } | null>(null);

  useEffect(() => {
    api<Settings>("settings").then((s) => settings.value = s).catch((e) =>
      msg.value = { ok: false, text: e.message }
    );
  }, []);

  const save = async (ev: Event) => {
    ev.preventDefault();
    const f = new FormData(ev.currentTarget as HTMLFormElement);
    const patch: Settings = {};
    for (const [k] of NUMBERS) patch[k] = Number(f.get(k));
    for (const [k] of FLAGS) patch[k] = f.get(k) === "on";
    patch.auditObjectOperations = f.get("auditObjectOperations") === "on";
    try {
      settings.value = await api<Settings>("settings", { method: "PATCH", body: patch });
      msg.value = { ok: true, text: "Settings saved." };
    } catch (e) {
      msg.value = { ok: false, text: (e as Error).message };
    }
  };

  const s = settings.value;
  return (
    <div class="stack-wide">
      <div class="panel">
        {msg.value && (
          <div class={`alert ${msg.value.ok ? "ok" : "error"}`} role="status">{msg.value.text}</div>
        )}
        {!s ? <Loading /> : (
          <form class="stack" onSubmit={save} id="settings-form">
            <h2>Password policy</h2>
            {FLAGS.map(([k, label]) => (
              <label class="check" key={k}>
                <input type="checkbox" name={k} checked={!!s[k]} /> {label}
              </label>
            ))}
            <h2>Sign-in and sessions</h2>
            {NUMBERS.map(([k, label, unit]) => (
              <label key={k}>
                {label}
                <span class="row">
                  <input type="number" name={k} min="0" required value={Number(s[k] ?? 0)} />
                  <span class="hint">{unit}</span>
                </span>
              </label>
            ))}
            <h2>Audit</h2>
            <label class="check">
              <input
                type="checkbox"
                name="auditObjectOperations"
                checked={!!s.auditObjectOperations}
              />{" "}
              Record S3 object writes and deletes (bucket changes are always recorded)
            </label>
            <div>
              <button class="primary" type="submit">Save settings</button>
            </div>
          </form>
        )}
      </div>
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
    </div>
  );
}
