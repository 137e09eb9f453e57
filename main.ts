/**
 * MaxIOFS composition root: configuration -> storage and IAM -> S3 listener and console
 * listener -> graceful stop.
 */
import { ConfigError, helpText, loadConfig, parseListen } from "./server/config.ts";
import { createLogger } from "./server/log.ts";
import { createServerApp, type ServerApp } from "./server/app.ts";
import { DataDirLockedError } from "./server/storage/mod.ts";
import { createConsoleHandler } from "./console/mod.ts";
import { MigrationError } from "./server/db/mod.ts";
import { createApiHandler } from "./console/api/mod.ts";
import { bindListeners, formatAddr, ListenError, serveGuarded } from "./server/http/listener.ts";
import { CONSOLE_PROBES, probeResponse } from "./server/http/probes.ts";

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
  // Both addresses are bound before the data dir is created or opened and before anything is
  // printed: a taken port must not cost a first start its one-time credentials.
  let listeners: Deno.TcpListener[];
  try {
    listeners = bindListeners([
      { ...parseListen(cfg.listen), flag: "listen" },
      { ...parseListen(cfg.consoleListen), flag: "console-listen" },
    ]);
  } catch (e) {
    if (e instanceof ListenError) {
      console.error(e.message);
      return 1;
    }
    throw e;
  }
  const [s3Listener, consoleListener] = listeners;
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
  const s3 = serveGuarded(
    s3Listener,
    (req, info) => app.handler(req, app.clients.resolve(req, info.remoteAddr.hostname)),
    { limits, log },
  );
  console.log(`S3 API listening on http://${formatAddr(s3.addr.hostname, s3.addr.port)}`);
  const consoleHandler = createConsoleHandler({
    log,
    api: createApiHandler({
      iam: app.iam,
      storage: app.storage.backend,
      s3HandleAs: app.handleAs,
      region: cfg.region,
      log,
      encryption: app.encryption,
    }),
  });
  const consoleServer = serveGuarded(
    consoleListener,
    (req, info) =>
      probeResponse(req, CONSOLE_PROBES, app.probes) ??
        consoleHandler(req, app.clients.resolve(req, info.remoteAddr.hostname)),
    { limits, log },
  );
  const consoleAddr = consoleServer.addr;
  console.log(`Console listening on http://${formatAddr(consoleAddr.hostname, consoleAddr.port)}`);

  await stopped.promise;
  log.info("shutting down");
  await Promise.allSettled([s3.shutdown(), consoleServer.shutdown()]);
  await app.close();
  return 0;
}

Deno.exit(await main());
