/**
 * TLS on the listeners: the certificate and key files (`--tls-cert`, `--tls-key`), read and
 * checked into a `TlsMaterial`, and the TLS listener bound with them. A listener is bound with
 * `reusePort`, so that a reload can bind the next one beside it on the same port before the old
 * one is closed (docs/decisions/0013-tls-reload.md); Deno 2.9.6 allows that on a TLS listener
 * only with `--unstable-net`.
 *
 * Every problem with the files is a `TlsError` whose message names the file and its flag:
 * `Cannot use TLS key "key.pem" (--tls-key): it does not match the certificate "cert.pem"`.
 */
import { X509Certificate } from "node:crypto";

/** The two PEM files of `--tls-cert` and `--tls-key`. */
export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

/** The files' contents, as `Deno.listenTls` takes them. */
export interface TlsMaterial extends TlsFiles {
  cert: string;
  key: string;
}

export class TlsError extends Error {}

/** The protocols offered in the handshake, as `Deno.serve` offers them. */
export const ALPN_PROTOCOLS = ["h2", "http/1.1"];

function readReason(e: unknown): string {
  if (e instanceof Deno.errors.NotFound) return "no such file";
  if (e instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (e instanceof Deno.errors.IsADirectory) return "is a directory";
  return e instanceof Error ? e.message : String(e);
}

/** Reads both files; a file that cannot be read is a `TlsError` naming it. */
export async function readTlsMaterial(
  files: TlsFiles,
  readTextFile: (path: string) => Promise<string> = Deno.readTextFile,
): Promise<TlsMaterial> {
  const read = async (path: string, what: string, flag: string) => {
    try {
      return await readTextFile(path);
    } catch (e) {
      throw new TlsError(`Cannot read TLS ${what} "${path}" (--${flag}): ${readReason(e)}`);
    }
  };
  const cert = await read(files.certFile, "certificate", "tls-cert");
  const key = await read(files.keyFile, "key", "tls-key");
  return { ...files, cert, key };
}

/** Errors of the address rather than of the certificate: the caller reports those. */
function isAddressError(e: unknown): boolean {
  return e instanceof Deno.errors.AddrInUse || e instanceof Deno.errors.AddrNotAvailable ||
    e instanceof Deno.errors.PermissionDenied;
}

/** What is wrong with the certificate or key, from the runtime's (rustls') error. */
export function tlsErrorOf(e: unknown, m: TlsFiles): TlsError {
  const msg = e instanceof Error ? e.message : String(e);
  const cert = `Cannot use TLS certificate "${m.certFile}" (--tls-cert)`;
  const key = `Cannot use TLS key "${m.keyFile}" (--tls-key)`;
  if (msg.includes("--unstable-net")) {
    return new TlsError(
      "TLS needs Deno's --unstable-net flag (a certificate reload binds the next listener " +
        "beside the current one): run with --unstable-net, or `deno task start`",
    );
  }
  if (/No certificates found/i.test(msg)) return new TlsError(`${cert}: no PEM certificate in it`);
  if (/No keys found/i.test(msg)) return new TlsError(`${key}: no PEM private key in it`);
  if (/KeyMismatch|not be consistent/i.test(msg)) {
    return new TlsError(`${key}: it does not match the certificate "${m.certFile}"`);
  }
  if (/decode key|key.*(invalid|unsupported)/i.test(msg)) {
    return new TlsError(`${key}: the key does not parse (${msg})`);
  }
  if (/certificate|BadEncoding/i.test(msg)) {
    return new TlsError(`${cert}: the certificate does not parse (${msg})`);
  }
  return new TlsError(`${cert} with "${m.keyFile}": ${msg}`);
}

/**
 * Binds a TLS listener on `hostname:port` serving `m`. A certificate or key that does not parse,
 * or a key that does not match the certificate, is a `TlsError`; address errors (taken,
 * unavailable, not permitted) are thrown as the runtime's errors.
 */
export function listenTls(hostname: string, port: number, m: TlsMaterial): Deno.TlsListener {
  try {
    return Deno.listenTls({
      hostname,
      port,
      reusePort: true,
      alpnProtocols: ALPN_PROTOCOLS,
      cert: m.cert,
      key: m.key,
    });
  } catch (e) {
    if (isAddressError(e)) throw e;
    throw tlsErrorOf(e, m);
  }
}

/** What the logs say about a certificate: subject, serial, SHA-256 fingerprint, expiry. */
export function certificateSummary(pem: string): Record<string, string> {
  try {
    const c = new X509Certificate(pem);
    return {
      subject: c.subject.replaceAll("\n", ", "),
      serial: c.serialNumber,
      sha256: c.fingerprint256,
      notAfter: c.validToDate.toISOString(),
    };
  } catch {
    return {};
  }
}
