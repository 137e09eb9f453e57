/**
 * The admin CLI's `keys` commands (docs/operations.md "Encryption keys"):
 *   keys status   master keys and the rotation's progress
 *   keys rotate   a new master key; the server rewraps data keys in the background (online), or
 *                 this process does it to the end (offline: the server stopped)
 *   keys export --out FILE [--passphrase-file F]   the key material, sealed under a passphrase
 *   keys import --in FILE [--passphrase-file F] [--force]   onto a stopped server's data dir
 * `status` and `rotate` work online (`--url`) or on the data dir; `export` reads the data dir's
 * key files (the server may run); `import` takes the data dir's lock.
 */
import { loadConfig } from "../server/config.ts";
import { createServerApp } from "../server/app.ts";
import { createLogger } from "../server/log.ts";
import { lockDataDir, openStorage, unlockDataDir } from "../server/storage/mod.ts";
import { Keyring, keyringPath } from "../server/crypto/keyring.ts";
import type { RotationStatus } from "../server/features/encryption/rotation.ts";
import { exportKeys, importKeys, KeyExportError } from "../server/crypto/key_export.ts";
import { consoleClientOf } from "./admin_console.ts";

export const KEYS_USAGE = `  keys status | keys rotate    (online or on the data dir)
  keys export --out FILE [--passphrase-file F]
  keys import --in FILE [--passphrase-file F] [--force]   (offline only)`;

const out = (v: unknown) => console.log(JSON.stringify(v, null, 2));

/** Reads a passphrase: the first line of `--passphrase-file`, else from the terminal (hidden). */
async function passphraseOf(flags: Map<string, string>, confirm: boolean): Promise<string> {
  const file = flags.get("passphrase-file");
  if (file) return (await Deno.readTextFile(file)).split(/\r?\n/)[0];
  const first = await readHidden("Passphrase: ");
  if (confirm && await readHidden("Passphrase again: ") !== first) {
    throw new KeyExportError("The two passphrases differ");
  }
  return first;
}

/** A line from standard input, not echoed when it is a terminal. */
async function readHidden(label: string): Promise<string> {
  const enc = new TextEncoder();
  const tty = Deno.stdin.isTerminal();
  await Deno.stderr.write(enc.encode(label));
  if (tty) Deno.stdin.setRaw(true);
  const bytes: number[] = [];
  const buf = new Uint8Array(1);
  try {
    for (;;) {
      const n = await Deno.stdin.read(buf);
      if (n === null || buf[0] === 10 || buf[0] === 13) break;
      if (buf[0] === 3) throw new KeyExportError("Interrupted");
      if (buf[0] === 127 || buf[0] === 8) bytes.pop();
      else bytes.push(buf[0]);
    }
  } finally {
    if (tty) Deno.stdin.setRaw(false);
    await Deno.stderr.write(enc.encode("\n"));
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

/** The server's app on the data dir, for offline `status` and `rotate` (no listeners). */
async function offlineApp(dataDir: string) {
  const cfg = loadConfig({
    args: ["--data-dir", dataDir, "--lifecycle-interval", "0", "--sweep-interval", "0"],
  });
  return await createServerApp(cfg, { log: createLogger("warn") });
}

/** The status as a stopped server left it (nothing resumed). */
async function offlineStatus(dataDir: string): Promise<RotationStatus> {
  // Keyring.open would create a keyring: on a restored data dir that would stand in the way of
  // the import.
  await Deno.stat(keyringPath(dataDir)).catch(() => {
    throw new KeyExportError(
      `"${dataDir}" has no keyring.json: import the key export (keys import) or start the server`,
    );
  });
  const storage = await openStorage({ dataDir, log: createLogger("warn") });
  try {
    const keyring = await Keyring.open(dataDir);
    const retiring = keyring.ids().filter((id) => id !== keyring.activeId);
    return {
      activeKeyId: keyring.activeId,
      keys: keyring.ids().length,
      retiring,
      running: false,
      progress: await storage.backend.rewrapProgress(),
      error: retiring.length ? "the rotation resumes when the server starts" : null,
    };
  } finally {
    await storage.close();
  }
}

export async function runKeysCommand(
  cmd: string | undefined,
  flags: Map<string, string>,
): Promise<number> {
  const dataDir = flags.get("data-dir") ?? Deno.env.get("MAXIOFS_DATA_DIR") ?? "./data";
  const online = flags.has("url");
  try {
    switch (cmd) {
      case "status":
      case "rotate": {
        if (online) {
          const client = await consoleClientOf(flags);
          try {
            out(
              cmd === "status"
                ? await client.call("GET", "/encryption/status")
                : await client.call("POST", "/encryption/rotate"),
            );
          } finally {
            await client.close();
          }
          return 0;
        }
        if (cmd === "status") {
          out(await offlineStatus(dataDir));
          return 0;
        }
        const app = await offlineApp(dataDir);
        try {
          // A rotation left unfinished resumes as the app opens: let it end first.
          await app.encryption.idle();
          await app.encryption.rotate();
          const outcome = await app.encryption.idle();
          out({ outcome, ...await app.encryption.status() });
          return outcome === "retired" ? 0 : 1;
        } finally {
          await app.close();
        }
      }
      case "export": {
        const file = flags.get("out");
        if (!file) throw new KeyExportError("keys export needs --out FILE");
        const doc = await exportKeys(dataDir, await passphraseOf(flags, true));
        await Deno.writeTextFile(file, JSON.stringify(doc, null, 2) + "\n", { mode: 0o600 });
        out({ exported: file, created: doc.created });
        return 0;
      }
      case "import": {
        if (online) throw new KeyExportError("keys import works on a stopped server's data dir");
        const file = flags.get("in");
        if (!file) throw new KeyExportError("keys import needs --in FILE");
        const text = await Deno.readTextFile(file);
        const passphrase = await passphraseOf(flags, false);
        // The server must be stopped: it reads the key files only when it starts.
        const lock = await lockDataDir(dataDir);
        try {
          out(
            await importKeys(dataDir, text, passphrase, { force: flags.get("force") === "true" }),
          );
        } finally {
          await unlockDataDir(lock);
        }
        return 0;
      }
      default:
        console.error(`Unknown command "keys ${cmd ?? ""}"\n${KEYS_USAGE}`);
        return 2;
    }
  } catch (e) {
    console.error((e as Error).message);
    return 1;
  }
}
