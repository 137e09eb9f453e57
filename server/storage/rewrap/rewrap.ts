/**
 * The rewrap pass of a master-key rotation (docs/decisions/0012, docs/security.md "Rotation and
 * recovery"): every stored data key wrapped under an old master key is unwrapped and wrapped again
 * under the active one, without touching object bytes. Storage never holds a master key: the
 * caller's `stale` says which `kek` to leave and its `rewrap` does the crypto.
 *
 * Order, so that what a pass has visited stays clean while writers move data keys around:
 * 1. open uploads (`["mpu"]`, their `["mpart"]` parts) first, because Complete copies part keys
 *    into object records, which come later;
 * 2. every key with `["ver"]` entries, each key whole: its versions, then its `["obj"]` mirror,
 *    in commits that check the key's `["vhead"]` (every change of a key's versions rewrites it),
 *    so a version moved or copied meanwhile makes the key start over;
 * 3. every `["obj"]` entry (solo versions, and any mirror step 2 did not see), again by key.
 * New data keys are wrapped under the active key, so a key once visited stays clean; the caller
 * retires old keys only after a whole pass finds nothing left under them.
 *
 * Chunked part lists carry one data key per part in `["objparts"]` chunks: they are rewrapped
 * chunk by chunk, each part then naming its `kek`, before the record's own key; an open upload's
 * parts likewise before the upload record.
 */
import {
  objectKey,
  objectPartsKey,
  partPrefix,
  REWRAP_STATE,
  uploadKey,
  versionHeadKey,
  versionKeyPrefix,
} from "../meta/keys.ts";
import type { StorageCore } from "../core.ts";
import type { PartRecord, UploadRecord } from "../multipart/multipart.ts";
import type { StoredEncryption } from "../../crypto/types.ts";
import type { ObjectRecord, PartRef, RewrapOptions, RewrapProgress } from "../types.ts";

/** Attempts at one key (or entry) whose writers keep changing it before it counts as skipped. */
const KEY_ATTEMPTS = 10;
/** Version records per commit (each with its versionstamp check). */
const BATCH = 20;
/** Entries examined between checkpoints (a checkpoint is also written after each rewrap). */
const CHECKPOINT_EVERY = 200;

/** The checkpoint: progress, and where to resume (the last key fully handled). */
interface RewrapState {
  v: 1;
  progress: RewrapProgress;
  /** Tuple of the last handled entry of the phase (`[uploadId]`, `[bucketId, key]`). */
  cursor: string[] | null;
  /** Stored object versions when the pass began (the usage counters). */
  estimate: number;
  /** Version records examined (ver entries, solo records). */
  seen: number;
}

type EncPart = { dk?: Uint8Array; kek?: string };

/** A data key that would not rewrap (logged and counted as skipped; its record stays as is). */
class RewrapFailed extends Error {}
type WithEnc = { enc?: StoredEncryption };

/** The checkpointed progress of the latest pass, or null when no pass ever ran. */
export async function rewrapProgress(core: StorageCore): Promise<RewrapProgress | null> {
  const st = (await core.meta.get<RewrapState>(REWRAP_STATE)).value;
  return st ? liveProgress(st) : null;
}

function liveProgress(st: RewrapState): RewrapProgress {
  const remaining = st.progress.finished === null ? Math.max(0, st.estimate - st.seen) : 0;
  return { ...st.progress, remaining };
}

/** Stored object versions over all namespaces, from the usage counters. */
async function storedVersions(core: StorageCore): Promise<number> {
  let n = 0;
  for await (const e of core.meta.list<Deno.KvU64>({ prefix: ["tstat"] })) {
    if (e.key[2] === "objects" && e.value instanceof Deno.KvU64) {
      const v = e.value.value;
      if (v < 1n << 63n) n += Number(v);
    }
  }
  return n;
}

/** The state a pass continues from: the checkpoint's unfinished pass, else a new one. */
async function beginState(core: StorageCore, fresh: boolean): Promise<RewrapState> {
  const old = (await core.meta.get<RewrapState>(REWRAP_STATE)).value;
  if (old && old.progress.finished === null && !fresh) return old;
  return {
    v: 1,
    progress: {
      pass: (old?.progress.pass ?? 0) + 1,
      phase: "uploads",
      scanned: 0,
      rewrapped: 0,
      skipped: 0,
      remaining: 0,
      started: core.clock.now(),
      finished: null,
    },
    cursor: null,
    estimate: await storedVersions(core),
    seen: 0,
  };
}

/** The pass's walk over the keyspace; one per `rewrapDataKeys` call. */
class RewrapPass {
  #sinceCheckpoint = 0;
  #examined = 0;

  constructor(
    private readonly core: StorageCore,
    private readonly o: RewrapOptions,
    readonly st: RewrapState,
  ) {}

  /** False once the caller's limit or signal says stop (the checkpoint then holds the cursor). */
  #more(): boolean {
    if (this.o.signal?.aborted) return false;
    return this.o.limit === undefined || this.#examined < this.o.limit;
  }

  async #examine(cursor: string[], changed: boolean): Promise<void> {
    this.st.progress.scanned++;
    this.#examined++;
    this.st.cursor = cursor;
    if (changed || ++this.#sinceCheckpoint >= CHECKPOINT_EVERY) await this.checkpoint();
  }

  /**
   * Rewraps one data key. A key that does not open (a damaged record) is logged and counted as
   * skipped, so the rest of the pass goes on and the old master key is not retired.
   */
  async #rewrap(
    kek: string,
    dk: Uint8Array,
    what: string,
  ): Promise<{ kek: string; dk: Uint8Array }> {
    try {
      return await this.o.rewrap(kek, dk);
    } catch (e) {
      this.st.progress.skipped++;
      this.core.log.warn("a data key did not rewrap; its record keeps the old master key", {
        record: what,
        kek,
        error: String((e as Error)?.message ?? e),
      });
      throw new RewrapFailed();
    }
  }

  async checkpoint(): Promise<void> {
    this.#sinceCheckpoint = 0;
    this.st.progress.remaining = liveProgress(this.st).remaining;
    await this.core.meta.set(REWRAP_STATE, this.st);
  }

  /** Runs the phases from the cursor; true when the pass reached its end. */
  async run(): Promise<boolean> {
    const p = this.st.progress;
    if (p.phase === "uploads") {
      if (!await this.#uploads()) return false;
      this.#nextPhase("versions");
    }
    if (p.phase === "versions") {
      if (!await this.#keys(["ver"], true)) return false;
      this.#nextPhase("objects");
    }
    if (p.phase === "objects") {
      if (!await this.#keys(["obj"], false)) return false;
      this.#nextPhase("done");
    }
    p.finished = this.core.clock.now();
    p.remaining = 0;
    await this.checkpoint();
    return true;
  }

  #nextPhase(phase: RewrapProgress["phase"]): void {
    this.st.progress.phase = phase;
    this.st.cursor = null;
  }

  /** A list selector over `prefix` that starts just past the cursor's entry (and its subkeys). */
  #from(prefix: Deno.KvKey): Deno.KvListSelector {
    const c = this.st.cursor;
    if (!c) return { prefix };
    const last = c.length - 1;
    // "x\0" is the least string after "x": past the entry and every key under it.
    return { prefix, start: [...prefix, ...c.slice(0, last), c[last] + "\0"] };
  }

  async #uploads(): Promise<boolean> {
    for await (const ue of this.core.meta.list<UploadRecord & WithEnc>(this.#from(["mpu"]))) {
      if (!this.#more()) return false;
      const uploadId = ue.key[1] as string;
      const changed = await this.#upload(uploadId);
      await this.#examine([uploadId], changed);
    }
    return true;
  }

  /** An upload's parts (each then naming its kek), then the upload record. */
  async #upload(uploadId: string): Promise<boolean> {
    let changed = false;
    const upKek = (await this.core.meta.get<UploadRecord & WithEnc>(uploadKey(uploadId))).value
      ?.enc?.kek;
    for await (
      const pe of this.core.meta.list<PartRecord & EncPart>({ prefix: partPrefix(uploadId) })
    ) {
      let e: Deno.KvEntryMaybe<PartRecord & EncPart> = pe;
      for (let attempt = 0;; attempt++) {
        const p = e.value;
        const kek = p?.dk ? p.kek ?? upKek : undefined;
        if (!p?.dk || !kek || !this.o.stale(kek)) break;
        if (attempt >= KEY_ATTEMPTS) {
          this.st.progress.skipped++;
          break;
        }
        let r;
        try {
          r = await this.#rewrap(kek, p.dk, `upload ${uploadId} part ${p.n}`);
        } catch (err) {
          if (err instanceof RewrapFailed) break;
          throw err;
        }
        const res = await this.core.meta.write().check(e).set(e.key, { ...p, dk: r.dk, kek: r.kek })
          .commit();
        if (res.ok) {
          changed = true;
          break;
        }
        e = await this.core.meta.get<PartRecord & EncPart>(e.key);
      }
    }
    for (let attempt = 0;; attempt++) {
      const ue = await this.core.meta.get<UploadRecord & WithEnc>(uploadKey(uploadId));
      const up = ue.value;
      if (!up?.enc || !this.o.stale(up.enc.kek)) break;
      // A running Complete checks the sealed entry: leave it, the object is met later.
      if (up.sealed || attempt >= KEY_ATTEMPTS) {
        this.st.progress.skipped++;
        break;
      }
      let r;
      try {
        r = await this.#rewrap(up.enc.kek, up.enc.dk, `upload ${uploadId}`);
      } catch (err) {
        if (err instanceof RewrapFailed) break;
        throw err;
      }
      const next = { ...up, enc: { ...up.enc, dk: r.dk, kek: r.kek } };
      if ((await this.core.meta.write().check(ue).set(ue.key, next).commit()).ok) {
        this.st.progress.rewrapped++;
        changed = true;
        break;
      }
    }
    return changed;
  }

  /**
   * Walks `["ver"]` or `["obj"]` key by key; a key with anything under an old kek is handled
   * whole (`#key`). `versions`: entries are version records (counted against the estimate).
   */
  async #keys(prefix: Deno.KvKey, versions: boolean): Promise<boolean> {
    let cur: [string, string] | null = null;
    let stale = false;
    const finish = async () => {
      if (!cur) return;
      const changed = stale ? await this.#key(cur[0], cur[1]) : false;
      await this.#examine(cur, changed);
    };
    for await (const e of this.core.meta.list<ObjectRecord>(this.#from(prefix))) {
      const bucketId = e.key[1] as string;
      const key = e.key[2] as string;
      if (!cur || cur[0] !== bucketId || cur[1] !== key) {
        await finish();
        if (!this.#more()) return false;
        cur = [bucketId, key];
        stale = false;
      }
      if (versions ? !e.value.deleteMarker : e.value.solo) this.st.seen++;
      stale ||= this.#isStale(e.value);
    }
    await finish();
    return true;
  }

  #isStale(rec: ObjectRecord): boolean {
    const enc = rec.enc;
    if (!enc) return false;
    if (this.o.stale(enc.kek)) return true;
    return rec.parts?.some((p) => p.dk && this.o.stale(p.kek ?? enc.kek)) ?? false;
  }

  /**
   * One key whole: its versions in batches, then its latest record, each commit checking the
   * key's version head; when a writer changes the key meanwhile it starts over.
   */
  async #key(bucketId: string, key: string): Promise<boolean> {
    let changed = false;
    for (let attempt = 0; attempt < KEY_ATTEMPTS; attempt++) {
      const head = await this.core.meta.get(versionHeadKey(bucketId, key));
      let ok = true;
      let batch: [Deno.KvEntry<ObjectRecord>, ObjectRecord][] = [];
      const flush = async () => {
        if (!batch.length) return;
        const op = this.core.meta.write().check(head);
        for (const [e, next] of batch) op.check(e).set(e.key, next);
        ok = (await op.commit()).ok;
        if (ok) {
          this.st.progress.rewrapped += batch.length;
          changed = true;
        }
        batch = [];
      };
      for await (
        const e of this.core.meta.list<ObjectRecord>({ prefix: versionKeyPrefix(bucketId, key) })
      ) {
        const next = await this.#record(e.value);
        if (next) batch.push([e, next]);
        if (batch.length >= BATCH) await flush();
        if (!ok) break;
      }
      await flush();
      if (!ok) continue;
      const oe = await this.core.meta.get<ObjectRecord>(objectKey(bucketId, key));
      const next = oe.value ? await this.#record(oe.value) : null;
      if (!next) return changed;
      try {
        ok = (await this.core.meta.write().check(head, oe).set(oe.key, next).commit()).ok;
      } finally {
        // GET and HEAD read the latest record from memory: never the one replaced here.
        this.core.meta.latest.forget(bucketId, key);
      }
      if (ok) {
        this.st.progress.rewrapped++;
        return true;
      }
    }
    this.st.progress.skipped++;
    return changed;
  }

  /** The record with its data keys rewrapped, or null when nothing of it is under an old kek. */
  async #record(rec: ObjectRecord): Promise<ObjectRecord | null> {
    const enc = rec.enc;
    if (!enc || !this.#isStale(rec)) return null;
    const what = `${rec.key} version ${rec.versionId}`;
    try {
      if (rec.partsId && !rec.parts && this.o.stale(enc.kek)) {
        // The record may name the new kek only once every chunk's parts name theirs.
        if (!await this.#chunks(rec.partsId, rec.partsChunks ?? 0, enc.kek, what)) return null;
      }
      const top = this.o.stale(enc.kek) ? await this.#rewrap(enc.kek, enc.dk, what) : enc;
      const next: ObjectRecord = { ...rec, enc: { ...enc, dk: top.dk, kek: top.kek } };
      if (rec.parts) next.parts = await this.#parts(rec.parts, enc.kek, top.kek, what);
      return next;
    } catch (e) {
      if (e instanceof RewrapFailed) return null;
      throw e;
    }
  }

  /**
   * Parts with their keys under the record's new `kek`; `kek` is kept only on a part whose key
   * another kek wraps.
   */
  async #parts(
    parts: PartRef[],
    recKek: string,
    newKek: string,
    what: string,
  ): Promise<PartRef[]> {
    const out: PartRef[] = [];
    for (const p of parts) {
      const kek = p.kek ?? recKek;
      if (!p.dk) {
        out.push(p);
        continue;
      }
      const r = this.o.stale(kek)
        ? await this.#rewrap(kek, p.dk, `${what} part ${p.n}`)
        : { kek, dk: p.dk };
      const { kek: _, ...rest } = p;
      out.push(r.kek === newKek ? { ...rest, dk: r.dk } : { ...rest, dk: r.dk, kek: r.kek });
    }
    return out;
  }

  /**
   * A chunked part list, chunk by chunk; each rewrapped part names its kek. False (counted as
   * skipped) when a chunk kept changing: the record then keeps its old kek.
   */
  async #chunks(
    partsId: string,
    chunks: number,
    recKek: string,
    what: string,
  ): Promise<boolean> {
    for (let c = 0; c < chunks; c++) {
      for (let attempt = 0;; attempt++) {
        if (attempt >= KEY_ATTEMPTS) {
          this.st.progress.skipped++;
          return false;
        }
        const ce = await this.core.meta.get<{ v: 1; parts: PartRef[] }>(objectPartsKey(partsId, c));
        if (!ce.value) break;
        const parts = ce.value.parts;
        if (!parts.some((p) => p.dk && this.o.stale(p.kek ?? recKek))) break;
        const next: PartRef[] = [];
        for (const p of parts) {
          const kek = p.kek ?? recKek;
          if (!p.dk || !this.o.stale(kek)) next.push(p);
          else {
            const r = await this.#rewrap(kek, p.dk, `${what} part ${p.n}`);
            next.push({ ...p, dk: r.dk, kek: r.kek });
          }
        }
        const res = await this.core.meta.write().check(ce).set(ce.key, { ...ce.value, parts: next })
          .commit();
        if (res.ok) break;
      }
    }
    return true;
  }
}

/**
 * Runs (or resumes) a rewrap pass and returns its progress; `finished` is null when the limit or
 * the signal stopped it first (the checkpoint resumes it).
 */
export async function rewrapDataKeys(
  core: StorageCore,
  opts: RewrapOptions,
): Promise<RewrapProgress> {
  const st = await beginState(core, opts.fresh ?? false);
  const pass = new RewrapPass(core, opts, st);
  await pass.checkpoint();
  try {
    await pass.run();
  } finally {
    if (st.progress.finished === null) await pass.checkpoint();
  }
  return liveProgress(st);
}
