/** Runs the admin CLI (scripts/admin.ts) in a child process; stdout parsed as JSON when it is. */
const ADMIN = new URL("../../scripts/admin.ts", import.meta.url).pathname;

export async function cli(
  ...args: string[]
): Promise<{ code: number; json: unknown; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--unstable-kv", ADMIN, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch { /* not JSON */ }
  return { code: out.code, json, stderr: new TextDecoder().decode(out.stderr) };
}
