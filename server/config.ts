/**
 * Server configuration: flags > `MAXIOFS_*` environment > config file > defaults.
 * This is the one module that reads the environment.
 */
import { isCidr } from "./iam/net.ts";

import { Tuning } from "./tuning.ts";

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFormat = "text" | "json";

export interface Config {
  dataDir: string;
  /** S3 listener, `host:port` (host may be empty for all interfaces). */
  listen: string;
  /** Console listener. */
  consoleListen: string;
  /** PEM certificate (chain) both listeners serve HTTPS with; set together with `tlsKey`. */
  tlsCert: string | null;
  /** PEM private key of `tlsCert`. */
  tlsKey: string | null;
  region: string;
  /** When set, `bucket.<domain>` requests are virtual-host style. */
  domain: string | null;
  /**
   * When set, `bucket.<websiteDomain>` (and `bucket.tenant.<websiteDomain>`) requests on the S3
   * listener are answered as the bucket's static website (docs/decisions/0019).
   */
  websiteDomain: string | null;
  logLevel: LogLevel;
  /** `text` (time LEVEL message {fields}) or `json` (one object per line). */
  logFormat: LogFormat;
  /** One line per S3 request on standard output (access log). */
  accessLog: boolean;
  /** Collect Prometheus metrics and answer `/metrics` on the console listener. */
  metrics: boolean;
  /** A separate listener that answers only `/metrics` (`host:port`), besides the console's. */
  metricsListen: string | null;
  /** Bearer token a scrape of `/metrics` must send (`Authorization: Bearer ...`); none: open. */
  metricsToken: string | null;
  /** Seconds between orphan-blob sweeps (0 disables the periodic sweep). */
  sweepIntervalSeconds: number;
  /** Age in seconds after which an incomplete multipart upload is aborted. */
  multipartMaxAgeSeconds: number;
  /** Seconds between bucket lifecycle passes (0 disables the periodic worker). */
  lifecycleIntervalSeconds: number;
  /** Seconds between looks for due inventory reports (0: only on demand). */
  inventoryIntervalSeconds: number;
  /** Seconds between deliveries of server access log objects (0: at shutdown and when full). */
  accessLogDeliverySeconds: number;
  /** Replication copies in flight at once (the worker pool, server/features/replication). */
  replicationWorkers: number;
  /** Bytes per second the integrity scrubber re-reads at most (0: no background scrubbing). */
  scrubRate: number;
  /** Seconds from the end of one scrub pass to the start of the next. */
  scrubIntervalSeconds: number;
  /** Seconds between alert checks: disk, quotas, sign-ins (0: only on demand). */
  alertIntervalSeconds: number;
  /**
   * Sync each object file and its directory entry to the disk before the commit that publishes
   * it (default). Off, a power cut may lose acknowledged objects larger than the inline limit.
   */
  fsync: boolean;
  /** Seconds a request body may send nothing before it is `RequestTimeout` (0 = no limit). */
  bodyTimeoutSeconds: number;
  /** Free space of the data dir's file system below which `/minio/health/ready` answers 503. */
  readyMinFreeMiB: number;
  /** Seconds a new connection has to send its first request's headers (0 = no limit). */
  headerTimeoutSeconds: number;
  /** Seconds a connection may stay open with no request running (0 = no limit). */
  idleTimeoutSeconds: number;
  /** MiB of memory for the bytes of small objects (<= 64 KiB) recently written or read. */
  objectCacheMiB: number;
  /** Listing entries held in memory over all buckets (0 = always list from KV). */
  listCacheEntries: number;
  /** MiB of memory (estimated) for the latest object records of recently used keys. */
  recordCacheMiB: number;
  rootAccessKey: string | null;
  rootSecretKey: string | null;
  rootUser: string | null;
  rootPassword: string | null;
  /** Comma-separated IPs/CIDRs of reverse proxies whose X-Forwarded-For is believed. */
  trustedProxies: string;
  /**
   * Object Ownership of buckets created without `x-amz-object-ownership`: ObjectWriter (ACLs on,
   * what S3 clients and conformance suites assume) or BucketOwnerEnforced (AWS's newer default).
   */
  objectOwnership: "ObjectWriter" | "BucketOwnerEnforced";
  /**
   * SSE-S3 for every new object whose request names no encryption and whose bucket has no
   * default encryption.
   */
  encryptNewObjects: boolean;
  /** Accept SSE-C keys over plain HTTP (AWS refuses them; for TLS-terminating proxies, tests). */
  sseCOverHttp: boolean;
  /**
   * Let webhook targets and replication destinations be on loopback, link-local and private
   * addresses (refused by default: a tenant could otherwise reach the operator's inner network).
   */
  allowPrivateEndpoints: boolean;
  /**
   * The S3 listener's URL as users reach it (`https://s3.example.com`), for share links and
   * presigned URLs; null: the console's host name with the S3 listener's port.
   */
  publicUrl: string | null;
  /** Performance mechanisms turned off, comma-separated (server/tuning.ts; for benchmarks). */
  without: string;
  configFile: string | null;
}

export const DEFAULTS: Config = {
  dataDir: "./data",
  listen: ":8080",
  consoleListen: ":8081",
  tlsCert: null,
  tlsKey: null,
  region: "us-east-1",
  domain: null,
  websiteDomain: null,
  logLevel: "info",
  logFormat: "text",
  accessLog: false,
  metrics: true,
  metricsListen: null,
  metricsToken: null,
  sweepIntervalSeconds: 3600,
  multipartMaxAgeSeconds: 7 * 24 * 3600,
  lifecycleIntervalSeconds: 3600,
  inventoryIntervalSeconds: 3600,
  accessLogDeliverySeconds: 300,
  replicationWorkers: 4,
  scrubRate: 0,
  scrubIntervalSeconds: 7 * 24 * 3600,
  alertIntervalSeconds: 60,
  fsync: true,
  bodyTimeoutSeconds: 60,
  readyMinFreeMiB: 512,
  headerTimeoutSeconds: 30,
  idleTimeoutSeconds: 60,
  objectCacheMiB: 128,
  listCacheEntries: 1_000_000,
  recordCacheMiB: 32,
  rootAccessKey: null,
  rootSecretKey: null,
  rootUser: null,
  rootPassword: null,
  trustedProxies: "",
  objectOwnership: "ObjectWriter",
  encryptNewObjects: false,
  sseCOverHttp: false,
  allowPrivateEndpoints: false,
  publicUrl: null,
  without: "",
  configFile: null,
};

export interface OptionSpec {
  key: keyof Config;
  flag: string;
  env: string;
  kind: "string" | "number" | "boolean" | "nullable";
  help: string;
}

export const OPTIONS: OptionSpec[] = [
  {
    key: "dataDir",
    flag: "data-dir",
    env: "MAXIOFS_DATA_DIR",
    kind: "string",
    help: "data directory",
  },
  {
    key: "listen",
    flag: "listen",
    env: "MAXIOFS_LISTEN",
    kind: "string",
    help: "S3 listen address",
  },
  {
    key: "consoleListen",
    flag: "console-listen",
    env: "MAXIOFS_CONSOLE_LISTEN",
    kind: "string",
    help: "console listen address",
  },
  {
    key: "tlsCert",
    flag: "tls-cert",
    env: "MAXIOFS_TLS_CERT",
    kind: "nullable",
    help: "PEM certificate file: both listeners serve HTTPS (reloaded on SIGHUP)",
  },
  {
    key: "tlsKey",
    flag: "tls-key",
    env: "MAXIOFS_TLS_KEY",
    kind: "nullable",
    help: "PEM private key file of --tls-cert",
  },
  { key: "region", flag: "region", env: "MAXIOFS_REGION", kind: "string", help: "S3 region" },
  {
    key: "domain",
    flag: "domain",
    env: "MAXIOFS_DOMAIN",
    kind: "nullable",
    help: "domain for virtual-host style buckets (bucket.domain)",
  },
  {
    key: "websiteDomain",
    flag: "website-domain",
    env: "MAXIOFS_WEBSITE_DOMAIN",
    kind: "nullable",
    help: "domain of static websites: bucket.<domain> (bucket.tenant.<domain>) serves the bucket",
  },
  {
    key: "logLevel",
    flag: "log-level",
    env: "MAXIOFS_LOG_LEVEL",
    kind: "string",
    help: "debug | info | warn | error",
  },
  {
    key: "logFormat",
    flag: "log-format",
    env: "MAXIOFS_LOG_FORMAT",
    kind: "string",
    help: "text | json (log lines and access log lines)",
  },
  {
    key: "accessLog",
    flag: "access-log",
    env: "MAXIOFS_ACCESS_LOG",
    kind: "boolean",
    help: "print one line per S3 request on standard output",
  },
  {
    key: "metrics",
    flag: "metrics",
    env: "MAXIOFS_METRICS",
    kind: "boolean",
    help: "collect Prometheus metrics and serve /metrics on the console listener",
  },
  {
    key: "metricsListen",
    flag: "metrics-listen",
    env: "MAXIOFS_METRICS_LISTEN",
    kind: "nullable",
    help: "a separate host:port that serves only /metrics",
  },
  {
    key: "metricsToken",
    flag: "metrics-token",
    env: "MAXIOFS_METRICS_TOKEN",
    kind: "nullable",
    help: "bearer token a /metrics scrape must send (prefer the variable or config file)",
  },
  {
    key: "sweepIntervalSeconds",
    flag: "sweep-interval",
    env: "MAXIOFS_SWEEP_INTERVAL",
    kind: "number",
    help: "seconds between orphan blob sweeps (0 = only at start)",
  },
  {
    key: "multipartMaxAgeSeconds",
    flag: "multipart-max-age",
    env: "MAXIOFS_MULTIPART_MAX_AGE",
    kind: "number",
    help: "seconds after which incomplete multipart uploads are aborted",
  },
  {
    key: "lifecycleIntervalSeconds",
    flag: "lifecycle-interval",
    env: "MAXIOFS_LIFECYCLE_INTERVAL",
    kind: "number",
    help: "seconds between bucket lifecycle passes (0 = never)",
  },
  {
    key: "inventoryIntervalSeconds",
    flag: "inventory-interval",
    env: "MAXIOFS_INVENTORY_INTERVAL",
    kind: "number",
    help: "seconds between looks for due bucket inventory reports (0 = only on demand)",
  },
  {
    key: "accessLogDeliverySeconds",
    flag: "log-delivery",
    env: "MAXIOFS_LOG_DELIVERY",
    kind: "number",
    help: "seconds between deliveries of server access log objects to target buckets",
  },
  {
    key: "replicationWorkers",
    flag: "replication-workers",
    env: "MAXIOFS_REPLICATION_WORKERS",
    kind: "number",
    help: "bucket replication copies in flight at once",
  },
  {
    key: "scrubRate",
    flag: "scrub-rate",
    env: "MAXIOFS_SCRUB_RATE",
    kind: "number",
    help: "bytes per second the integrity scrubber re-reads and verifies (0 = no scrubbing)",
  },
  {
    key: "scrubIntervalSeconds",
    flag: "scrub-interval",
    env: "MAXIOFS_SCRUB_INTERVAL",
    kind: "number",
    help: "seconds from the end of one integrity scrub pass to the start of the next",
  },
  {
    key: "alertIntervalSeconds",
    flag: "alert-interval",
    env: "MAXIOFS_ALERT_INTERVAL",
    kind: "number",
    help: "seconds between alert checks of disk, quotas and sign-ins (0 = on demand only)",
  },
  {
    key: "fsync",
    flag: "fsync",
    env: "MAXIOFS_FSYNC",
    kind: "boolean",
    help: "sync object files to the disk before acknowledging (false: for scratch data only)",
  },
  {
    key: "readyMinFreeMiB",
    flag: "ready-min-free",
    env: "MAXIOFS_READY_MIN_FREE",
    kind: "number",
    help: "MiB of free space in the data dir below which the readiness probe answers 503",
  },
  {
    key: "bodyTimeoutSeconds",
    flag: "body-timeout",
    env: "MAXIOFS_BODY_TIMEOUT",
    kind: "number",
    help: "seconds an upload may send nothing before it fails with RequestTimeout (0 = never)",
  },
  {
    key: "headerTimeoutSeconds",
    flag: "header-timeout",
    env: "MAXIOFS_HEADER_TIMEOUT",
    kind: "number",
    help:
      "seconds a new connection has to send its request headers before it is closed (0 = never)",
  },
  {
    key: "idleTimeoutSeconds",
    flag: "idle-timeout",
    env: "MAXIOFS_IDLE_TIMEOUT",
    kind: "number",
    help:
      "seconds a kept-alive connection may wait for its next request before it is closed (0 = never)",
  },
  {
    key: "objectCacheMiB",
    flag: "object-cache",
    env: "MAXIOFS_OBJECT_CACHE",
    kind: "number",
    help:
      "MiB of memory for the bytes of small objects (<= 64 KiB) recently written or read (0 = none)",
  },
  {
    key: "listCacheEntries",
    flag: "list-cache",
    env: "MAXIOFS_LIST_CACHE",
    kind: "number",
    help: "listing entries of recently listed buckets held in memory (0 = list from KV)",
  },
  {
    key: "recordCacheMiB",
    flag: "record-cache",
    env: "MAXIOFS_RECORD_CACHE",
    kind: "number",
    help: "MiB of memory for the latest object records of recently used keys (0 = none)",
  },
  {
    key: "rootAccessKey",
    flag: "root-access-key",
    env: "MAXIOFS_ROOT_ACCESS_KEY",
    kind: "nullable",
    help: "root S3 access key (first start)",
  },
  {
    key: "rootSecretKey",
    flag: "root-secret-key",
    env: "MAXIOFS_ROOT_SECRET_KEY",
    kind: "nullable",
    help: "root S3 secret key (first start)",
  },
  {
    key: "rootUser",
    flag: "root-user",
    env: "MAXIOFS_ROOT_USER",
    kind: "nullable",
    help: "console admin user (first start)",
  },
  {
    key: "rootPassword",
    flag: "root-password",
    env: "MAXIOFS_ROOT_PASSWORD",
    kind: "nullable",
    help: "console admin password (first start)",
  },
  {
    key: "trustedProxies",
    flag: "trusted-proxies",
    env: "MAXIOFS_TRUSTED_PROXIES",
    kind: "string",
    help: "comma-separated proxy IPs/CIDRs whose X-Forwarded-For is trusted",
  },
  {
    key: "objectOwnership",
    flag: "object-ownership",
    env: "MAXIOFS_OBJECT_OWNERSHIP",
    kind: "string",
    help: "Object Ownership of new buckets: ObjectWriter (ACLs on) | BucketOwnerEnforced",
  },
  {
    key: "encryptNewObjects",
    flag: "encrypt-new-objects",
    env: "MAXIOFS_ENCRYPT_NEW_OBJECTS",
    kind: "boolean",
    help: "encrypt (SSE-S3) new objects that ask for no encryption in buckets without a default",
  },
  {
    key: "sseCOverHttp",
    flag: "sse-c-over-http",
    env: "MAXIOFS_SSE_C_OVER_HTTP",
    kind: "boolean",
    help: "accept SSE-C customer keys over plain HTTP (refused by default, as AWS)",
  },
  {
    key: "allowPrivateEndpoints",
    flag: "allow-private-endpoints",
    env: "MAXIOFS_ALLOW_PRIVATE_ENDPOINTS",
    kind: "boolean",
    help: "let webhook targets and replication destinations be on loopback or private addresses",
  },
  {
    key: "publicUrl",
    flag: "public-url",
    env: "MAXIOFS_PUBLIC_URL",
    kind: "nullable",
    help: "the S3 URL users reach (share links, presigned URLs); default: console host, S3 port",
  },
  {
    key: "without",
    flag: "without",
    env: "MAXIOFS_WITHOUT",
    kind: "string",
    help: "performance mechanisms to turn off, comma-separated (benchmarks; docs/performance.md)",
  },
  {
    key: "configFile",
    flag: "config",
    env: "MAXIOFS_CONFIG",
    kind: "nullable",
    help: "JSON config file (keys as in this list, camelCase)",
  },
];

export class ConfigError extends Error {}

export function helpText(): string {
  const lines = ["Usage: maxiofs [options]", "", "Options (flag / environment):"];
  for (const o of OPTIONS) {
    const def = DEFAULTS[o.key];
    lines.push(
      `  --${o.flag.padEnd(20)} ${o.env.padEnd(28)} ${o.help}${
        def === null || def === "" ? "" : ` (default ${def})`
      }`,
    );
  }
  lines.push("  --help                print this help");
  return lines.join("\n");
}

function coerce(spec: OptionSpec, raw: unknown, source: string): Config[keyof Config] {
  if (spec.kind === "boolean") {
    if (typeof raw === "boolean") return raw;
    const s = String(raw).toLowerCase();
    if (["1", "true", "yes", "on", ""].includes(s)) return true;
    if (["0", "false", "no", "off"].includes(s)) return false;
    throw new ConfigError(`Cannot parse ${source} "${raw}": expected a boolean`);
  }
  if (spec.kind === "number") {
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0) {
      throw new ConfigError(`Cannot parse ${source} "${raw}": expected a non-negative number`);
    }
    return n;
  }
  if (raw === null) return null;
  return String(raw);
}

/** Parses `--flag value`, `--flag=value` and boolean `--flag`; a bare `--` is ignored. */
export function parseFlags(args: string[]): { values: Map<string, string | true>; help: boolean } {
  const values = new Map<string, string | true>();
  let help = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--") continue;
    if (a === "--help" || a === "-h") {
      help = true;
      continue;
    }
    if (!a.startsWith("--")) throw new ConfigError(`Cannot parse argument "${a}": expected --flag`);
    const eq = a.indexOf("=");
    const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
    if (!OPTIONS.some((o) => o.flag === name)) {
      throw new ConfigError(`Cannot parse argument "${a}": unknown flag (see --help)`);
    }
    if (eq >= 0) values.set(name, a.slice(eq + 1));
    else if (i + 1 < args.length && !args[i + 1].startsWith("--")) values.set(name, args[++i]);
    else values.set(name, true);
  }
  return { values, help };
}

export interface LoadOptions {
  args?: string[];
  env?: Record<string, string | undefined>;
  readFile?: (path: string) => string;
}

/** Builds the configuration from flags, environment, optional config file and defaults. */
export function loadConfig(opts: LoadOptions = {}): Config & { help: boolean } {
  const args = opts.args ?? Deno.args;
  const env = opts.env ?? Deno.env.toObject();
  const readFile = opts.readFile ?? ((p: string) => Deno.readTextFileSync(p));
  const { values, help } = parseFlags(args);

  const cfg: Config = { ...DEFAULTS };
  const configFile = values.get("config") ?? env["MAXIOFS_CONFIG"];
  if (typeof configFile === "string" && configFile) {
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(readFile(configFile));
    } catch (e) {
      throw new ConfigError(`Cannot read config file "${configFile}": ${(e as Error).message}`);
    }
    for (const [k, v] of Object.entries(parsed)) {
      const spec = OPTIONS.find((o) => o.key === k);
      if (!spec) {
        throw new ConfigError(`Cannot parse config file "${configFile}": unknown key "${k}"`);
      }
      (cfg as unknown as Record<string, unknown>)[k] = coerce(spec, v, `config key ${k}`);
    }
    cfg.configFile = configFile;
  }
  for (const spec of OPTIONS) {
    const e = env[spec.env];
    if (e !== undefined && e !== "") {
      (cfg as unknown as Record<string, unknown>)[spec.key] = coerce(spec, e, spec.env);
    }
  }
  for (const spec of OPTIONS) {
    const v = values.get(spec.flag);
    if (v === undefined) continue;
    if (v === true && spec.kind !== "boolean") {
      throw new ConfigError(`Cannot parse flag --${spec.flag}: a value is required`);
    }
    (cfg as unknown as Record<string, unknown>)[spec.key] = coerce(spec, v, `--${spec.flag}`);
  }
  if (!["debug", "info", "warn", "error"].includes(cfg.logLevel)) {
    throw new ConfigError(
      `Cannot parse log level "${cfg.logLevel}": expected debug|info|warn|error`,
    );
  }
  if (!["text", "json"].includes(cfg.logFormat)) {
    throw new ConfigError(`Cannot parse log format "${cfg.logFormat}": expected text|json`);
  }
  if (!["ObjectWriter", "BucketOwnerEnforced"].includes(cfg.objectOwnership)) {
    throw new ConfigError(
      `Cannot parse object ownership "${cfg.objectOwnership}": expected ObjectWriter|BucketOwnerEnforced`,
    );
  }
  checkWebsiteDomain(cfg);
  parseListen(cfg.listen);
  parseListen(cfg.consoleListen);
  tlsFilesOf(cfg);
  if (cfg.metricsListen !== null) {
    if (!cfg.metrics) {
      throw new ConfigError("Cannot use --metrics-listen with --metrics=false: metrics are off");
    }
    parseListen(cfg.metricsListen);
  }
  if (cfg.metricsToken !== null && !/^[\x21-\x7e]{16,}$/.test(cfg.metricsToken)) {
    throw new ConfigError(
      "Cannot parse metrics token: expected at least 16 printable characters without spaces",
    );
  }
  tuningOf(cfg);
  trustedProxyList(cfg.trustedProxies);
  if (cfg.publicUrl !== null) publicUrlOf(cfg.publicUrl);
  return { ...cfg, help };
}

/**
 * The website domain must differ from the S3 domain: under the same one, every virtual-host S3
 * request would be answered as a website.
 */
function checkWebsiteDomain(cfg: Config): void {
  const norm = (d: string) => d.toLowerCase().replace(/:\d+$/, "").replace(/\.$/, "");
  if (cfg.websiteDomain === null) return;
  const w = norm(cfg.websiteDomain);
  if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(w)) {
    throw new ConfigError(
      `Cannot parse website domain "${cfg.websiteDomain}": expected a DNS name`,
    );
  }
  if (cfg.domain !== null && norm(cfg.domain) === w) {
    throw new ConfigError(
      `Cannot use website domain "${cfg.websiteDomain}": it is the S3 domain (--domain)`,
    );
  }
}

/** `--trusted-proxies` as a list; an entry that is no address or CIDR block is a ConfigError. */
export function trustedProxyList(value: string): string[] {
  const list = value.split(",").map((s) => s.trim()).filter(Boolean);
  const bad = list.find((p) => !isCidr(p));
  if (bad !== undefined) {
    throw new ConfigError(`Cannot parse trusted proxy "${bad}": expected an IP address or CIDR`);
  }
  return list;
}

/** The certificate and key files, or null without TLS; one without the other is a ConfigError. */
export function tlsFilesOf(cfg: Config): { certFile: string; keyFile: string } | null {
  const cert = cfg.tlsCert || null;
  const key = cfg.tlsKey || null;
  if (cert === null && key === null) return null;
  if (cert === null) throw new ConfigError("Cannot use --tls-key without --tls-cert");
  if (key === null) throw new ConfigError("Cannot use --tls-cert without --tls-key");
  return { certFile: cert, keyFile: key };
}

/** Splits `host:port`, `:port` or `[v6]:port`; an empty host means all interfaces. */
export function parseListen(addr: string): { hostname: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(addr);
  if (!m) throw new ConfigError(`Cannot parse listen address "${addr}": expected host:port`);
  const port = Number(m[3]);
  if (port > 65535) throw new ConfigError(`Cannot parse listen address "${addr}": bad port`);
  return { hostname: m[1] ?? (m[2] || "0.0.0.0"), port };
}

/** The performance mechanisms `cfg.without` leaves on. */
export function tuningOf(cfg: Config): Tuning {
  try {
    return Tuning.parse(cfg.without);
  } catch (e) {
    throw new ConfigError(`--without: ${(e as Error).message}`);
  }
}

/** `--public-url` as an origin (`https://host[:port]`); throws ConfigError for anything else. */
export function publicUrlOf(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConfigError(`Cannot parse public URL "${raw}": expected http(s)://host[:port]`);
  }
  if ((u.protocol !== "http:" && u.protocol !== "https:") || u.pathname.length > 1 || u.search) {
    throw new ConfigError(`Cannot parse public URL "${raw}": expected http(s)://host[:port]`);
  }
  return u.origin;
}
