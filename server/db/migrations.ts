/**
 * Numbered schema migrations for `maxiofs.db`. Never edit a released migration: append a new
 * one. `tenant_id` is NULL (users) or '' (groups, policies, grants) for the global namespace.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: "iam",
    sql: `
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE tenants (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
  max_bytes INTEGER,
  max_buckets INTEGER,
  max_access_keys INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE users (
  id TEXT PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  tenant_id TEXT REFERENCES tenants(id) ON DELETE CASCADE,
  role TEXT NOT NULL CHECK (role IN ('global_admin', 'tenant_admin', 'tenant_user')),
  display_name TEXT NOT NULL DEFAULT '',
  email TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  password_hash TEXT NOT NULL,
  must_change_password INTEGER NOT NULL DEFAULT 0,
  failed_logins INTEGER NOT NULL DEFAULT 0,
  locked_until INTEGER,
  totp_secret TEXT,
  totp_pending TEXT,
  totp_enabled INTEGER NOT NULL DEFAULT 0,
  totp_last_step INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  last_login_at INTEGER,
  CHECK ((role = 'global_admin') = (tenant_id IS NULL))
);
CREATE TABLE backup_codes (
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  code_hash TEXT NOT NULL,
  used_at INTEGER,
  PRIMARY KEY (user_id, code_hash)
);
CREATE TABLE access_keys (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  tenant_id TEXT,
  sealed_secret TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
  description TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  last_used_at INTEGER
);
CREATE INDEX access_keys_user ON access_keys(user_id);
CREATE INDEX access_keys_tenant ON access_keys(tenant_id);
CREATE TABLE groups (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  UNIQUE (tenant_id, name)
);
CREATE TABLE group_members (
  group_id TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user ON group_members(user_id);
CREATE TABLE grants (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  bucket TEXT NOT NULL,
  bucket_id TEXT NOT NULL,
  subject_type TEXT NOT NULL CHECK (subject_type IN ('user', 'group', 'tenant')),
  subject_id TEXT NOT NULL,
  access TEXT NOT NULL CHECK (access IN ('read', 'write', 'full')),
  expires_at INTEGER,
  created_at INTEGER NOT NULL,
  created_by TEXT
);
CREATE INDEX grants_bucket ON grants(tenant_id, bucket);
CREATE TABLE policies (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  name TEXT NOT NULL,
  document TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (tenant_id, name)
);
CREATE TABLE policy_attachments (
  policy_id TEXT NOT NULL REFERENCES policies(id) ON DELETE CASCADE,
  subject_type TEXT NOT NULL CHECK (subject_type IN ('user', 'group')),
  subject_id TEXT NOT NULL,
  PRIMARY KEY (policy_id, subject_type, subject_id)
);
CREATE INDEX policy_attachments_subject ON policy_attachments(subject_type, subject_id);
CREATE TABLE sessions (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  revoked_at INTEGER,
  ip TEXT,
  user_agent TEXT
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  time INTEGER NOT NULL,
  actor_id TEXT,
  actor_name TEXT,
  tenant_id TEXT,
  action TEXT NOT NULL,
  resource TEXT,
  ip TEXT,
  user_agent TEXT,
  result TEXT NOT NULL,
  detail TEXT
);
CREATE INDEX audit_time ON audit_log(time);
CREATE INDEX audit_tenant ON audit_log(tenant_id, id);
`,
  },
  {
    version: 2,
    name: "grant-lookup-index",
    // The S3 authorizer looks grants up by bucket id on every non-owner request.
    sql: `CREATE INDEX grants_bucket_id ON grants(bucket_id, expires_at);`,
  },
  {
    version: 3,
    name: "job-state",
    // Background jobs keep their checkpoint and last results here (the integrity scrubber), so a
    // restart resumes a pass instead of starting it over.
    sql:
      `CREATE TABLE job_state (name TEXT PRIMARY KEY, value TEXT NOT NULL, updated INTEGER NOT NULL);`,
  },
  {
    version: 4,
    name: "alerts",
    // One row per alert episode: raised, maybe escalated or eased, then resolved (alerts.ts).
    sql: `
CREATE TABLE alerts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  key TEXT NOT NULL,
  tenant_id TEXT,
  level TEXT NOT NULL CHECK (level IN ('warning', 'critical')),
  title TEXT NOT NULL,
  detail TEXT NOT NULL DEFAULT '',
  raised_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  resolved_at INTEGER,
  read_at INTEGER
);
CREATE UNIQUE INDEX alerts_active_key ON alerts(key) WHERE resolved_at IS NULL;
CREATE INDEX alerts_updated ON alerts(updated_at);
`,
  },
  {
    version: 5,
    name: "metrics-history",
    // Per-minute and per-hour request figures per S3 operation ("*": all), history/store.ts.
    sql: metricsTable("metrics_minute") + metricsTable("metrics_hour"),
  },
  {
    version: 6,
    name: "kms-keys",
    // The built-in key service (server/crypto/builtin_kms.ts): keys per namespace ('' global,
    // else a tenant id), each with versions of material sealed by a master key (kek).
    sql: `
CREATE TABLE kms_keys (
  ns TEXT NOT NULL,
  id TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL CHECK (state IN ('Enabled', 'Disabled')),
  is_default INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  rotated_at INTEGER,
  PRIMARY KEY (ns, id)
);
CREATE UNIQUE INDEX kms_keys_default ON kms_keys(ns) WHERE is_default = 1;
CREATE TABLE kms_key_versions (
  ns TEXT NOT NULL,
  key_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  kek TEXT NOT NULL,
  sealed BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (ns, key_id, version),
  FOREIGN KEY (ns, key_id) REFERENCES kms_keys(ns, id) ON DELETE CASCADE
);
CREATE INDEX kms_key_versions_kek ON kms_key_versions(kek);
`,
  },
  {
    version: 7,
    name: "event-notifications",
    // Webhook targets of event notifications (features/notifications/targets.ts: ns '' global,
    // else a tenant id; header value and signing secret sealed by the secret box) and the
    // durable delivery queue (queue.ts): one row per (feed seq, configuration Id), pending or a
    // dead letter.
    sql: `
CREATE TABLE webhook_targets (
  ns TEXT NOT NULL,
  name TEXT NOT NULL,
  url TEXT NOT NULL,
  auth_header TEXT,
  auth_sealed TEXT,
  secret_sealed TEXT,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (ns, name)
);
CREATE TABLE notification_queue (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  seq TEXT NOT NULL,
  config_id TEXT NOT NULL,
  ns TEXT NOT NULL,
  bucket TEXT NOT NULL,
  key TEXT NOT NULL,
  event TEXT NOT NULL,
  target_ns TEXT NOT NULL,
  target TEXT NOT NULL,
  payload TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER NOT NULL,
  last_error TEXT,
  state TEXT NOT NULL CHECK (state IN ('pending', 'dead')),
  created_at INTEGER NOT NULL,
  UNIQUE (seq, config_id)
);
CREATE INDEX notification_queue_due ON notification_queue(state, next_at);
`,
  },
  {
    version: 8,
    name: "replication",
    // Bucket replication (server/features/replication/): remote destinations per namespace with
    // their secret sealed by the master key; the durable queue of copies and deletes (one row
    // per change and rule, idempotent by (seq, rule); state 'dead' is the dead-letter list);
    // paused rules; buckets replicated on a schedule or by hand instead of in real time.
    sql: `
CREATE TABLE replication_destinations (
  ns TEXT NOT NULL,
  name TEXT NOT NULL,
  endpoint TEXT NOT NULL,
  region TEXT NOT NULL,
  bucket TEXT NOT NULL,
  path_style INTEGER NOT NULL DEFAULT 1,
  conflict TEXT NOT NULL DEFAULT 'source' CHECK (conflict IN ('source', 'newer')),
  access_key TEXT NOT NULL,
  sealed_secret TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (ns, name)
);
CREATE TABLE replication_queue (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  seq TEXT NOT NULL,
  bucket_id TEXT NOT NULL,
  ns TEXT NOT NULL,
  bucket TEXT NOT NULL,
  rule_id TEXT NOT NULL,
  destination TEXT NOT NULL,
  key TEXT NOT NULL,
  version_id TEXT,
  op TEXT NOT NULL CHECK (op IN ('put', 'marker')),
  size INTEGER NOT NULL DEFAULT 0,
  state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'dead')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER NOT NULL,
  last_error TEXT,
  queued_at INTEGER NOT NULL,
  UNIQUE (seq, rule_id)
);
CREATE INDEX replication_queue_ready ON replication_queue(state, next_at, id);
CREATE INDEX replication_queue_key ON replication_queue(bucket_id, rule_id, key, id);
CREATE TABLE replication_paused (
  bucket_id TEXT NOT NULL,
  rule_id TEXT NOT NULL,
  PRIMARY KEY (bucket_id, rule_id)
);
CREATE TABLE replication_modes (
  bucket_id TEXT PRIMARY KEY,
  ns TEXT NOT NULL,
  bucket TEXT NOT NULL,
  mode TEXT NOT NULL CHECK (mode IN ('realtime', 'scheduled', 'manual')),
  interval_s INTEGER,
  last_sync INTEGER
);
`,
  },
  {
    version: 9,
    name: "inventory-runs",
    // The report history of bucket inventories (features/inventory/): one row per report, with
    // where it was written; the last finished run of a configuration says when the next is due.
    sql: `
CREATE TABLE inventory_runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  bucket_id TEXT NOT NULL,
  config_id TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  finished_at INTEGER,
  status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
  objects INTEGER NOT NULL DEFAULT 0,
  bytes INTEGER NOT NULL DEFAULT 0,
  files INTEGER NOT NULL DEFAULT 0,
  destination TEXT NOT NULL,
  manifest_key TEXT,
  error TEXT
);
CREATE INDEX inventory_runs_config ON inventory_runs(bucket_id, config_id, started_at);
`,
  },
  {
    version: 10,
    name: "share-links",
    // Public links to one object (server/features/shares/): the token is kept only as its
    // SHA-256; the link acts with its creator's read access, so `created_by` is checked at each
    // use. `ns` is the bucket's namespace ('' global), `bucket_id` tells a re-created bucket apart.
    sql: `
CREATE TABLE share_links (
  id TEXT PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE,
  ns TEXT NOT NULL,
  bucket TEXT NOT NULL,
  bucket_id TEXT NOT NULL,
  object_key TEXT NOT NULL,
  version_id TEXT,
  created_by TEXT NOT NULL,
  created_by_name TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  revoked_at INTEGER,
  revoked_by TEXT,
  access_count INTEGER NOT NULL DEFAULT 0,
  last_access_at INTEGER
);
CREATE INDEX share_links_bucket ON share_links(ns, bucket, created_at);
CREATE INDEX share_links_creator ON share_links(created_by, created_at);
`,
  },
  {
    version: 11,
    name: "replication-metadata-tasks",
    // The replication queue also carries metadata-only changes of a version (its tags, its
    // retention, its legal hold: copied alone, without the bytes). SQLite cannot alter a CHECK
    // constraint, so the table is rebuilt with its rows, ids and indexes.
    sql: `
CREATE TABLE replication_queue_v11 (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  seq TEXT NOT NULL,
  bucket_id TEXT NOT NULL,
  ns TEXT NOT NULL,
  bucket TEXT NOT NULL,
  rule_id TEXT NOT NULL,
  destination TEXT NOT NULL,
  key TEXT NOT NULL,
  version_id TEXT,
  op TEXT NOT NULL CHECK (op IN ('put', 'marker', 'tags', 'retention', 'legalhold')),
  size INTEGER NOT NULL DEFAULT 0,
  state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'dead')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER NOT NULL,
  last_error TEXT,
  queued_at INTEGER NOT NULL,
  UNIQUE (seq, rule_id)
);
INSERT INTO replication_queue_v11 SELECT * FROM replication_queue;
DROP TABLE replication_queue;
ALTER TABLE replication_queue_v11 RENAME TO replication_queue;
CREATE INDEX replication_queue_ready ON replication_queue(state, next_at, id);
CREATE INDEX replication_queue_key ON replication_queue(bucket_id, rule_id, key, id);
`,
  },
  {
    version: 12,
    name: "notification-queue-rows",
    // A notification row holds the change's fields its message needs, not the message: the
    // worker builds AWS's JSON at delivery (decision 0024). Rows queued before keep their message
    // in `payload` (null in new rows). Plain INTEGER PRIMARY KEY instead of AUTOINCREMENT: no
    // sqlite_sequence page rewritten by every insert's commit; an id can only be given again
    // after every row above it is gone. The table is rebuilt (SQLite cannot drop NOT NULL) with
    // its rows and ids.
    sql: `
CREATE TABLE notification_queue_v12 (
  id INTEGER PRIMARY KEY,
  seq TEXT NOT NULL,
  config_id TEXT NOT NULL,
  ns TEXT NOT NULL,
  bucket TEXT NOT NULL,
  key TEXT NOT NULL,
  event TEXT NOT NULL,
  target_ns TEXT NOT NULL,
  target TEXT NOT NULL,
  version_id TEXT,
  size INTEGER,
  etag TEXT,
  principal TEXT,
  source_ip TEXT,
  request_id TEXT,
  owner_id TEXT NOT NULL DEFAULT '',
  payload TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER NOT NULL,
  last_error TEXT,
  state TEXT NOT NULL CHECK (state IN ('pending', 'dead')),
  created_at INTEGER NOT NULL,
  UNIQUE (seq, config_id)
);
INSERT INTO notification_queue_v12
  (id, seq, config_id, ns, bucket, key, event, target_ns, target, payload, attempts, next_at,
   last_error, state, created_at)
SELECT id, seq, config_id, ns, bucket, key, event, target_ns, target, payload, attempts, next_at,
  last_error, state, created_at
FROM notification_queue;
DROP TABLE notification_queue;
ALTER TABLE notification_queue_v12 RENAME TO notification_queue;
CREATE INDEX notification_queue_due ON notification_queue(state, next_at);
`,
  },
];

/** A history table of the metrics recorder: one row per time step and operation. */
function metricsTable(name: string): string {
  return `
CREATE TABLE ${name} (
  t INTEGER NOT NULL,
  op TEXT NOT NULL,
  requests INTEGER NOT NULL,
  errors INTEGER NOT NULL,
  rejected INTEGER NOT NULL,
  bytes_in INTEGER NOT NULL,
  bytes_out INTEGER NOT NULL,
  hist TEXT NOT NULL,
  storage_bytes INTEGER,
  storage_objects INTEGER,
  PRIMARY KEY (t, op)
) WITHOUT ROWID;
`;
}
