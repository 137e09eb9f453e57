/**
 * Shared setup for the IAM end-to-end tests: a server with a known console admin, a JSON API
 * client, and helpers that create tenants, users and access keys through the API.
 */
import { S3Client } from "@aws-sdk/client-s3";
import { REGION, startServer, type TestServer } from "./_helpers/server.ts";

export const ADMIN_USER = "admin";
export const ADMIN_PASSWORD = "Admin-password-1";

export interface ApiResult {
  status: number;
  // deno-lint-ignore no-explicit-any
  body: any;
  headers: Headers;
}

/** An entry of `GET /api/v1/audit`. */
export interface AuditEntry {
  id: number;
  time: number;
  actorId: string | null;
  actorName: string | null;
  tenantId: string | null;
  action: string;
  resource: string | null;
  ip: string | null;
  userAgent: string | null;
  result: string;
  detail: string | null;
}

export interface IamServer {
  srv: TestServer;
  adminToken: string;
  api(
    path: string,
    init?: { method?: string; body?: unknown; token?: string; headers?: Record<string, string> },
  ): Promise<ApiResult>;
  login(username: string, password: string): Promise<string>;
  s3(accessKeyId: string, secretAccessKey: string): S3Client;
  stop(): Promise<void>;
}

export async function startIamServer(
  env: Record<string, string> = {},
  args: string[] = [],
): Promise<IamServer> {
  const srv = await startServer({
    env: { MAXIOFS_ROOT_USER: ADMIN_USER, MAXIOFS_ROOT_PASSWORD: ADMIN_PASSWORD, ...env },
    args,
  });
  const api: IamServer["api"] = async (path, init = {}) => {
    const headers: Record<string, string> = { ...init.headers };
    if (init.body !== undefined) headers["content-type"] = "application/json";
    if (init.token) headers.authorization = `Bearer ${init.token}`;
    const res = await fetch(`${srv.consoleUrl}/api/v1${path}`, {
      method: init.method ?? (init.body === undefined ? "GET" : "POST"),
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : null;
    } catch { /* not JSON (S3 passthrough XML) */ }
    return { status: res.status, body, headers: res.headers };
  };
  const login = async (username: string, password: string) => {
    const r = await api("/auth/login", { body: { username, password } });
    if (r.status !== 200 || !r.body.token) {
      throw new Error(`login ${username} failed: ${r.status} ${JSON.stringify(r.body)}`);
    }
    return r.body.token as string;
  };
  let adminToken: string;
  try {
    adminToken = await login(ADMIN_USER, ADMIN_PASSWORD);
    // Tests log in many times from 127.0.0.1; the rate limit has its own test.
    await api("/settings", {
      method: "PATCH",
      token: adminToken,
      body: { loginRateLimitPerMinute: 0 },
    });
  } catch (e) {
    await srv.stop();
    throw e;
  }
  return {
    srv,
    adminToken,
    api,
    login,
    s3: (accessKeyId, secretAccessKey) =>
      new S3Client({
        endpoint: srv.endpoint,
        region: REGION,
        forcePathStyle: true,
        credentials: { accessKeyId, secretAccessKey },
        maxAttempts: 1,
      }),
    stop: () => srv.stop(),
  };
}

export interface TenantSetup {
  tenantId: string;
  admin: { id: string; username: string; token: string; key: string; secret: string };
  user: { id: string; username: string; token: string; key: string; secret: string };
}

/** A tenant with a tenant admin and a tenant user, each logged in with one access key. */
export async function makeTenant(
  s: IamServer,
  name: string,
  quota: Record<string, number | null> = {},
): Promise<TenantSetup> {
  const t = await s.api("/tenants", { token: s.adminToken, body: { name, quota } });
  if (t.status !== 201) throw new Error(`tenant: ${t.status} ${JSON.stringify(t.body)}`);
  const make = async (username: string, role: string) => {
    const password = `${username}-Password-1`;
    const u = await s.api("/users", {
      token: s.adminToken,
      body: { username, password, role, tenantId: t.body.id },
    });
    if (u.status !== 201) throw new Error(`user: ${u.status} ${JSON.stringify(u.body)}`);
    const token = await s.login(username, password);
    const k = await s.api("/access-keys", { token, body: {} });
    if (k.status !== 201) throw new Error(`key: ${k.status} ${JSON.stringify(k.body)}`);
    return {
      id: u.body.id as string,
      username,
      token,
      key: k.body.accessKeyId as string,
      secret: k.body.secretAccessKey as string,
    };
  };
  return {
    tenantId: t.body.id,
    admin: await make(`${name}-admin`, "tenant_admin"),
    user: await make(`${name}-user`, "tenant_user"),
  };
}
