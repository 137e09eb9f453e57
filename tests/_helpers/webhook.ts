/**
 * A webhook receiver on loopback for event notification tests: records each POSTed JSON body,
 * answers 200 (or holds requests unanswered with `hang`), and lets a test wait for a count.
 */
export interface Received {
  body: { Records?: EventRecordShape[]; Event?: string };
  headers: Headers;
}

/** The fields of an event record tests look at. */
export interface EventRecordShape {
  eventName: string;
  eventVersion: string;
  s3: {
    configurationId: string;
    bucket: { name: string };
    object: { key: string; size?: number; eTag?: string; versionId?: string; sequencer: string };
  };
  userIdentity: { principalId: string };
  requestParameters: { sourceIPAddress: string };
  responseElements: Record<string, string>;
}

export interface Receiver {
  url: string;
  port: number;
  got: Received[];
  /** The event records received (test events left out), in arrival order. */
  records(): EventRecordShape[];
  /** Resolves once `n` requests (answered or held) have arrived in all. */
  arrived(n: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts a receiver on `port` (0: any). `hang`: requests are held unanswered until close (a
 * target that accepts connections but never answers).
 */
export function startReceiver(opts: { port?: number; hang?: boolean } = {}): Receiver {
  const got: Received[] = [];
  let arrivedCount = 0;
  const waiters: { n: number; resolve: () => void }[] = [];
  const held = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: opts.port ?? 0, onListen() {} },
    async (req) => {
      const text = await req.text();
      arrivedCount++;
      for (const w of waiters.filter((w) => arrivedCount >= w.n)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
      if (opts.hang) {
        await new Promise((resolve) => held.signal.addEventListener("abort", resolve));
        return new Response(null, { status: 503 });
      }
      got.push({ body: JSON.parse(text), headers: req.headers });
      return new Response(null, { status: 200 });
    },
  );
  const port = server.addr.port;
  return {
    url: `http://127.0.0.1:${port}/events`,
    port,
    got,
    records: () => got.flatMap((g) => g.body.Records ?? []),
    arrived: (n) =>
      arrivedCount >= n
        ? Promise.resolve()
        : new Promise((resolve) => waiters.push({ n, resolve })),
    close: async () => {
      held.abort();
      await server.shutdown();
    },
  };
}
