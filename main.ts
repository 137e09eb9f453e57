/**
 * MaxIOFS composition root: configuration -> storage and IAM -> S3 listener and console
 * listener -> graceful stop.
 */
import { ConfigError, helpText, loadConfig, parseListen } from "./server/config.ts";
import { createLogger } from "./server/log.ts";
import { createS3App } from "./server/app.ts";
import { DataDirLockedError } from "./server/storage/backend.ts";
import { createConsoleHandler } from "./console/mod.ts";
import { createIam, deferredIam, type Iam } from "./server/iam/mod.ts";
import { MigrationError } from "./server/db/mod.ts";
import { createApiHandler } from "./console/api/mod.ts";
import { systemClock } from "./server/storage/core.ts";

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
  let app;
  const iamSlot = deferredIam();
  try {
    app = await createS3App(cfg, {
      log,
      credentials: [iamSlot.credentials],
      authorizer: iamSlot.authorizer,
    });
  } catch (e) {
    if (e instanceof DataDirLockedError) {
      console.error(e.message);
      return 1;
    }
    throw e;
  }
  let iam: Iam;
  try {
    iam = await createIam({
      dataDir: cfg.dataDir,
      box: app.box,
      signingKey: app.secrets.signingKey,
      clock: systemClock,
      log,
      storage: app.storage,
      trustedProxies: cfg.trustedProxies.split(",").map((s) => s.trim()).filter(Boolean),
    });
  } catch (e) {
    await app.close();
    if (e instanceof MigrationError) {
      console.error(e.message);
      return 1;
    }
    throw e;
  }
  iamSlot.bind(iam);
  const previousOnRequest = app.deps.onRequest;
  app.deps.onRequest = (info) => {
    previousOnRequest?.(info);
    iam.onS3Request(info);
  };
  const admin = await iam.bootstrap({ user: cfg.rootUser, password: cfg.rootPassword });
  if (admin?.generated) {
    console.log("Generated console admin (shown once; change it at first login):");
    console.log(`  Username: ${admin.username}`);
    console.log(`  Password: ${admin.password}`);
  }
  iam.maintenance();
  const maintenance = setInterval(() => iam.maintenance(), 24 * 3600 * 1000);
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
  }, (req, info) => {
    iam.peers.set(req, info.remoteAddr.hostname);
    return app.handler(req);
  });
  const consoleAddr = parseListen(cfg.consoleListen);
  const consoleServer = Deno.serve(
    {
      hostname: consoleAddr.hostname,
      port: consoleAddr.port,
      onListen: ({ hostname, port }) =>
        console.log(`Console listening on http://${hostname}:${port}`),
    },
    withPeer(
      iam,
      createConsoleHandler({
        log,
        api: createApiHandler({
          iam,
          storage: app.storage.backend,
          s3Handler: app.handler,
          region: cfg.region,
          log,
        }),
      }),
    ),
  );

  await stopped.promise;
  log.info("shutting down");
  await Promise.allSettled([s3.shutdown(), consoleServer.shutdown()]);
  clearInterval(maintenance);
  await app.close();
  iam.close();
  return 0;
}

/** Records the socket address of console requests (login rate limit, audit). */
function withPeer(iam: Iam, handler: (req: Request) => Promise<Response>) {
  return (req: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>) => {
    iam.peers.set(req, info.remoteAddr.hostname);
    return handler(req);
  };
}

Deno.exit(await main());
