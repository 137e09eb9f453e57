/** The admin CLI's online mode: a signed-in client of the console API (`--url`). */
export type Json = Record<string, unknown>;

export interface ConsoleClient {
  /** Calls `/api/v1<path>`; a non-2xx answer throws with its status, code and message. */
  call(method: string, path: string, body?: unknown): Promise<Json>;
  /** Signs out. */
  close(): Promise<void>;
}

/** Signs in as `user` (an account with 2FA cannot: the data dir mode serves it). */
export async function consoleClient(
  url: string,
  user: string,
  password: string,
): Promise<ConsoleClient> {
  const base = url.replace(/\/$/, "") + "/api/v1";
  let token = "";
  const call = async (method: string, path: string, body?: unknown): Promise<Json> => {
    const res = await fetch(base + path, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const json = text ? JSON.parse(text) : {};
    if (!res.ok) {
      const e = json.error ?? {};
      throw new Error(`${method} ${path}: ${res.status} ${e.code ?? ""} ${e.message ?? text}`);
    }
    return json;
  };
  const login = await call("POST", "/auth/login", { username: user, password });
  if (login.totpRequired) throw new Error("the admin account has 2FA: use the data dir mode");
  token = login.token as string;
  return { call, close: async () => void await call("POST", "/auth/logout").catch(() => {}) };
}

/** The online flags (`--url`, `--user`, `--password` or their MAXIOFS_ADMIN_* variables). */
export function consoleClientOf(flags: Map<string, string>): Promise<ConsoleClient> {
  return consoleClient(
    flags.get("url")!,
    flags.get("user") ?? Deno.env.get("MAXIOFS_ADMIN_USER") ?? "admin",
    flags.get("password") ?? Deno.env.get("MAXIOFS_ADMIN_PASSWORD") ?? "",
  );
}
