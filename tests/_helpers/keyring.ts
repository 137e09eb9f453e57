/**
 * A master keyring in memory with the shape of server/crypto/keyring.ts (AES-256-GCM wrapping
 * for real: a key wrapped under one master key does not open under another), for tests of the
 * rewrap pass and the rotation job without a data dir's keyring.json.
 */
import { Buffer } from "node:buffer";
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { MasterKeyring } from "../../server/features/encryption/rotation.ts";

export class MemoryKeyring implements MasterKeyring {
  readonly keys = new Map<string, Uint8Array>();
  #active = "";
  #next = 1;

  constructor() {
    this.#add();
  }

  get activeId(): string {
    return this.#active;
  }

  ids(): string[] {
    return [...this.keys.keys()];
  }

  #add(): string {
    const id = `k${this.#next++}`;
    this.keys.set(id, new Uint8Array(randomBytes(32)));
    this.#active = id;
    return id;
  }

  rotate(): Promise<string> {
    return Promise.resolve(this.#add());
  }

  retire(id: string): Promise<void> {
    if (id === this.#active) throw new Error("Cannot retire the active master key");
    this.keys.delete(id);
    return Promise.resolve();
  }

  wrap(dk: Uint8Array): { wrapped: Uint8Array; kek: string } {
    const iv = randomBytes(12);
    const c = createCipheriv("aes-256-gcm", this.keys.get(this.#active)!, iv);
    const ct = Buffer.concat([c.update(dk), c.final(), c.getAuthTag()]);
    return { wrapped: new Uint8Array(Buffer.concat([iv, ct])), kek: `m:${this.#active}` };
  }

  unwrap(kek: string, wrapped: Uint8Array): Uint8Array {
    const key = this.keys.get(kek.slice(2));
    if (!kek.startsWith("m:") || !key) throw new Error(`Cannot unwrap: no master key "${kek}"`);
    const d = createDecipheriv("aes-256-gcm", key, wrapped.subarray(0, 12));
    d.setAuthTag(wrapped.subarray(wrapped.length - 16));
    return new Uint8Array(
      Buffer.concat([d.update(wrapped.subarray(12, wrapped.length - 16)), d.final()]),
    );
  }
}
