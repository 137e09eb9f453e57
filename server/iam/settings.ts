/**
 * Server settings: the settings table (one row per key, JSON) read over its defaults, validated
 * as a whole before anything is stored, with secrets sealed by the server's SecretBox.
 *
 * The keys are grouped in categories (the console's tabs): `security`, `storage`, `system`,
 * `email`, `alerts`, `metrics`, `audit`. The first settings the server had are flat keys
 * (password policy, sign-in, sessions, audit retention, the public access block) and stay flat
 * for their callers; `CATEGORY_OF` says which tab each belongs to. Every later setting is a field
 * of its category's object (`email.host`).
 */
import type { IamCore } from "./core.ts";
import type { PasswordPolicy } from "./passwords.ts";
import type { PublicAccessBlock } from "./public_access.ts";

/** The S3 rate limits (`security`): requests per second and burst; 0 turns a limit off. */
export interface SecuritySettings {
  s3RequestsPerSecondPerKey: number;
  s3BurstPerKey: number;
  s3RequestsPerSecondPerAddress: number;
  s3BurstPerAddress: number;
}

/** Quota of a bucket that has none of its own (0: none). */
export interface StorageSettings {
  defaultBucketMaxBytes: number;
  defaultBucketMaxObjects: number;
}

export interface SystemSettings {
  /** S3 writes and console changes answer 503 while reads go on (docs/operations.md). */
  maintenanceMode: boolean;
  /** Shown in the consoles' banner and in the 503 answers' message. */
  maintenanceMessage: string;
}

export interface EmailSettings {
  enabled: boolean;
  host: string;
  port: number;
  security: "none" | "starttls" | "tls";
  username: string;
  /** Sealed with the server's SecretBox ("" when none); the API answers `passwordSet`. */
  password: string;
  from: string;
  to: string[];
}

export interface AlertSettings {
  diskWarnPercent: number;
  diskCriticalPercent: number;
  quotaWarnPercent: number;
  quotaCriticalPercent: number;
  failedLoginsPerHour: number;
}

export interface MetricsSettings {
  /** Bearer token `/metrics` asks for, sealed ("" = none); the API answers `tokenSet`. */
  token: string;
}

export interface AuditSettings {
  /** Record S3 object writes and deletes as audit events (off: they are not audited). */
  s3ObjectEvents: boolean;
}

export interface Settings extends PasswordPolicy {
  lockoutThreshold: number;
  lockoutMinutes: number;
  loginRateLimitPerMinute: number;
  sessionHours: number;
  auditRetentionDays: number;
  /** The global default public access block (server/iam/public_access.ts). */
  publicAccessBlock: PublicAccessBlock;
  security: SecuritySettings;
  storage: StorageSettings;
  system: SystemSettings;
  email: EmailSettings;
  alerts: AlertSettings;
  metrics: MetricsSettings;
  audit: AuditSettings;
}

export const DEFAULT_SETTINGS: Settings = {
  passwordMinLength: 8,
  passwordRequireUpper: false,
  passwordRequireLower: false,
  passwordRequireDigit: false,
  passwordRequireSymbol: false,
  lockoutThreshold: 5,
  lockoutMinutes: 15,
  loginRateLimitPerMinute: 30,
  sessionHours: 12,
  auditRetentionDays: 90,
  publicAccessBlock: {
    blockPublicAcls: false,
    ignorePublicAcls: false,
    blockPublicPolicy: false,
    restrictPublicBuckets: false,
  },
  security: {
    s3RequestsPerSecondPerKey: 0,
    s3BurstPerKey: 0,
    s3RequestsPerSecondPerAddress: 0,
    s3BurstPerAddress: 0,
  },
  storage: { defaultBucketMaxBytes: 0, defaultBucketMaxObjects: 0 },
  system: { maintenanceMode: false, maintenanceMessage: "" },
  email: {
    enabled: false,
    host: "",
    port: 587,
    security: "starttls",
    username: "",
    password: "",
    from: "",
    to: [],
  },
  alerts: {
    diskWarnPercent: 80,
    diskCriticalPercent: 90,
    quotaWarnPercent: 80,
    quotaCriticalPercent: 90,
    failedLoginsPerHour: 20,
  },
  metrics: { token: "" },
  audit: { s3ObjectEvents: false },
};

export type SettingsCategory =
  | "security"
  | "storage"
  | "system"
  | "email"
  | "alerts"
  | "metrics"
  | "audit";

/** The category (console tab) of every top-level key. */
export const CATEGORY_OF: Record<keyof Settings, SettingsCategory> = {
  passwordMinLength: "security",
  passwordRequireUpper: "security",
  passwordRequireLower: "security",
  passwordRequireDigit: "security",
  passwordRequireSymbol: "security",
  lockoutThreshold: "security",
  lockoutMinutes: "security",
  loginRateLimitPerMinute: "security",
  sessionHours: "security",
  publicAccessBlock: "security",
  security: "security",
  auditRetentionDays: "audit",
  audit: "audit",
  storage: "storage",
  system: "system",
  email: "email",
  alerts: "alerts",
  metrics: "metrics",
};

/** Sealed fields: written in plain text, stored sealed, answered as `<field>Set`. */
const SECRETS: Record<string, string> = { email: "password", metrics: "token" };

/** What the API answers: the settings with every secret replaced by whether it is set. */
export type SettingsView =
  & Omit<Settings, "email" | "metrics">
  & { email: Omit<EmailSettings, "password"> & { passwordSet: boolean } }
  & { metrics: { tokenSet: boolean } };

/** A refused change: the field (`email.port`) and why. */
export interface SettingsProblem {
  field: string;
  message: string;
}

type Fields = Record<string, unknown>;

/** The stored settings over the defaults (secrets still sealed). */
export function getSettings(core: Pick<IamCore, "db">): Settings {
  const out = structuredClone(DEFAULT_SETTINGS);
  const rows = core.db.prepare("SELECT key, value FROM settings").all() as {
    key: string;
    value: string;
  }[];
  const fields = out as unknown as Fields;
  for (const r of rows) {
    if (!(r.key in out)) continue;
    const v = JSON.parse(r.value);
    // An object setting stored in part keeps the defaults of the fields it does not name.
    fields[r.key] = typeof fields[r.key] === "object" ? { ...fields[r.key] as object, ...v } : v;
  }
  return out;
}

/** The settings as the API answers them (no secret, sealed or not). */
export function settingsView(s: Settings): SettingsView {
  const { password, ...email } = s.email;
  return {
    ...s,
    email: { ...email, passwordSet: password !== "" },
    metrics: { tokenSet: s.metrics.token !== "" },
  };
}

/** The plain text of a sealed setting ("" when unset): `openSecret(core, s.email.password)`. */
export async function openSecret(core: Pick<IamCore, "box">, sealed: string): Promise<string> {
  return sealed === "" ? "" : await core.box.open(sealed);
}

/**
 * Validates a partial settings object against the current settings and stores it: top-level
 * keys replace their value, category objects are merged field by field. Secrets arrive in plain
 * text and are sealed ("" removes one). Nothing is stored when any field is refused.
 * Returns the fields changed (`email.host`), or the problem.
 */
export async function updateSettings(
  core: Pick<IamCore, "db" | "box">,
  patch: Fields,
): Promise<{ changed: string[] } | SettingsProblem> {
  const current = getSettings(core);
  const next = structuredClone(current) as unknown as Fields;
  const changed: string[] = [];
  for (const [k, v] of Object.entries(patch)) {
    if (!(k in DEFAULT_SETTINGS)) return { field: k, message: `unknown setting "${k}"` };
    const def = (DEFAULT_SETTINGS as unknown as Fields)[k];
    if (k === "publicAccessBlock") {
      const problem = flagsProblem(k, def as Fields, v);
      if (problem) return problem;
      // A block names every flag it sets; the ones it leaves out are off.
      next[k] = { ...def as Fields, ...v as Fields };
      changed.push(k);
      continue;
    }
    if (typeof def === "object" && def !== null) {
      if (typeof v !== "object" || v === null || Array.isArray(v)) {
        return { field: k, message: `${k} must be an object` };
      }
      const merged = { ...next[k] as Fields };
      for (const [f, fv] of Object.entries(v as Fields)) {
        const name = `${k}.${f}`;
        if (!(f in (def as Fields))) return { field: name, message: `unknown setting "${name}"` };
        const problem = fieldProblem(name, (def as Fields)[f], fv);
        if (problem) return { field: name, message: problem };
        merged[f] = SECRETS[k] === f && fv !== "" ? await core.box.seal(fv as string) : fv;
        changed.push(name);
      }
      const problem = CHECKS[k as SettingsCategory]?.(merged);
      if (problem) return problem;
      next[k] = merged;
      continue;
    }
    const problem = fieldProblem(k, def, v);
    if (problem) return { field: k, message: problem };
    if ((k === "sessionHours" || k === "passwordMinLength") && (v as number) < 1) {
      return { field: k, message: `${k} must be >= 1` };
    }
    next[k] = v;
    changed.push(k);
  }
  const st = core.db.prepare(
    "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
  );
  core.db.exec("BEGIN");
  try {
    for (const k of Object.keys(patch)) st.run(k, JSON.stringify(next[k]));
    core.db.exec("COMMIT");
  } catch (e) {
    core.db.exec("ROLLBACK");
    throw e;
  }
  return { changed };
}

export function isSettingsProblem(v: unknown): v is SettingsProblem {
  return typeof v === "object" && v !== null && "field" in v && "message" in v;
}

/** A value of the default's type and range: integers 0..1e12, strings up to 1000 characters. */
function fieldProblem(name: string, def: unknown, v: unknown): string | null {
  if (typeof def === "boolean") return typeof v === "boolean" ? null : `${name} must be a boolean`;
  if (typeof def === "number") {
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 1e12) {
      return `${name} must be a non-negative integer`;
    }
    return null;
  }
  if (typeof def === "string") {
    if (typeof v !== "string") return `${name} must be a string`;
    if (v.length > 1000) return `${name} is longer than 1000 characters`;
    // deno-lint-ignore no-control-regex
    if (/[\x00-\x1f\x7f]/.test(v) && name !== "system.maintenanceMessage") {
      return `${name} must not contain control characters`;
    }
    return null;
  }
  if (Array.isArray(def)) {
    if (!Array.isArray(v) || v.some((s) => typeof s !== "string")) {
      return `${name} must be an array of strings`;
    }
    return v.length > 50 ? `${name} has more than 50 entries` : null;
  }
  return `${name} cannot be set`;
}

/** A setting made of boolean flags: an object with only the default's keys, each a boolean. */
function flagsProblem(k: string, def: Fields, v: unknown): SettingsProblem | null {
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    return { field: k, message: `${k} must be an object` };
  }
  for (const [f, b] of Object.entries(v)) {
    if (!(f in def)) return { field: `${k}.${f}`, message: `unknown field "${f}" of ${k}` };
    if (typeof b !== "boolean") {
      return { field: `${k}.${f}`, message: `${k}.${f} must be a boolean` };
    }
  }
  return null;
}

const EMAIL = /^[^\s@<>]+@[^\s@<>]+$/;

/** Checks of a category as a whole, on the merged result of a change. */
const CHECKS: Partial<Record<SettingsCategory, (c: Fields) => SettingsProblem | null>> = {
  email(c) {
    const e = c as unknown as EmailSettings;
    if (!["none", "starttls", "tls"].includes(e.security)) {
      return {
        field: "email.security",
        message: 'email.security must be "none", "starttls" or "tls"',
      };
    }
    if (e.port < 1 || e.port > 65535) {
      return { field: "email.port", message: "email.port must be between 1 and 65535" };
    }
    if (e.from !== "" && !EMAIL.test(e.from)) {
      return { field: "email.from", message: `email.from "${e.from}" is not an email address` };
    }
    const bad = e.to.find((a) => !EMAIL.test(a));
    if (bad !== undefined) {
      return { field: "email.to", message: `email.to "${bad}" is not an email address` };
    }
    if (e.enabled) {
      if (e.host === "") {
        return { field: "email.host", message: "email.host is needed to send email" };
      }
      if (e.from === "") {
        return { field: "email.from", message: "email.from is needed to send email" };
      }
      if (e.to.length === 0) return { field: "email.to", message: "email.to names no recipient" };
    }
    return null;
  },
  alerts(c) {
    const a = c as unknown as AlertSettings;
    for (
      const f of [
        "diskWarnPercent",
        "diskCriticalPercent",
        "quotaWarnPercent",
        "quotaCriticalPercent",
      ] as const
    ) {
      if (a[f] < 1 || a[f] > 100) {
        return { field: `alerts.${f}`, message: `alerts.${f} must be between 1 and 100` };
      }
    }
    if (a.diskWarnPercent >= a.diskCriticalPercent) {
      return {
        field: "alerts.diskWarnPercent",
        message: "alerts.diskWarnPercent must be below alerts.diskCriticalPercent",
      };
    }
    if (a.quotaWarnPercent >= a.quotaCriticalPercent) {
      return {
        field: "alerts.quotaWarnPercent",
        message: "alerts.quotaWarnPercent must be below alerts.quotaCriticalPercent",
      };
    }
    if (a.failedLoginsPerHour < 1 || a.failedLoginsPerHour > 100) {
      return {
        field: "alerts.failedLoginsPerHour",
        message: "alerts.failedLoginsPerHour must be between 1 and 100",
      };
    }
    return null;
  },
  security(c) {
    const s = c as unknown as SecuritySettings;
    for (const [f, v] of Object.entries(s)) {
      if (v > 1_000_000) {
        return { field: `security.${f}`, message: `security.${f} must be at most 1000000` };
      }
    }
    return null;
  },
};

/** Called after a change is stored, with the new settings and the fields changed. */
export type SettingsListener = (s: Settings, changed: string[]) => void;

/**
 * The settings of the running server: read from the table once, kept in memory for the paths
 * that ask on every request (the S3 gate), and read again after every change made through it,
 * which then tells its listeners (the consoles' event stream, the gate). Changes made elsewhere
 * (the admin CLI) happen with the server stopped.
 */
export class LiveSettings {
  #current: Settings;
  readonly #listeners = new Set<SettingsListener>();

  constructor(private readonly core: Pick<IamCore, "db" | "box">) {
    this.#current = getSettings(core);
  }

  current(): Settings {
    return this.#current;
  }

  async update(patch: Fields): Promise<{ changed: string[] } | SettingsProblem> {
    const out = await updateSettings(this.core, patch);
    if (isSettingsProblem(out)) return out;
    this.#current = getSettings(this.core);
    for (const fn of this.#listeners) fn(this.#current, out.changed);
    return out;
  }

  /** Adds a listener; returns its removal. */
  onChange(fn: SettingsListener): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }
}
