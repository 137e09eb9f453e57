/**
 * MaxIOFS composition root: configuration -> storage and IAM -> S3 listener and console
 * listener -> graceful stop.
 */
import {
  ConfigError,
  helpText,
  loadConfig,
  parseListen,
  publicUrlOf,
  tlsFilesOf,
} from "./server/config.ts";
import { createLogger } from "./server/log.ts";
import { createServerApp, type ServerApp } from "./server/app.ts";
import { DataDirLockedError } from "./server/storage/mod.ts";
import { createConsoleHandler } from "./console/mod.ts";
import { MigrationError } from "./server/db/mod.ts";
import { createApiHandler } from "./console/api/mod.ts";
import {
  bindListeners,
  formatAddr,
  ListenError,
  type NetListener,
  serveGuarded,
} from "./server/http/listener.ts";
import { readTlsMaterial, TlsError, type TlsMaterial } from "./server/http/tls.ts";
import { TlsReloader } from "./server/http/tls_reload.ts";
import { CONSOLE_PROBES, probeResponse } from "./server/http/probes.ts";
import { metricsOnly, metricsResponse } from "./server/http/metrics_endpoint.ts";

async function main(): Promise<number> {
  let cfg;
  try {
    cfg = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      return 2;
    }
    throw e;
  }
  if (cfg.help) {
    console.log(helpText());
    return 0;
  }
  // Listen for stop signals before anything opens: a SIGTERM that arrives during start-up (or
  // right after the listeners print their address) then stops the server gracefully once it is
  // up, instead of killing it with the default action halfway through.
  const stopped = Promise.withResolvers<void>();
  const stop = () => stopped.resolve();
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  // Every address is bound (with the certificate, when there is one) before the data dir is
  // created or opened and before anything is printed: a taken port or a bad certificate must not
  // cost a first start its one-time credentials.
  const tlsFiles = tlsFilesOf(cfg);
  let tls: TlsMaterial | undefined;
  let listeners: NetListener[];
  try {
    tls = tlsFiles ? await readTlsMaterial(tlsFiles) : undefined;
    listeners = bindListeners([
      { ...parseListen(cfg.listen), flag: "listen", tls },
      { ...parseListen(cfg.consoleListen), flag: "console-listen", tls },
      ...(cfg.metricsListen === null
        ? []
        : [{ ...parseListen(cfg.metricsListen), flag: "metrics-listen" }]),
    ]);
  } catch (e) {
    if (e instanceof ListenError || e instanceof TlsError) {
      console.error(e.message);
      return 1;
    }
    throw e;
  }
  const [s3Listener, consoleListener, metricsListener] = listeners;
  const log = createLogger(cfg.logLevel, undefined, cfg.logFormat);
  let app: ServerApp;
  try {
    app = await createServerApp(cfg, { log });
  } catch (e) {
    for (const l of listeners) l.close();
    if (e instanceof DataDirLockedError || e instanceof MigrationError) {
      console.error(e.message);
      return 1;
    }
    throw e;
  }
  const admin = await app.iam.bootstrap({ user: cfg.rootUser, password: cfg.rootPassword })
    .catch(async (e) => {
      await app.close();
      throw e;
    });
  if (admin?.generated) {
    console.log("Generated console admin (shown once; change it at first login):");
    console.log(`  Username: ${admin.username}`);
    console.log(`  Password: ${admin.password}`);
  }
  if (app.root.generated) {
    console.log("Generated root S3 credentials (shown once, stored encrypted in the data dir):");
    console.log(`  Access key: ${app.root.accessKeyId}`);
    console.log(`  Secret key: ${app.root.secretAccessKey}`);
  }
  const limits = {
    headerTimeoutMs: cfg.headerTimeoutSeconds * 1000,
    idleTimeoutMs: cfg.idleTimeoutSeconds * 1000,
  };
  const scheme = tls ? "https" : "http";
  const s3 = serveGuarded(
    s3Listener,
    (req, info) => app.handler(req, app.clients.resolve(req, info.remoteAddr.hostname)),
    { limits, log, tls },
  );
  console.log(`S3 API listening on ${scheme}://${formatAddr(s3.addr.hostname, s3.addr.port)}`);
  const consoleHandler = createConsoleHandler({
    log,
    api: createApiHandler({
      iam: app.iam,
      storage: app.storage.backend,
      s3HandleAs: app.handleAs,
      region: cfg.region,
      ...(cfg.websiteDomain ? { website: { domain: cfg.websiteDomain, scheme } } : {}),
      integrity: app.integrity,
      events: app.events,
      kms: app.kms,
      log,
      alerts: app.alerts,
      emailSettings: app.emailSettings,
      history: app.history,
      encryption: app.encryption,
      notifications: app.notifications,
      inventory: app.inventory,
      shares: app.shares,
      s3PublicUrl: (req) => s3PublicUrl(req, cfg.publicUrl, scheme, s3.addr.port),
      replication: app.replication,
    }),
  });
  const metrics = app.metrics;
  const consoleServer = serveGuarded(
    consoleListener,
    (req, info) =>
      probeResponse(req, CONSOLE_PROBES, app.probes) ??
        (metrics && metricsResponse(req, metrics)) ??
        consoleHandler(req, app.clients.resolve(req, info.remoteAddr.hostname)),
    { limits, log, tls },
  );
  let reloadTls: (() => void) | null = null;
  if (tlsFiles) {
    const reloader = new TlsReloader({ files: tlsFiles, servers: [s3, consoleServer], log });
    reloadTls = () => {
      log.info("SIGHUP: reloading the TLS certificate");
      void reloader.reload();
    };
    Deno.addSignalListener("SIGHUP", reloadTls);
  }
  const consoleAddr = consoleServer.addr;
  console.log(
    `Console listening on ${scheme}://${formatAddr(consoleAddr.hostname, consoleAddr.port)}`,
  );
  const servers = [s3, consoleServer];
  if (metricsListener && metrics) {
    const metricsServer = serveGuarded(metricsListener, metricsOnly(metrics), { limits, log });
    servers.push(metricsServer);
    const a = metricsServer.addr;
    console.log(`Metrics listening on http://${formatAddr(a.hostname, a.port)}/metrics`);
  }

  await stopped.promise;
  log.info("shutting down");
  // Open event streams never finish by themselves: they end first, so the shutdown can wait
  // for the requests that do.
  app.events.close();
  if (reloadTls) Deno.removeSignalListener("SIGHUP", reloadTls);
  await Promise.allSettled(servers.map((s) => s.shutdown()));
  await app.close();
  return 0;
}

Deno.exit(await main());

/**
 * The S3 URL a console user reaches: `--public-url` when set, else the host name the console was
 * reached by with the S3 listener's scheme and port.
 */
function s3PublicUrl(req: Request, configured: string | null, scheme: string, port: number) {
  if (configured) return publicUrlOf(configured);
  const host = req.headers.get("host") ?? new URL(req.url).host;
  const hostname = new URL(`http://${host}`).hostname;
  return `${scheme}://${hostname}:${port}`;
}
