/**
 * Master-key rotation (docs/security.md "Rotation and recovery"): `rotate()` adds a master key and
 * makes it active; a background job then runs rewrap passes over storage (`Backend.rewrapDataKeys`)
 * and the key service's material until a whole pass finds nothing left under the old keys, and
 * only then retires them from the keyring. The keyring itself says whether a rotation is
 * unfinished (it holds more than the active key), so a restart resumes it (`resume()`), and the
 * pass resumes from its checkpoint in KV.
 */
import type { Backend, RewrapProgress } from "../../storage/mod.ts";
import type { Logger } from "../../log.ts";

/** What rotation needs of the master keyring (server/crypto/keyring.ts implements it). */
export interface MasterKeyring {
  readonly activeId: string;
  ids(): string[];
  wrap(dk: Uint8Array): Promise<{ wrapped: Uint8Array; kek: string }> | {
    wrapped: Uint8Array;
    kek: string;
  };
  unwrap(kek: string, wrapped: Uint8Array): Promise<Uint8Array> | Uint8Array;
  /** Adds a key and makes it active; resolves to its id. */
  rotate(): Promise<string>;
  /** Removes a key that is not the active one. */
  retire(id: string): Promise<void>;
}

/** Key-service material sealed under master keys (server/crypto/builtin_kms.ts). */
export interface SealedMaterial {
  /** Reseals every material whose kek `from` names under the active master key; the count. */
  rewrapMaterial(from: (kek: string) => boolean): Promise<number>;
}

/** What the console, the admin CLI and the API show. */
export interface RotationStatus {
  activeKeyId: string;
  /** Master keys in the keyring (the active one and those a rotation still has to retire). */
  keys: number;
  /** Old keys kept until the rewrap ends. */
  retiring: string[];
  /** A rotation job runs now. */
  running: boolean;
  /** The latest rewrap pass (null: no rotation ever ran). */
  progress: RewrapProgress | null;
  /** Why the last run stopped short (it resumes at the next start or rotation). */
  error: string | null;
}

export class RotationRunningError extends Error {
  constructor() {
    super("Cannot rotate the master key: a rotation is still rewrapping data keys");
  }
}

export interface RotationOptions {
  keyring: MasterKeyring;
  storage: Backend;
  /** The key service whose material master keys seal (null: none). */
  kms: SealedMaterial | null;
  log: Logger;
  /** Passes one run makes before it gives up until the next start (writers kept keys busy). */
  maxPasses?: number;
  /** Stop each pass after this many entries (tests: a rotation interrupted midway). */
  passLimit?: number;
}

/** How a run ended. */
export type RunOutcome = "retired" | "interrupted" | "incomplete";

/**
 * Data keys under `m:<id>` of a key of the keyring other than the active one are to be rewrapped
 * (a record naming a key the keyring does not hold cannot be read, nor rewrapped).
 */
export function staleMasterKek(activeId: string, ids: string[]): (kek: string) => boolean {
  const old = new Set(ids.filter((id) => id !== activeId).map((id) => `m:${id}`));
  return (kek) => old.has(kek);
}

export class MasterKeyRotation {
  readonly #o: RotationOptions;
  #running: Promise<RunOutcome> | null = null;
  #abort: AbortController | null = null;
  #error: string | null = null;
  /** How the last run ended (null: none ran in this process). */
  #last: RunOutcome | null = null;

  constructor(opts: RotationOptions) {
    this.#o = opts;
  }

  async status(): Promise<RotationStatus> {
    const k = this.#o.keyring;
    return {
      activeKeyId: k.activeId,
      keys: k.ids().length,
      retiring: k.ids().filter((id) => id !== k.activeId),
      running: this.#running !== null,
      progress: await this.#o.storage.rewrapProgress(),
      error: this.#error,
    };
  }

  /** Adds a master key, makes it active and starts rewrapping in the background. */
  async rotate(): Promise<RotationStatus> {
    if (this.#running) throw new RotationRunningError();
    const id = await this.#o.keyring.rotate();
    this.#o.log.info("master key rotated; rewrapping data keys", { activeKeyId: id });
    this.#start(true);
    return await this.status();
  }

  /** At start: continues a rotation a stop interrupted (old keys still in the keyring). */
  resume(): void {
    if (this.#running || this.#o.keyring.ids().length < 2) return;
    this.#o.log.info("resuming the master-key rotation");
    this.#start(false);
  }

  /** How the running job ends, or how the last one ended (null: none ran in this process). */
  idle(): Promise<RunOutcome | null> {
    return this.#running ?? Promise.resolve(this.#last);
  }

  /** Stops the job at its next entry (checkpointed); resolves once it has stopped. */
  async stop(): Promise<void> {
    this.#abort?.abort();
    await this.#running?.catch(() => {});
  }

  #start(fresh: boolean): void {
    const abort = new AbortController();
    this.#abort = abort;
    this.#error = null;
    this.#running = this.#run(fresh, abort.signal).catch((e) => {
      this.#error = String((e as Error)?.message ?? e);
      this.#o.log.error("master-key rotation failed", { error: this.#error });
      return "incomplete" as const;
    }).then((outcome) => {
      this.#last = outcome;
      return outcome;
    }).finally(() => {
      this.#running = null;
      this.#abort = null;
    });
  }

  async #run(fresh: boolean, signal: AbortSignal): Promise<RunOutcome> {
    const { keyring, storage, kms, log } = this.#o;
    const maxPasses = this.#o.maxPasses ?? 10;
    // Writes begun before the rotation may commit keys wrapped under the old one after a pass
    // went by: only a pass that begins once they have all ended may retire it.
    const settled = storage.writesSettled();
    let writesEnded = false;
    settled.then(() => writesEnded = true);
    for (let n = 0; n < maxPasses; n++) {
      const countable = writesEnded;
      const active = keyring.activeId;
      const stale = staleMasterKek(active, keyring.ids());
      const p = await storage.rewrapDataKeys({
        stale,
        rewrap: async (kek, dk) => {
          const plain = await keyring.unwrap(kek, dk);
          const { wrapped, kek: to } = await keyring.wrap(plain);
          return { kek: to, dk: wrapped };
        },
        fresh: fresh && n === 0,
        limit: this.#o.passLimit,
        signal,
      });
      if (p.finished === null) return "interrupted";
      const material = kms ? await kms.rewrapMaterial(stale) : 0;
      log.info("rewrap pass finished", { ...p, material });
      if (p.rewrapped > 0 || p.skipped > 0 || material > 0) continue;
      if (!countable) {
        await settled;
        continue;
      }
      // A whole pass, begun after the last change, found nothing left under the old keys.
      for (const id of keyring.ids()) if (id !== active) await keyring.retire(id);
      log.info("old master keys retired", { activeKeyId: active });
      return "retired";
    }
    this.#error = `data keys still under old master keys after ${maxPasses} passes; ` +
      "the rotation resumes at the next start";
    log.warn("master-key rotation incomplete", { error: this.#error });
    return "incomplete";
  }
}
