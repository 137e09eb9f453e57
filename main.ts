/**
 * MaxIOFS composition root: configuration -> storage and IAM -> S3 listener and console
 * listener -> graceful stop.
 */
import { ConfigError, helpText, loadConfig, parseListen } from "./server/config.ts";
import { createLogger } from "./server/log.ts";
import { createS3App } from "./server/app.ts";
import { DataDirLockedError } from "./server/storage/backend.ts";
import { createConsoleHandler } from "./console/mod.ts";

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
  const log = createLogger(cfg.logLevel);
  let app;
  try {
    app = await createS3App(cfg, { log });
  } catch (e) {
    if (e instanceof DataDirLockedError) {
      console.error(e.message);
      return 1;
    }
    throw e;
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
  }, app.handler);
  const consoleAddr = parseListen(cfg.consoleListen);
  const consoleServer = Deno.serve({
    hostname: consoleAddr.hostname,
    port: consoleAddr.port,
    onListen: ({ hostname, port }) =>
      console.log(`Console listening on http://${hostname}:${port}`),
  }, createConsoleHandler({ log }));

  const stopped = Promise.withResolvers<void>();
  const stop = () => stopped.resolve();
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  await stopped.promise;
  log.info("shutting down");
  await Promise.allSettled([s3.shutdown(), consoleServer.shutdown()]);
  await app.close();
  return 0;
}

Deno.exit(await main());
