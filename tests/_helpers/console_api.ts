/**
 * The console API in-process over a `startApp` server (tests/_helpers/app.ts), for tests that
 * drive the API on the app's injected clock: `call` sends a request with a bearer token and reads
 * the JSON answer; `login` signs in.
 */
import { createApiHandler } from "../../console/api/mod.ts";
import { NO_CLIENT } from "../../server/iam/net.ts";
import type { ServerApp } from "../../server/app.ts";

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

// deno-lint-ignore no-explicit-any
export type ApiAnswer = { status: number; body: any };

/** `endpoint`: the S3 listener's URL (share links and presigned URLs point there). */
export function inProcessApi(app: ServerApp, endpoint: string) {
  const api = createApiHandler({
    iam: app.iam,
    storage: app.storage.backend,
    s3HandleAs: app.handleAs,
    region: "us-east-1",
    integrity: app.integrity,
    events: app.events,
    kms: app.kms,
    log: quiet,
    shares: app.shares,
    s3PublicUrl: () => endpoint,
  });
  const call = async (
    method: string,
    path: string,
    token: string | null,
    body?: unknown,
  ): Promise<ApiAnswer> => {
    const res = await api(
      new Request(`http://console.test/api/v1${path}`, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body ? { "content-type": "application/json" } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
      }),
      NO_CLIENT,
    );
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  const login = async (username: string, password: string): Promise<string> => {
    const r = await call("POST", "/auth/login", null, { username, password });
    if (r.status !== 200) {
      throw new Error(`login ${username}: ${r.status} ${JSON.stringify(r.body)}`);
    }
    return r.body.token as string;
  };
  return { call, login };
}
