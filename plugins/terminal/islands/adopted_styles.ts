/**
 * xterm.js adds `<style>` elements for its colours and cell sizes, which the CSP (`style-src 'self'`)
 * blocks. This mirrors every `<style>` under `root` into a constructed stylesheet adopted by the
 * document (CSSOM, which the CSP allows), and keeps it in step as xterm rewrites them. Returns a
 * function that stops mirroring and drops the sheets.
 */
export function mirrorStyles(root: HTMLElement): () => void {
  const sheets = new Map<HTMLStyleElement, CSSStyleSheet>();
  const sync = () => {
    for (const el of root.querySelectorAll("style")) {
      let sheet = sheets.get(el);
      if (!sheet) {
        sheet = new CSSStyleSheet();
        sheets.set(el, sheet);
        document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
      }
      sheet.replaceSync(el.textContent ?? "");
    }
    for (const [el, sheet] of sheets) {
      if (root.contains(el)) continue;
      sheets.delete(el);
      document.adoptedStyleSheets = document.adoptedStyleSheets.filter((s) => s !== sheet);
    }
  };
  const observer = new MutationObserver(sync);
  observer.observe(root, { subtree: true, childList: true, characterData: true });
  sync();
  return () => {
    observer.disconnect();
    const mine = new Set(sheets.values());
    document.adoptedStyleSheets = document.adoptedStyleSheets.filter((s) => !mine.has(s));
  };
}
