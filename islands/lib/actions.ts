/** The admin islands' way to run one change against the API and report how it went. */
import { type Signal, useSignal } from "@preact/signals";
import { api, listOf } from "./api.ts";

export interface Actions {
  error: Signal<string>;
  notice: Signal<string>;
  /** Runs `fn`; shows `ok` or the API's error, then reloads either way. */
  act: (fn: () => Promise<unknown>, ok: string) => Promise<void>;
}

/**
 * `load` runs after every action, failed or not, so a refused change (a role select, say) shows
 * the stored value again. `describe` words a failure (default: its message).
 */
export function useActions(
  load: () => Promise<void>,
  describe: (e: unknown) => string = (e) => (e as Error).message,
): Actions {
  const error = useSignal("");
  const notice = useSignal("");
  const act = async (fn: () => Promise<unknown>, ok: string) => {
    error.value = "";
    notice.value = "";
    try {
      await fn();
      notice.value = ok;
    } catch (e) {
      error.value = describe(e);
    }
    await load();
  };
  return { error, notice, act };
}

/**
 * Fetches the list at `path` (with `query`) into `into`; a failure goes to `error` and leaves
 * the list as it was.
 */
export async function loadList<T>(
  into: Signal<T[] | null>,
  error: Signal<string>,
  path: string,
  query?: Record<string, unknown>,
): Promise<void> {
  try {
    into.value = listOf<T>(await api(path, query ? { query } : {}));
  } catch (e) {
    error.value = (e as Error).message;
  }
}
