/**
 * The Config tab's rules, adopted by the document as a constructed stylesheet (CSSOM, which the CSP's
 * `style-src 'self'` allows), so the plugin needs no edit of the shared app.css. The gutter and the
 * text share one fixed line height so the line numbers stay level with the lines.
 */
const CSS = `
.config-editor { display: flex; flex-direction: column; gap: var(--space-3); }
.config-bar { display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: var(--space-2); }
.config-actions { display: flex; flex-wrap: wrap; align-items: center; gap: var(--space-2); }
.config-code {
  display: flex;
  height: max(320px, calc(100vh - 30rem));
  border: 1px solid var(--border-strong);
  border-radius: var(--radius);
  background: var(--surface);
  overflow: hidden;
}
.config-code:focus-within { outline: 2px solid var(--focus); border-color: var(--focus); }
.config-code.bad { border-color: var(--danger); }
.config-gutter {
  margin: 0;
  padding: var(--space-2) var(--space-2) 4rem;
  min-width: 3.5em;
  overflow: hidden;
  text-align: right;
  color: var(--muted);
  background: var(--surface-2);
  border-right: 1px solid var(--border);
  user-select: none;
  font: 13px/20px var(--font-mono);
}
.config-gutter span { display: block; height: 20px; }
.config-gutter span.bad { color: var(--danger); background: var(--danger-soft); font-weight: 700; }
.config-code textarea.config-text {
  flex: 1;
  height: 100%;
  min-height: 0;
  margin: 0;
  padding: var(--space-2) var(--space-3);
  border: 0;
  border-radius: 0;
  outline: none;
  resize: none;
  white-space: pre;
  overflow: auto;
  tab-size: 2;
  font: 13px/20px var(--font-mono);
}
.config-status {
  display: flex;
  flex-wrap: wrap;
  align-items: center;
  gap: var(--space-3);
  font-size: var(--text-sm);
  color: var(--muted);
}
.config-syntax.ok { color: var(--success); }
.config-syntax.error { color: var(--danger); font-weight: 600; }
.config-findings { margin: var(--space-2) 0 0; padding-left: 1.25rem; }
.config-findings code { font-weight: 600; }
.config-saving { display: flex; align-items: center; gap: var(--space-3); font-size: var(--text-sm); }
.config-saving progress { width: 10rem; }
.config-log { max-height: 20rem; overflow: auto; margin: var(--space-2) 0 0; padding: var(--space-2); background: var(--surface-2); border-radius: var(--radius-sm); font-size: var(--text-xs); white-space: pre-wrap; }
.config-managed { font-size: var(--text-sm); color: var(--muted); }
.config-managed ul { margin: var(--space-1) 0 0; padding-left: 1.25rem; }
button.link { padding: 0; border: 0; background: none; color: var(--accent); text-decoration: underline; cursor: pointer; min-height: 0; }
`;

let sheet: CSSStyleSheet | null = null;

/** Adopts the rules once per document. */
export function adoptConfigStyles(): void {
  if (sheet) return;
  sheet = new CSSStyleSheet();
  sheet.replaceSync(CSS);
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
}
