import assert from "node:assert/strict";
import { findProgram, needs } from "../../tests/_helpers/programs.ts";
import { makeCa, makeServerCert } from "../../tests/_helpers/tls.ts";
import type { Logger } from "../log.ts";
import { bindListener, ListenError, serveGuarded } from "./listener.ts";
import { listenTls, readTlsMaterial, TlsError, tlsErrorOf, type TlsMaterial } from "./tls.ts";
import { TlsReloader } from "./tls_reload.ts";

const openssl = await findProgram("openssl");
const FILES = { certFile: "/etc/maxiofs/cert.pem", keyFile: "/etc/maxiofs/key.pem" };

Deno.test("readTlsMaterial: a file that cannot be read is named with its flag", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/cert.pem`, "cert");
    await assert.rejects(
      readTlsMaterial({ certFile: `${dir}/cert.pem`, keyFile: `${dir}/nope.pem` }),
      (e) =>
        e instanceof TlsError &&
        e.message === `Cannot read TLS key "${dir}/nope.pem" (--tls-key): no such file`,
    );
    await assert.rejects(
      readTlsMaterial({ certFile: dir, keyFile: `${dir}/cert.pem` }),
      (e) => e instanceof TlsError && e.message.startsWith(`Cannot read TLS certificate "${dir}"`),
    );
    assert.deepEqual(
      await readTlsMaterial({ certFile: `${dir}/cert.pem`, keyFile: `${dir}/cert.pem` }),
      { certFile: `${dir}/cert.pem`, keyFile: `${dir}/cert.pem`, cert: "cert", key: "cert" },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("tlsErrorOf: the runtime's errors name the file at fault", () => {
  const cases: [string, string][] = [
    [
      "No certificates found in certificate data",
      `Cannot use TLS certificate "${FILES.certFile}" (--tls-cert): no PEM certificate in it`,
    ],
    [
      "No keys found in key data",
      `Cannot use TLS key "${FILES.keyFile}" (--tls-key): no PEM private key in it`,
    ],
    [
      "keys may not be consistent: KeyMismatch",
      `Cannot use TLS key "${FILES.keyFile}" (--tls-key): it does not match the certificate ` +
      `"${FILES.certFile}"`,
    ],
    [
      "invalid peer certificate: BadEncoding",
      `Cannot use TLS certificate "${FILES.certFile}" (--tls-cert): the certificate does not ` +
      "parse (invalid peer certificate: BadEncoding)",
    ],
    [
      "Unable to decode key",
      `Cannot use TLS key "${FILES.keyFile}" (--tls-key): the key does not parse ` +
      "(Unable to decode key)",
    ],
  ];
  for (const [runtime, ours] of cases) {
    assert.equal(tlsErrorOf(new Error(runtime), FILES).message, ours);
  }
  assert.match(
    tlsErrorOf(new TypeError("The `--unstable-net` flag must be provided."), FILES).message,
    /^TLS needs Deno's --unstable-net flag/,
  );
});

/** Certificates `a` and `b`, each signed by its own CA: a client trusting one CA reaches one. */
async function materials(dir: string) {
  const make = async (name: string) => {
    await Deno.mkdir(`${dir}/${name}`);
    const ca = await makeCa(openssl.path, `${dir}/${name}`);
    const c = await makeServerCert(openssl.path, ca, name);
    const m: TlsMaterial = {
      certFile: c.certFile,
      keyFile: c.keyFile,
      cert: c.certPem,
      key: c.keyPem,
    };
    return { ...m, caPem: ca.certPem };
  };
  return { a: await make("a"), b: await make("b") };
}

Deno.test(needs(openssl, {
  name: "listenTls: a key of another certificate or no certificate is a TlsError",
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const { a, b } = await materials(dir);
      assert.throws(
        () => listenTls("127.0.0.1", 0, { ...a, key: b.key }),
        (e) => e instanceof TlsError && e.message.includes("does not match the certificate"),
      );
      assert.throws(
        () => listenTls("127.0.0.1", 0, { ...a, cert: a.key }),
        (e) => e instanceof TlsError && e.message.includes("no PEM certificate"),
      );
      listenTls("127.0.0.1", 0, a).close();
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
}));

Deno.test(needs(openssl, {
  name: "bindListener over TLS: a port another socket holds is refused (despite reusePort)",
  async fn() {
    const dir = await Deno.makeTempDir();
    const { a } = await materials(dir);
    const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const { port } = taken.addr;
    try {
      assert.throws(
        () => bindListener("127.0.0.1", port, "listen", a),
        (e) =>
          e instanceof ListenError &&
          e.message === `Cannot listen on 127.0.0.1:${port} (--listen): address already in use`,
      );
      // Another server of ours, bound with reusePort, is refused too.
      const ours = bindListener("127.0.0.1", 0, "listen", a);
      try {
        assert.throws(
          () => bindListener("127.0.0.1", ours.addr.port, "listen", a),
          (e) => e instanceof ListenError,
        );
      } finally {
        ours.close();
      }
    } finally {
      taken.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
}));

function capture(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (msg: string, f?: Record<string, unknown>) =>
    lines.push(`${level} ${msg} ${f ? JSON.stringify(f) : ""}`);
  return {
    lines,
    log: { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") },
  };
}

/** What a new connection to `port` trusting only `caPem` is answered ("refused" if none). */
async function answer(port: number, caPem: string): Promise<string> {
  // A client of its own: a pooled connection from before a reload would keep the old certificate.
  const client = Deno.createHttpClient({ caCerts: [caPem] });
  try {
    const res = await fetch(`https://localhost:${port}/`, { client });
    return await res.text();
  } catch {
    return "refused";
  } finally {
    client.close();
  }
}

Deno.test(needs(openssl, {
  name: "TlsReloader: swaps the certificate for new connections; a bad one changes nothing",
  async fn() {
    const dir = await Deno.makeTempDir();
    const { a, b } = await materials(dir);
    const files = { certFile: `${dir}/live.crt`, keyFile: `${dir}/live.key` };
    const install = async (m: { cert: string; key: string }) => {
      await Deno.writeTextFile(files.certFile, m.cert);
      await Deno.writeTextFile(files.keyFile, m.key);
    };
    await install(a);
    const { log, lines } = capture();
    const server = serveGuarded(
      listenTls("127.0.0.1", 0, await readTlsMaterial(files)),
      () => new Response("hello"),
      { limits: { headerTimeoutMs: 0, idleTimeoutMs: 0 }, log },
    );
    const reloader = new TlsReloader({ files, servers: [server], log });
    const { port } = server.addr;
    // A connection opened before the reloads, kept alive through them.
    const kept = Deno.createHttpClient({ caCerts: [a.caPem] });
    try {
      assert.equal(await answer(port, a.caPem), "hello");
      assert.equal(await answer(port, b.caPem), "refused");
      assert.equal(
        await (await fetch(`https://localhost:${port}/`, { client: kept })).text(),
        "hello",
      );

      await install(b);
      assert.equal(await reloader.reload(), true);
      assert.equal(await answer(port, b.caPem), "hello");
      assert.equal(await answer(port, a.caPem), "refused");
      assert.ok(lines.some((l) => l.startsWith("info TLS certificate reloaded")), lines.join("\n"));
      assert.equal(
        await (await fetch(`https://localhost:${port}/`, { client: kept })).text(),
        "hello",
        "the connection opened before the reload is still served",
      );

      // A key of another certificate: the reload fails, b still serves, the error is logged.
      await install({ cert: a.cert, key: b.key });
      assert.equal(await reloader.reload(), false);
      assert.equal(await answer(port, b.caPem), "hello");
      assert.ok(
        lines.some((l) =>
          l.startsWith("error TLS certificate not reloaded") && l.includes("does not match")
        ),
        lines.join("\n"),
      );

      // Two reloads at once run one after the other; the files they read win.
      await install(a);
      assert.deepEqual(await Promise.all([reloader.reload(), reloader.reload()]), [true, true]);
      assert.equal(await answer(port, a.caPem), "hello");
    } finally {
      kept.close();
      await server.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
}));
