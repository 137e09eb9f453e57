/** The admin CLI's online mode: a signed-in client of the console API (`--url`). */
export type Json = Record<string, unknown>;

export interface ConsoleClient {
  /** Calls `/api/v1<path>`; a non-2xx answer throws with its status, code and message. */
  call(method: string, path: string, body?: unknown): Promise<Json>;
  /** Like `call`, for an NDJSON answer: each line's value as it arrives. */
  lines(method: string, path: string, body?: unknown): AsyncGenerator<Json>;
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
  const send = (method: string, path: string, body?: unknown) =>
    fetch(base + path, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const failure = async (method: string, path: string, res: Response) => {
    const text = await res.text();
    let e: Json = {};
    try {
      e = (JSON.parse(text).error ?? {}) as Json;
    } catch { /* not JSON */ }
    return new Error(`${method} ${path}: ${res.status} ${e.code ?? ""} ${e.message ?? text}`);
  };
  const call = async (method: string, path: string, body?: unknown): Promise<Json> => {
    const res = await send(method, path, body);
    if (!res.ok) throw await failure(method, path, res);
    const text = await res.text();
    return text ? JSON.parse(text) : {};
  };
  async function* lines(method: string, path: string, body?: unknown): AsyncGenerator<Json> {
    const res = await send(method, path, body);
    if (!res.ok) throw await failure(method, path, res);
    let rest = "";
    for await (const chunk of res.body!.pipeThrough(new TextDecoderStream())) {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop() ?? "";
      for (const l of parts) if (l.trim()) yield JSON.parse(l);
    }
    if (rest.trim()) yield JSON.parse(rest);
  }
  const login = await call("POST", "/auth/login", { username: user, password });
  if (login.totpRequired) throw new Error("the admin account has 2FA: use the data dir mode");
  token = login.token as string;
  return {
    call,
    lines,
    close: async () => void await call("POST", "/auth/logout").catch(() => {}),
  };
}

/** The online flags (`--url`, `--user`, `--password` or their MAXIOFS_ADMIN_* variables). */
export function consoleClientOf(flags: Map<string, string>): Promise<ConsoleClient> {
  return consoleClient(
    flags.get("url")!,
    flags.get("user") ?? Deno.env.get("MAXIOFS_ADMIN_USER") ?? "admin",
    flags.get("password") ?? Deno.env.get("MAXIOFS_ADMIN_PASSWORD") ?? "",
  );
}
