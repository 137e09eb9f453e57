/**
 * Browser entry: hydrate every `[data-island]` element with the island of that name. Imported
 * by the generated console/client.gen.ts, which passes the registry of all islands.
 */
import { type ComponentType, h, hydrate } from "preact";

/** Island components by name; their props types differ, so they are checked where rendered. */
export function hydrateIslands(registry: Record<string, unknown>) {
  for (const el of Array.from(document.querySelectorAll<HTMLElement>("[data-island]"))) {
    const name = el.dataset.island ?? "";
    const Island = registry[name] as ComponentType<Record<string, unknown>> | undefined;
    if (!Island) {
      console.error(`MaxIOFS: no island named "${name}" in the bundle`);
      continue;
    }
    let props: Record<string, unknown> = {};
    try {
      props = JSON.parse(el.dataset.props ?? "{}");
    } catch {
      console.error(`MaxIOFS: island "${name}" has unreadable props`);
    }
    hydrate(h(Island, props), el);
  }
}
