import type { ComponentType } from "preact";

/** Where `deno task build` writes island bundles (one module per island, shared chunks split out). */
export const ISLAND_BUNDLE_PATH = "/static/build";

/**
 * Renders an island on the server (so the page reads fine before scripts run) and loads its module,
 * which hydrates it with the same props. Props travel in a data attribute: no inline script (CSP).
 * `name` is the island's file name without extension; it must be unique across islands.
 */
export function Island<P extends object>(
  { name, component: Component, props }: { name: string; component: ComponentType<P>; props: P },
) {
  return (
    <>
      <div data-island={name} data-props={JSON.stringify(props)}>
        <Component {...props} />
      </div>
      <script type="module" src={`${ISLAND_BUNDLE_PATH}/${name}.js`}></script>
    </>
  );
}
