/**
 * Bench servers whose bucket is followed: `--variant name=+notify` (an event notification
 * configuration for every object event, delivered to a webhook receiver the bench runs) and
 * `--variant name=+replicate` (versioning on and a real-time replication rule to a sink: another
 * `bench/baseline.ts` process, which stores what it is sent, so the copies cost the sink's side
 * as little as a plain file server and the figures show what following costs the server itself).
 * `+versioned` turns versioning on alone: the fair comparison for `+replicate`, which needs it.
 *
 * The bench registers the target or destination through the admin CLI against the server's
 * console (root user and password from the bench's environment), and the load generator puts the
 * bucket's configuration right after creating the bucket (`configureBucket`). At the end the
 * receiver's and the sink's counts show the followers did their work during the run.
 */

export type Follow = "notify" | "replicate" | "versioned";

export const FOLLOWS: readonly Follow[] = ["notify", "replicate", "versioned"];

/** Console credentials of the bench servers (the admin CLI logs in with them). */
export const BENCH_ROOT_USER = "benchadmin";
export const BENCH_ROOT_PASSWORD = "bench-admin-password-0000";

const TARGET = "bench";
const DESTINATION = "sink";
const SINK_BUCKET = "replica";
const XMLNS = `xmlns="http://s3.amazonaws.com/doc/2006-03-01/"`;

/** The main.ts flags a followed server needs besides its own (loopback receiver and sink). */
export function followFlags(follows: Follow[]): string[] {
  return follows.some((f) => f !== "versioned") ? ["--allow-private-endpoints"] : [];
}

/** What the loadgen sends after creating the bench bucket: [query, XML body] pairs, in order. */
export function bucketConfiguration(follows: Follow[]): [string, string][] {
  const out: [string, string][] = [];
  if (follows.includes("versioned") || follows.includes("replicate")) {
    out.push([
      "versioning",
      `<VersioningConfiguration ${XMLNS}><Status>Enabled</Status></VersioningConfiguration>`,
    ]);
  }
  if (follows.includes("notify")) {
    out.push([
      "notification",
      `<NotificationConfiguration ${XMLNS}><QueueConfiguration><Id>bench</Id>` +
      `<Queue>arn:maxiofs:sqs:us-east-1:global:${TARGET}</Queue>` +
      `<Event>s3:ObjectCreated:*</Event><Event>s3:ObjectRemoved:*</Event>` +
      `</QueueConfiguration></NotificationConfiguration>`,
    ]);
  }
  if (follows.includes("replicate")) {
    out.push([
      "replication",
      `<ReplicationConfiguration ${XMLNS}><Role>arn:aws:iam::0:role/bench</Role><Rule>` +
      `<ID>bench</ID><Priority>1</Priority><Status>Enabled</Status><Filter><Prefix></Prefix></Filter>` +
      `<DeleteMarkerReplication><Status>Enabled</Status></DeleteMarkerReplication>` +
      `<Destination><Bucket>arn:aws:s3:::${DESTINATION}</Bucket></Destination>` +
      `</Rule></ReplicationConfiguration>`,
    ]);
  }
  return out;
}

/** The receiver and the sink the followed servers deliver to, started once per run. */
export class FollowSinks {
  events = 0;
  #receiver: Deno.HttpServer | null = null;
  #sink: { child: Deno.ChildProcess; url: string; dir: string } | null = null;

  /** Starts what `follows` (of every server) needs; `sink` spawns a baseline process on `dir`. */
  async start(
    follows: Follow[],
    sink: (dir: string) => Promise<{ child: Deno.ChildProcess; url: string }>,
    tempDir: (what: string) => Promise<string>,
  ): Promise<void> {
    if (follows.includes("notify")) {
      this.#receiver = Deno.serve(
        { hostname: "127.0.0.1", port: 0, onListen() {} },
        async (req) => {
          await req.arrayBuffer();
          this.events++;
          return new Response(null, { status: 200 });
        },
      );
    }
    if (follows.includes("replicate")) {
      const dir = await tempDir("sink");
      const p = await sink(dir);
      this.#sink = { ...p, dir };
      const r = await fetch(`${p.url}/${SINK_BUCKET}`, { method: "PUT" });
      await r.body?.cancel();
    }
  }

  get receiverUrl(): string {
    const a = this.#receiver!.addr as Deno.NetAddr;
    return `http://127.0.0.1:${a.port}/`;
  }

  /** Registers the webhook target and the replication destination on one server. */
  async register(follows: Follow[], consoleUrl: string, admin: string): Promise<void> {
    const run = async (args: string[]) => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-all",
          "--unstable-kv",
          admin,
          ...args,
          "--url",
          consoleUrl,
          "--user",
          BENCH_ROOT_USER,
          "--password",
          BENCH_ROOT_PASSWORD,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      if (!out.success) {
        throw new Error(`admin ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
      }
    };
    if (follows.includes("notify")) {
      await run(["targets", "create", TARGET, "--target-url", this.receiverUrl]);
    }
    if (follows.includes("replicate")) {
      await run([
        "replication",
        "destination-set",
        DESTINATION,
        "--endpoint",
        this.#sink!.url,
        "--bucket",
        SINK_BUCKET,
        "--access-key",
        "AKIABENCHSINK0000000",
        "--secret-key",
        "benchsinksecret0000000000000000000000000",
      ]);
    }
  }

  /** What the receiver and the sink got, for the report. */
  async summary(): Promise<string[]> {
    const out: string[] = [];
    if (this.#receiver) out.push(`notifications delivered to the bench receiver: ${this.events}`);
    if (this.#sink) {
      let n = 0;
      const walk = async (d: string) => {
        for await (const e of Deno.readDir(d)) {
          if (e.isDirectory) await walk(`${d}/${e.name}`);
          else n++;
        }
      };
      await walk(`${this.#sink.dir}/${SINK_BUCKET}`).catch(() => {});
      out.push(`objects replicated to the sink: ${n}`);
    }
    return out;
  }

  async stop(): Promise<void> {
    await this.#receiver?.shutdown();
    if (this.#sink) {
      try {
        this.#sink.child.kill("SIGTERM");
      } catch { /* gone */ }
      await this.#sink.child.status;
    }
  }
}
