/**
 * Certificate reload (SIGHUP): the files are read again and each TLS listener is bound anew with
 * them beside the current one (`reusePort`); only when every listener is bound do the servers
 * switch to them, so new connections see the new certificate while the connections already
 * open are served to their end. A certificate that cannot be read, does not parse or does not
 * match its key changes nothing: the error is logged and the previous certificate keeps
 * serving (docs/decisions/0013-tls-reload.md).
 */
import type { Logger } from "../log.ts";
import { formatAddr, type GuardedServer } from "./listener.ts";
import {
  certificateSummary,
  listenTls,
  readTlsMaterial,
  TlsError,
  type TlsFiles,
  type TlsMaterial,
} from "./tls.ts";

export interface TlsReloaderOptions {
  files: TlsFiles;
  /** The servers whose listeners serve the certificate (S3, console). */
  servers: GuardedServer[];
  log: Logger;
  readTextFile?: (path: string) => Promise<string>;
}

/** Reloads the certificate of `servers`; reloads requested during one run after it. */
export class TlsReloader {
  #last: Promise<boolean> = Promise.resolve(true);

  constructor(readonly opts: TlsReloaderOptions) {}

  /** Resolves true when the new certificate serves, false when the old one still does. */
  reload(): Promise<boolean> {
    const next = this.#last.then(() => this.#reloadOnce());
    this.#last = next;
    return next;
  }

  async #reloadOnce(): Promise<boolean> {
    const { files, servers, log } = this.opts;
    let material: TlsMaterial;
    const bound: Deno.TlsListener[] = [];
    try {
      material = await readTlsMaterial(files, this.opts.readTextFile);
      for (const s of servers) bound.push(listenTls(s.addr.hostname, s.addr.port, material));
    } catch (e) {
      for (const l of bound) l.close();
      const error = e instanceof TlsError
        ? e.message
        : `${e instanceof Error ? e.message : String(e)} (${
          formatAddr(servers[bound.length].addr.hostname, servers[bound.length].addr.port)
        })`;
      log.error("TLS certificate not reloaded; the previous one keeps serving", { error });
      return false;
    }
    const replaced = await Promise.allSettled(
      servers.map((s, i) => s.replaceListener(bound[i])),
    );
    const failed = replaced.find((r) => r.status === "rejected");
    if (failed) {
      log.error("TLS certificate not reloaded; the previous one keeps serving", {
        error: String((failed as PromiseRejectedResult).reason),
      });
      return false;
    }
    log.info("TLS certificate reloaded", {
      cert: files.certFile,
      ...certificateSummary(material.cert),
    });
    return true;
  }
}
