/**
 * TLS on both listeners (`--tls-cert`, `--tls-key`), with certificates made here by openssl and
 * signed by a throw-away CA: the AWS SDK (an https agent trusting that CA) and aws cli
 * (`--ca-bundle`) against the S3 listener, the console over HTTPS with its `Secure` session
 * cookie, and reload on SIGHUP: a new connection sees the new certificate while a download on a
 * connection opened before goes on to its end; a certificate that does not match its key, or does
 * not parse, leaves the previous one serving. A bad certificate at start stops the server with a
 * message naming the file, before the data dir is created.
 */
import { Agent } from "node:https";
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListBucketsCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { assert, assertEquals, assertRejects } from "./_helpers/assert.ts";
import { bodyBytes, randomBytes, REGION, startServer, type TestServer } from "./_helpers/server.ts";
import { awsEnv, run } from "./_helpers/cli.ts";
import { findProgram, needs } from "./_helpers/programs.ts";
import { makeCa, makeServerCert, pemBody, servedCertificate, type TestCa } from "./_helpers/tls.ts";

const openssl = await findProgram("openssl");
const awsCli = await findProgram("aws");
const MAIN = new URL("../main.ts", import.meta.url).pathname;

function sdkClient(srv: TestServer, ca: TestCa | null): S3Client {
  return new S3Client({
    endpoint: srv.endpoint,
    region: REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: srv.accessKey, secretAccessKey: srv.secretKey },
    maxAttempts: 1,
    ...(ca ? { requestHandler: { httpsAgent: new Agent({ ca: ca.certPem }) } } : {}),
  });
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A response read off a raw connection in steps: the head first, the body when asked. */
class RawResponse {
  #buf = new Uint8Array(0);
  constructor(readonly conn: Deno.Conn) {}

  async #more(): Promise<void> {
    const chunk = new Uint8Array(64 * 1024);
    const n = await this.conn.read(chunk);
    if (n === null) throw new Error("connection closed mid-response");
    const next = new Uint8Array(this.#buf.length + n);
    next.set(this.#buf);
    next.set(chunk.subarray(0, n), this.#buf.length);
    this.#buf = next;
  }

  /** The status line and headers; the bytes after them stay for `body`. */
  async head(): Promise<{ status: number; length: number }> {
    let end;
    while ((end = dec.decode(this.#buf).indexOf("\r\n\r\n")) < 0) await this.#more();
    const text = dec.decode(this.#buf.subarray(0, end));
    this.#buf = this.#buf.subarray(end + 4);
    const status = Number(text.split(" ")[1]);
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(text)?.[1] ?? "0");
    return { status, length };
  }

  /** Exactly `length` body bytes. */
  async body(length: number): Promise<Uint8Array> {
    while (this.#buf.length < length) await this.#more();
    const out = this.#buf.slice(0, length);
    this.#buf = this.#buf.subarray(length);
    return out;
  }
}

Deno.test(needs(openssl, {
  name: "TLS: SDK, aws cli, console, and certificate reload on SIGHUP",
  async fn(t) {
    const dir = await Deno.makeTempDir({ prefix: "maxiofs-tls-" });
    const ca = await makeCa(openssl.path, dir);
    const first = await makeServerCert(openssl.path, ca, "first");
    const second = await makeServerCert(openssl.path, ca, "second");
    const other = await makeServerCert(openssl.path, ca, "other");
    // The server reads these two paths; the test changes what is in them.
    const certFile = `${dir}/server.crt`;
    const keyFile = `${dir}/server.key`;
    const install = async (cert: string, key: string) => {
      await Deno.writeTextFile(certFile, cert);
      await Deno.writeTextFile(keyFile, key);
    };
    await install(first.certPem, first.keyPem);
    const srv = await startServer({
      args: ["--tls-cert", certFile, "--tls-key", keyFile],
      env: {
        MAXIOFS_LOG_LEVEL: "info",
        MAXIOFS_ROOT_USER: "admin",
        MAXIOFS_ROOT_PASSWORD: "Admin-pass-123",
      },
    });
    const s3 = sdkClient(srv, ca);
    const s3Port = srv.port;
    const consolePort = Number(new URL(srv.consoleUrl).port);
    const http = Deno.createHttpClient({ caCerts: [ca.certPem] });
    const reload = async (expect: RegExp) => {
      const mark = srv.output.length;
      srv.child.kill("SIGHUP");
      return await srv.waitForOutput(expect, mark);
    };
    try {
      assert(srv.endpoint.startsWith("https://"), srv.endpoint);
      assert(srv.consoleUrl.startsWith("https://"), srv.consoleUrl);

      await t.step("the AWS SDK over HTTPS, trusting the test CA", async () => {
        await s3.send(new CreateBucketCommand({ Bucket: "tls" }));
        await s3.send(new PutObjectCommand({ Bucket: "tls", Key: "a/b.txt", Body: "over tls" }));
        const got = await s3.send(new GetObjectCommand({ Bucket: "tls", Key: "a/b.txt" }));
        assertEquals(dec.decode(await bodyBytes(got.Body)), "over tls");
        // Without the CA the certificate is refused: the server really is verified.
        const untrusting = sdkClient(srv, null);
        try {
          await assertRejects(() => untrusting.send(new ListBucketsCommand({})));
        } finally {
          untrusting.destroy();
        }
      });

      await t.step(needs(awsCli, {
        name: "aws cli with --ca-bundle",
        fn: async (t) => {
          for (const [i, tool] of awsCli.installed.entries()) {
            await t.step(`${tool.version} (${tool.path})`, async () => {
              const env = await awsEnv(srv, dir, { oneAttempt: true });
              const aws = (...args: string[]) =>
                run(tool.path, [
                  "--endpoint-url",
                  srv.endpoint,
                  "--ca-bundle",
                  ca.certFile,
                  "--cli-read-timeout",
                  "20",
                  ...args,
                ], { env, timeoutMs: 120_000 });
              const bucket = `tls-cli-${i}`;
              await aws("s3", "mb", `s3://${bucket}`);
              const src = `${dir}/cli-${i}.txt`;
              await Deno.writeTextFile(src, "uploaded by aws cli over tls\n");
              await aws("s3", "cp", "--no-progress", src, `s3://${bucket}/up.txt`);
              const ls = await aws("s3", "ls", `s3://${bucket}/`);
              assert(ls.stdout.includes("up.txt"), ls.stdout);
              const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "up.txt" }));
              assertEquals(dec.decode(await bodyBytes(got.Body)), "uploaded by aws cli over tls\n");
            });
          }
        },
      }));

      await t.step("the console over HTTPS: probes, and a Secure session cookie", async () => {
        const health = await fetch(`${srv.consoleUrl}/health`, { client: http });
        assertEquals(health.status, 200);
        await health.body?.cancel();
        const login = await fetch(`${srv.consoleUrl}/api/v1/auth/login`, {
          client: http,
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ username: "admin", password: "Admin-pass-123" }),
        });
        assertEquals(login.status, 200);
        await login.body?.cancel();
        const cookie = login.headers.get("set-cookie") ?? "";
        assert(cookie.startsWith("maxiofs_session="), cookie);
        assert(/;\s*Secure(;|$)/.test(cookie), `no Secure attribute: ${cookie}`);
        assert(/;\s*HttpOnly/.test(cookie), cookie);
      });

      await t.step("SIGHUP: new connections get the new certificate, open ones go on", async () => {
        assertEquals(await servedCertificate(openssl.path, s3Port, ca), pemBody(first.certPem));
        const big = randomBytes(8 * 1024 * 1024, 17);
        await s3.send(new PutObjectCommand({ Bucket: "tls", Key: "big.bin", Body: big }));
        const url = new URL(
          await getSignedUrl(s3, new GetObjectCommand({ Bucket: "tls", Key: "big.bin" }), {
            expiresIn: 600,
          }),
        );
        // A download started before the reload, read no further than its headers for now.
        const conn = await Deno.connectTls({
          hostname: "127.0.0.1",
          port: s3Port,
          caCerts: [ca.certPem],
        });
        const get = (close: boolean) =>
          conn.write(enc.encode(
            `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n` +
              (close ? "Connection: close\r\n" : "") + "\r\n",
          ));
        const res = new RawResponse(conn);
        try {
          await get(false);
          const head = await res.head();
          assertEquals(head.status, 200);
          assertEquals(head.length, big.length);

          await install(second.certPem, second.keyPem);
          const line = await reload(/TLS certificate reloaded|TLS certificate not reloaded/);
          assert(line.includes("TLS certificate reloaded"), line);
          assertEquals(await servedCertificate(openssl.path, s3Port, ca), pemBody(second.certPem));
          assertEquals(
            await servedCertificate(openssl.path, consolePort, ca),
            pemBody(second.certPem),
          );

          // The old connection's download completes, and the connection takes a next request.
          const body = await res.body(head.length);
          assert(body.every((b, i) => b === big[i]), "the download's bytes differ");
          await get(true);
          const again = await res.head();
          assertEquals(again.status, 200);
          assertEquals((await res.body(again.length)).length, big.length);
        } finally {
          conn.close();
        }
        // And the SDK (new connections) goes on working.
        await s3.send(new ListBucketsCommand({}));
      });

      await t.step("a bad certificate at reload keeps the previous one serving", async () => {
        // A key that belongs to another certificate.
        await install(other.certPem, second.keyPem);
        const mismatch = await reload(/TLS certificate (not )?reloaded/);
        assert(mismatch.includes("not reloaded"), mismatch);
        assert(
          mismatch.includes(`TLS key \\"${keyFile}\\"`) && mismatch.includes("does not match"),
          mismatch,
        );
        assertEquals(await servedCertificate(openssl.path, s3Port, ca), pemBody(second.certPem));

        // A certificate file that holds no certificate.
        await install("not a certificate\n", other.keyPem);
        const garbage = await reload(/TLS certificate (not )?reloaded/);
        assert(garbage.includes("not reloaded"), garbage);
        assert(garbage.includes(`TLS certificate \\"${certFile}\\"`), garbage);
        assertEquals(
          await servedCertificate(openssl.path, consolePort, ca),
          pemBody(second.certPem),
        );
        const health = await fetch(`${srv.consoleUrl}/health`, { client: http });
        assertEquals(health.status, 200);
        await health.body?.cancel();
        await s3.send(new ListBucketsCommand({}));

        // Fixed files are taken at the next SIGHUP.
        await install(other.certPem, other.keyPem);
        const fixed = await reload(/TLS certificate (not )?reloaded/);
        assert(fixed.includes("TLS certificate reloaded"), fixed);
        assertEquals(await servedCertificate(openssl.path, s3Port, ca), pemBody(other.certPem));
      });
    } finally {
      s3.destroy();
      http.close();
      await srv.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
}));

async function startWith(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "--unstable-kv",
      "--unstable-net",
      MAIN,
      "--listen",
      "127.0.0.1:0",
      "--console-listen",
      "127.0.0.1:0",
      ...args,
    ],
    env: { MAXIOFS_LOG_LEVEL: "info" },
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test(needs(openssl, {
  name: "TLS: a bad certificate at start stops the server with a message naming the file",
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "maxiofs-tls-start-" });
    try {
      const ca = await makeCa(openssl.path, dir);
      const a = await makeServerCert(openssl.path, ca, "a");
      const b = await makeServerCert(openssl.path, ca, "b");
      const garbage = `${dir}/garbage.pem`;
      await Deno.writeTextFile(
        garbage,
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
      );
      const cases = [
        {
          args: ["--tls-cert", a.certFile, "--tls-key", b.keyFile],
          message: `Cannot use TLS key "${b.keyFile}" (--tls-key): it does not match the ` +
            `certificate "${a.certFile}"`,
        },
        {
          args: ["--tls-cert", a.keyFile, "--tls-key", a.keyFile],
          message:
            `Cannot use TLS certificate "${a.keyFile}" (--tls-cert): no PEM certificate in it`,
        },
        {
          args: ["--tls-cert", garbage, "--tls-key", a.keyFile],
          message:
            `Cannot use TLS certificate "${garbage}" (--tls-cert): the certificate does not parse`,
        },
        {
          args: ["--tls-cert", a.certFile, "--tls-key", a.certFile],
          message: `Cannot use TLS key "${a.certFile}" (--tls-key): no PEM private key in it`,
        },
        {
          args: ["--tls-cert", a.certFile, "--tls-key", `${dir}/missing.key`],
          message: `Cannot read TLS key "${dir}/missing.key" (--tls-key): no such file`,
        },
        {
          args: ["--tls-cert", a.certFile],
          message: "Cannot use --tls-cert without --tls-key",
        },
      ];
      for (const c of cases) {
        const dataDir = `${dir}/data`;
        const r = await startWith(["--data-dir", dataDir, ...c.args]);
        assert(r.code !== 0, `${c.args.join(" ")}: exited 0`);
        assert(
          r.stderr.trim().startsWith(c.message),
          `${c.args.join(" ")}:\n${r.stderr}\nexpected: ${c.message}`,
        );
        assertEquals(r.stdout, "", "nothing printed on stdout (no credentials)");
        const err = await assertRejects(() => Deno.stat(dataDir));
        assert(
          err instanceof Deno.errors.NotFound,
          `${c.args.join(" ")}: the data dir was created`,
        );
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
}));
