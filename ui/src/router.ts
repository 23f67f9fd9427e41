/** Hash routing: each screen is a View that renders into the main element and may return a cleanup function. */
export type View = (root: HTMLElement, params: string[]) => Promise<unknown>;

const routes: [RegExp, View][] = [];
let cleanup: (() => void) | undefined;

export function route(pattern: RegExp, view: View): void {
  routes.push([pattern, view]);
}

/** Navigates; `replace` re-renders the current screen even when the hash is unchanged. */
export function go(hash: string, replace = false): void {
  if (location.hash === hash || replace) void render();
  if (location.hash !== hash) location.hash = hash;
}

export async function render(onError?: (root: HTMLElement, error: unknown) => void): Promise<void> {
  const root = document.querySelector("main") as HTMLElement;
  cleanup?.();
  cleanup = undefined;
  // A fresh element per screen: listeners of the previous screen go with it.
  const fresh = root.cloneNode(false) as HTMLElement;
  root.replaceWith(fresh);
  const hash = location.hash || "#/";
  for (const [pattern, view] of routes) {
    const match = pattern.exec(hash);
    if (!match) continue;
    try {
      const result = await view(fresh, match.slice(1));
      cleanup = typeof result === "function" ? (result as () => void) : undefined;
      fresh.querySelector<HTMLElement>("h1")?.focus();
    } catch (error) {
      (onError ?? renderError)(fresh, error);
    }
    return;
  }
  fresh.innerHTML = '<h1 tabindex="-1">Not found</h1><p><a href="#/">Back to webhooks</a></p>';
}

export let renderError = (root: HTMLElement, error: unknown): void => {
  root.textContent = String(error);
};
export function setErrorRenderer(fn: typeof renderError): void {
  renderError = fn;
}
