/**
 * Island markers. A page renders `island(Component, props)`; on the server that becomes the
 * component's HTML inside `<div data-island="Name" data-props="{json}">`, and the browser bundle
 * hydrates exactly those elements. Everything else on the page stays static HTML.
 */
import { type ComponentType, createContext, h, type VNode } from "preact";
import { useContext } from "preact/hooks";

/** Component -> island name, from the generated manifest. */
export type IslandRegistry = Map<ComponentType<never>, string>;

export const IslandContext = createContext<IslandRegistry>(new Map());

interface MarkerProps {
  component: ComponentType<never>;
  props: Record<string, unknown>;
}

function IslandMarker({ component, props }: MarkerProps): VNode {
  const name = useContext(IslandContext).get(component);
  if (!name) {
    throw new Error(
      `Cannot render island "${component.name}": it is not in islands/ (run deno task build:islands)`,
    );
  }
  return h(
    "div",
    { "data-island": name, "data-props": JSON.stringify(props), class: "island" },
    h(component as ComponentType<Record<string, unknown>>, props),
  ) as VNode;
}

/** Marks `Component` for hydration; props must survive JSON (no functions, no Dates). */
export function island<P extends Record<string, unknown>>(
  component: ComponentType<P>,
  props: P,
): VNode {
  return h(IslandMarker, { component: component as ComponentType<never>, props }) as VNode;
}
