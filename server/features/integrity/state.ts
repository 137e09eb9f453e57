/**
 * What the integrity scrubber keeps across restarts, in the `job_state` table of the server's
 * SQLite database: the pass in progress with its position (the checkpoint), and the last
 * finished pass with its findings.
 */
import type { Db } from "../../db/mod.ts";

/** One corrupt or unreadable version. */
export interface IntegrityFinding {
  /** Namespace of the bucket ("" global, else the tenant id). */
  ns: string;
  bucket: string;
  key: string;
  versionId: string;
  reason: string;
  /** When it was found (ms). */
  at: number;
}

/** Findings a pass keeps (the count goes on past it). */
export const FINDINGS_KEPT = 1000;

/** One walk over every stored version, or a check of one bucket. */
export interface ScrubPass {
  startedAt: number;
  /** null while it runs. */
  endedAt: number | null;
  /** Versions verified (delete markers are not counted). */
  objects: number;
  bytes: number;
  /** Versions that could not be verified (SSE-C) or went away while read. */
  skipped: number;
  /** Corrupt versions found (`findings` keeps the first FINDINGS_KEPT). */
  corrupt: number;
  findings: IntegrityFinding[];
}

/** Where a pass stands: the bucket it is in and the last version it verified there. */
export interface ScrubPosition {
  ns: string;
  bucket: string;
  bucketId: string;
  keyMarker: string;
  versionIdMarker: string;
}

export interface ScrubState {
  v: 1;
  current: { pass: ScrubPass; position: ScrubPosition | null } | null;
  last: ScrubPass | null;
}

const NAME = "integrity-scrub";

export function emptyPass(now: number): ScrubPass {
  return {
    startedAt: now,
    endedAt: null,
    objects: 0,
    bytes: 0,
    skipped: 0,
    corrupt: 0,
    findings: [],
  };
}

/** Adds a finding to a pass (counted always, kept up to FINDINGS_KEPT). */
export function addFinding(pass: ScrubPass, f: IntegrityFinding): void {
  pass.corrupt++;
  if (pass.findings.length < FINDINGS_KEPT) pass.findings.push(f);
}

/** A pass as the console API and the admin CLI show it; `visible` picks the findings shown. */
export function passView(p: ScrubPass, visible: (f: IntegrityFinding) => boolean = () => true) {
  const shown = p.findings.filter(visible);
  return {
    startedAt: p.startedAt,
    endedAt: p.endedAt,
    checkedObjects: p.objects,
    checkedBytes: p.bytes,
    skipped: p.skipped,
    corruptCount: shown.length === p.findings.length ? p.corrupt : shown.length,
    /** `tenantId` null: the global namespace. */
    corrupt: shown.map((f) => ({
      tenantId: f.ns || null,
      bucket: f.bucket,
      key: f.key,
      versionId: f.versionId,
      reason: f.reason,
      at: f.at,
    })),
  };
}

export function loadScrubState(db: Db): ScrubState {
  const row = db.prepare("SELECT value FROM job_state WHERE name = ?").get(NAME) as
    | { value: string }
    | undefined;
  if (!row) return { v: 1, current: null, last: null };
  return JSON.parse(row.value) as ScrubState;
}

export function saveScrubState(db: Db, state: ScrubState, now: number): void {
  db.prepare(
    `INSERT INTO job_state (name, value, updated) VALUES (?, ?, ?)
     ON CONFLICT(name) DO UPDATE SET value = excluded.value, updated = excluded.updated`,
  ).run(NAME, JSON.stringify(state), now);
}
