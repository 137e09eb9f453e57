/**
 * Certificates made in the test with openssl: a throw-away CA and server certificates it signs
 * (for `localhost` and 127.0.0.1), and the certificate a TLS server shows a new connection.
 * Find openssl with `findProgram("openssl")` and guard the test with `needs`.
 *
 * @example
 * ```ts
 * const ca = await makeCa(openssl.path, dir);
 * const a = await makeServerCert(openssl.path, ca, "a");
 * assertEquals(pemBody(await servedCertificate(openssl.path, port, ca)), pemBody(a.certPem));
 * ```
 */

export interface TestCa {
  dir: string;
  certFile: string;
  keyFile: string;
  certPem: string;
}

export interface ServerCert {
  certFile: string;
  keyFile: string;
  certPem: string;
  keyPem: string;
}

async function openssl(path: string, args: string[], stdin?: string): Promise<string> {
  const child = new Deno.Command(path, {
    args,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  if (!out.success) {
    throw new Error(`openssl ${args.join(" ")} failed: ${dec.decode(out.stderr)}`);
  }
  return dec.decode(out.stdout);
}

/** `openssl req` arguments for a new unencrypted P-256 key. */
const NEW_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];

/** A self-signed CA (P-256) in `dir`. */
export async function makeCa(path: string, dir: string): Promise<TestCa> {
  const certFile = `${dir}/ca.crt`;
  const keyFile = `${dir}/ca.key`;
  await openssl(path, [
    "req",
    "-x509",
    ...NEW_KEY,
    "-keyout",
    keyFile,
    "-out",
    certFile,
    "-days",
    "2",
    "-subj",
    "/CN=MaxIOFS test CA",
  ]);
  return { dir, certFile, keyFile, certPem: await Deno.readTextFile(certFile) };
}

/**
 * A server certificate `<name>.crt` / `<name>.key` signed by `ca`, for `localhost` and
 * 127.0.0.1, with a random serial (each call's certificate is distinct).
 */
export async function makeServerCert(path: string, ca: TestCa, name: string): Promise<ServerCert> {
  const keyFile = `${ca.dir}/${name}.key`;
  const csr = `${ca.dir}/${name}.csr`;
  const certFile = `${ca.dir}/${name}.crt`;
  const ext = `${ca.dir}/${name}.ext`;
  await Deno.writeTextFile(
    ext,
    "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n" +
      "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
  );
  await openssl(path, [
    "req",
    ...NEW_KEY,
    "-keyout",
    keyFile,
    "-out",
    csr,
    "-subj",
    `/CN=localhost ${name}`,
  ]);
  await openssl(path, [
    "x509",
    "-req",
    "-in",
    csr,
    "-CA",
    ca.certFile,
    "-CAkey",
    ca.keyFile,
    "-set_serial",
    `0x${crypto.randomUUID().replaceAll("-", "").slice(0, 30)}`,
    "-days",
    "2",
    "-extfile",
    ext,
    "-out",
    certFile,
  ]);
  return {
    certFile,
    keyFile,
    certPem: await Deno.readTextFile(certFile),
    keyPem: await Deno.readTextFile(keyFile),
  };
}

/** The base64 body of the first PEM block of `pem` (to compare certificates). */
export function pemBody(pem: string): string {
  const m = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(pem);
  if (!m) throw new Error(`no certificate in ${JSON.stringify(pem.slice(0, 200))}`);
  return m[1].replace(/\s+/g, "");
}

/**
 * The certificate 127.0.0.1:`port` shows a new connection (asking for `localhost`), after
 * openssl verified it against `ca`.
 */
export async function servedCertificate(path: string, port: number, ca: TestCa): Promise<string> {
  const out = await openssl(path, [
    "s_client",
    "-connect",
    `127.0.0.1:${port}`,
    "-servername",
    "localhost",
    "-CAfile",
    ca.certFile,
    "-verify_return_error",
  ], "");
  return pemBody(out);
}
