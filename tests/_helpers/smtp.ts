/**
 * A real SMTP server on loopback for tests (Debian's python3-aiosmtpd, through
 * `tests/_helpers/smtp_server.py`): what it receives is read back as parsed messages.
 */
import type { Program } from "./programs.ts";

export interface ReceivedMail {
  from: string;
  to: string[];
  /** The whole message (headers and body) as received. */
  data: string;
  authenticated: boolean;
  tls: boolean;
}

export interface SmtpServer {
  port: number;
  /** Messages received so far. */
  received(): Promise<ReceivedMail[]>;
  /** Waits until at least `n` messages arrived (bounded). */
  waitFor(n: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  stop(): Promise<void>;
}

export interface SmtpOptions {
  mode?: "plain" | "starttls" | "tls";
  user?: string;
  password?: string;
  cert?: string;
  key?: string;
}

/** A free loopback port (bound and released: the server binds it right after). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

export async function startSmtpServer(
  python: Program,
  opts: SmtpOptions = {},
): Promise<SmtpServer> {
  const dir = await Deno.makeTempDir({ prefix: "maxiofs-smtp-" });
  const out = `${dir}/mail.jsonl`;
  const port = freePort();
  const script = new URL("./smtp_server.py", import.meta.url).pathname;
  const child = new Deno.Command(python.path, {
    args: [
      script,
      out,
      String(port),
      opts.mode ?? "plain",
      opts.user ?? "",
      opts.password ?? "",
      ...(opts.cert ? [opts.cert, opts.key ?? ""] : []),
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  while (!seen.includes("ready")) {
    const { value, done } = await reader.read();
    if (done) {
      const err = await new Response(child.stderr).text();
      throw new Error(`the SMTP server did not start: ${err}`);
    }
    seen += value;
  }
  reader.releaseLock();
  const received = async () => {
    const text = await Deno.readTextFile(out).catch(() => "");
    return text.split("\n").filter(Boolean).map((l) => JSON.parse(l) as ReceivedMail);
  };
  return {
    port,
    received,
    async waitFor(n, timeoutMs = 15_000) {
      for (let waited = 0;; waited += 50) {
        const got = await received();
        if (got.length >= n) return got;
        if (waited >= timeoutMs) {
          throw new Error(`expected ${n} mails, received ${got.length} in ${timeoutMs} ms`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      await child.stdout.cancel().catch(() => {});
      await child.stderr.cancel().catch(() => {});
      await child.status;
      await Deno.remove(dir, { recursive: true });
    },
  };
}
