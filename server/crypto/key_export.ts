/**
 * Export and restore of a data dir's key material (docs/security.md "Rotation and recovery"):
 * the master keyring (`keyring.json`) and the server secrets (`secrets.json`: the key that seals
 * IAM's stored secrets, and the signing key), sealed with AES-256-GCM under a key scrypt derives
 * from a passphrase. Without `keyring.json` no encrypted object can be read, so a backup of the
 * data dir is complete only with an export (or a copy of those files kept apart).
 *
 * The export is one JSON document; its header (format, KDF and parameters) is the additional
 * data of the seal, so changing any of it fails like a wrong passphrase.
 */
import { Buffer } from "node:buffer";
import { createCipheriv, createDecipheriv, randomBytes, scrypt } from "node:crypto";

/** The files an export carries, in the data dir. */
export const KEY_FILES = ["keyring.json", "secrets.json"] as const;

/** scrypt cost: 128 MiB and about half a second per derivation, for a file kept offline. */
const SCRYPT = { N: 2 ** 17, r: 8, p: 1 };
const MIN_PASSPHRASE = 8;

export interface KeyExport {
  format: "maxiofs-key-export";
  v: 1;
  created: string;
  kdf: { name: "scrypt"; N: number; r: number; p: number; salt: string };
  cipher: "aes-256-gcm";
  iv: string;
  /** Ciphertext and the 16-byte tag, base64. */
  data: string;
}

/** What an export holds: the text of each key file the data dir had. */
interface Payload {
  files: Partial<Record<(typeof KEY_FILES)[number], string>>;
}

export class KeyExportError extends Error {}

function derive(passphrase: string, kdf: KeyExport["kdf"]): Promise<Buffer> {
  const { N, r, p } = kdf;
  return new Promise((resolve, reject) =>
    scrypt(
      passphrase.normalize("NFC"),
      Buffer.from(kdf.salt, "base64"),
      32,
      { N, r, p, maxmem: 256 * N * r },
      (err, key) => err ? reject(err) : resolve(key),
    )
  );
}

const headerOf = (e: Pick<KeyExport, "format" | "v" | "kdf" | "cipher">) =>
  Buffer.from(JSON.stringify([e.format, e.v, e.kdf, e.cipher]));

/** Seals the key files of `dataDir` under `passphrase`: the export document. */
export async function exportKeys(
  dataDir: string,
  passphrase: string,
  now: Date = new Date(),
): Promise<KeyExport> {
  if (passphrase.length < MIN_PASSPHRASE) {
    throw new KeyExportError(
      `Cannot export: the passphrase needs at least ${MIN_PASSPHRASE} characters`,
    );
  }
  const payload: Payload = { files: {} };
  for (const name of KEY_FILES) {
    try {
      payload.files[name] = await Deno.readTextFile(`${dataDir}/${name}`);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  if (!payload.files["keyring.json"]) {
    throw new KeyExportError(`Cannot export: "${dataDir}" has no keyring.json`);
  }
  const head = {
    format: "maxiofs-key-export" as const,
    v: 1 as const,
    kdf: { name: "scrypt" as const, ...SCRYPT, salt: randomBytes(16).toString("base64") },
    cipher: "aes-256-gcm" as const,
  };
  const iv = randomBytes(12);
  const c = createCipheriv("aes-256-gcm", await derive(passphrase, head.kdf), iv);
  c.setAAD(headerOf(head));
  const ct = Buffer.concat([c.update(JSON.stringify(payload), "utf8"), c.final(), c.getAuthTag()]);
  return {
    ...head,
    created: now.toISOString(),
    iv: iv.toString("base64"),
    data: ct.toString("base64"),
  };
}

/** Opens an export; a wrong passphrase or a changed file is a `KeyExportError`. */
export async function openExport(text: string, passphrase: string): Promise<Payload> {
  let e: KeyExport;
  try {
    e = JSON.parse(text);
  } catch {
    throw new KeyExportError("Cannot read the export: it is not JSON");
  }
  if (e?.format !== "maxiofs-key-export" || e.v !== 1 || e.kdf?.name !== "scrypt") {
    throw new KeyExportError("Cannot read the export: not a MaxIOFS key export (version 1)");
  }
  const { N, r, p } = e.kdf;
  if (![N, r, p].every(Number.isSafeInteger) || N > 2 ** 20 || r > 32 || p > 16) {
    throw new KeyExportError("Cannot read the export: unsupported scrypt parameters");
  }
  const ct = Buffer.from(e.data, "base64");
  try {
    const d = createDecipheriv(
      "aes-256-gcm",
      await derive(passphrase, e.kdf),
      Buffer.from(e.iv, "base64"),
    );
    d.setAAD(headerOf(e));
    d.setAuthTag(ct.subarray(ct.length - 16));
    const plain = Buffer.concat([d.update(ct.subarray(0, ct.length - 16)), d.final()]);
    return JSON.parse(plain.toString("utf8")) as Payload;
  } catch {
    throw new KeyExportError("Cannot open the export: wrong passphrase, or the file was changed");
  }
}

export interface ImportResult {
  /** Each key file: written (absent before), unchanged (the same), replaced (`force`). */
  files: Record<string, "written" | "unchanged" | "replaced">;
  /** Where a replaced file was kept. */
  kept: string[];
}

/** The active key id a keyring file names (for messages), or "?". */
function activeOf(text: string): string {
  try {
    const k = JSON.parse(text);
    return String(k.active ?? k.activeId ?? "?");
  } catch {
    return "?";
  }
}

async function readMaybe(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/**
 * Writes an export's key files into `dataDir` (the server stopped: the caller holds the data dir's
 * lock). A file that exists with other contents is refused unless `force`, which keeps the old
 * one beside it as `<name>.replaced-<time>`. Nothing is written when anything is refused.
 */
export async function importKeys(
  dataDir: string,
  text: string,
  passphrase: string,
  opts: { force?: boolean; now?: Date } = {},
): Promise<ImportResult> {
  const payload = await openExport(text, passphrase);
  const plan: [string, string, string | null][] = [];
  for (const name of KEY_FILES) {
    const want = payload.files[name];
    if (want === undefined) continue;
    const have = await readMaybe(`${dataDir}/${name}`);
    if (have !== null && have !== want && !opts.force) {
      const detail = name === "keyring.json"
        ? ` (active key "${activeOf(have)}", the export's "${activeOf(want)}")`
        : "";
      throw new KeyExportError(
        `Cannot import: ${name} in "${dataDir}" holds other keys${detail}; ` +
          "--force replaces it and keeps the current file beside it",
      );
    }
    plan.push([name, want, have]);
  }
  await Deno.mkdir(dataDir, { recursive: true });
  const res: ImportResult = { files: {}, kept: [] };
  const stamp = (opts.now ?? new Date()).toISOString().replace(/[:.]/g, "-");
  for (const [name, want, have] of plan) {
    const path = `${dataDir}/${name}`;
    if (have === want) {
      res.files[name] = "unchanged";
      continue;
    }
    if (have !== null) {
      const kept = `${path}.replaced-${stamp}`;
      await Deno.writeTextFile(kept, have, { mode: 0o600 });
      res.kept.push(kept);
    }
    const tmp = `${path}.tmp`;
    await Deno.remove(tmp).catch(() => {});
    await Deno.writeTextFile(tmp, want, { mode: 0o600 });
    await Deno.rename(tmp, path);
    res.files[name] = have === null ? "written" : "replaced";
  }
  return res;
}
