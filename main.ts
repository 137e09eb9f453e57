/**
 * MaxIOFS composition root: configuration -> storage and IAM -> S3 listener and console
 * listener -> graceful stop.
 */
import { ConfigError, helpText, loadConfig, parseListen } from "./server/config.ts";
import { createLogger } from "./server/log.ts";
import { createServerApp, type ServerApp } from "./server/app.ts";
import { DataDirLockedError } from "./server/storage/backend.ts";
import { createConsoleHandler } from "./console/mod.ts";
import { MigrationError } from "./server/db/mod.ts";
import { createApiHandler } from "./console/api/mod.ts";

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
  const log = createLogger(cfg.logLevel);
  let app: ServerApp;
  try {
    app = await createServerApp(cfg, { log });
  } catch (e) {
    if (e instanceof DataDirLockedError || e instanceof MigrationError) {
      console.error(e.message);
      return 1;
    }
    throw e;
  }
  const admin = await app.iam.bootstrap({ user: cfg.rootUser, password: cfg.rootPassword });
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
  const s3Addr = parseListen(cfg.listen);
  const s3 = Deno.serve({
    hostname: s3Addr.hostname,
    port: s3Addr.port,
    onListen: ({ hostname, port }) => console.log(`S3 API listening on http://${hostname}:${port}`),
  }, (req, info) => app.handler(req, app.clients.resolve(req, info.remoteAddr.hostname)));
  const consoleHandler = createConsoleHandler({
    log,
    api: createApiHandler({
      iam: app.iam,
      storage: app.storage.backend,
      s3Handler: app.handler,
      region: cfg.region,
      log,
    }),
  });
  const consoleAddr = parseListen(cfg.consoleListen);
  const consoleServer = Deno.serve(
    {
      hostname: consoleAddr.hostname,
      port: consoleAddr.port,
      onListen: ({ hostname, port }) =>
        console.log(`Console listening on http://${hostname}:${port}`),
    },
    (req, info) => consoleHandler(req, app.clients.resolve(req, info.remoteAddr.hostname)),
  );

  await stopped.promise;
  log.info("shutting down");
  await Promise.allSettled([s3.shutdown(), consoleServer.shutdown()]);
  await app.close();
  return 0;
}

Deno.exit(await main());
