/** A self-signed certificate for `127.0.0.1` / `localhost`, made with openssl in a temp dir. */
import type { Program } from "./programs.ts";

export interface SelfSigned {
  cert: string;
  key: string;
  dir: string;
}

export async function selfSignedCert(openssl: Program, cn = "localhost"): Promise<SelfSigned> {
  const dir = await Deno.makeTempDir({ prefix: "maxiofs-cert-" });
  const cert = `${dir}/cert.pem`;
  const key = `${dir}/key.pem`;
  const out = await new Deno.Command(openssl.path, {
    args: [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "2",
      "-subj",
      `/CN=${cn}`,
      "-addext",
      "subjectAltName=DNS:localhost,IP:127.0.0.1",
      "-keyout",
      key,
      "-out",
      cert,
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`openssl failed: ${new TextDecoder().decode(out.stderr)}`);
  return { cert, key, dir };
}
