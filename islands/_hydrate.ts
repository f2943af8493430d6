import { type ComponentType, h, hydrate } from "preact";

/** Client side of `<Island>`: hydrates every element rendered for island `name` with its props. */
export function hydrateIsland<P>(name: string, component: ComponentType<P>): void {
  for (const el of document.querySelectorAll<HTMLElement>(`[data-island="${name}"]`)) {
    const props = JSON.parse(el.dataset.props ?? "{}") as P;
    hydrate(h(component as ComponentType<object>, props as object), el);
    el.dataset.hydrated = "true";
  }
}
