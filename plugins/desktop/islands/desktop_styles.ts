/**
 * The Browser tab's rules. They ship with the island as a constructed stylesheet adopted by the
 * document (CSSOM, which the CSP's `style-src 'self'` allows), so the plugin needs no edit of the
 * shared app.css.
 */
const CSS = `
.desktop { display: flex; flex-direction: column; gap: var(--space-2); }
.desktop-bar { display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: var(--space-2); }
.desktop-actions { display: flex; flex-wrap: wrap; align-items: center; gap: var(--space-2); }
.desktop-status, .desktop-control { font-size: var(--text-sm); color: var(--muted); }
.desktop-control.you { color: var(--success); font-weight: 600; }
.desktop-screen {
  height: max(360px, calc(100vh - 22rem));
  background: #1b1f24;
  border: 1px solid var(--border);
  border-radius: var(--radius);
  overflow: hidden;
}
.desktop-screen:fullscreen { border: 0; border-radius: 0; height: 100vh; }
.desktop.view-only .desktop-screen { border-color: var(--border-strong); }
.desktop.in-control .desktop-screen { border-color: var(--success); }
.desktop-clipboard { display: flex; flex-direction: column; gap: var(--space-1); }
.desktop-clipboard textarea { width: 100%; min-height: 4rem; font-family: var(--font-mono); font-size: var(--text-sm); }
.desktop.popout {
  position: fixed;
  inset: 0;
  z-index: 100;
  padding: var(--space-2);
  background: var(--bg);
}
.desktop.popout .desktop-screen { flex: 1; height: auto; }
`;

let sheet: CSSStyleSheet | null = null;

/** Adopts the rules once per document. */
export function adoptDesktopStyles(): void {
  if (sheet) return;
  sheet = new CSSStyleSheet();
  sheet.replaceSync(CSS);
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
}
