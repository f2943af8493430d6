import assert from "node:assert/strict";
import { render } from "preact-render-to-string";
import { Markdown, safeHref } from "../../../plugins/chat/islands/_markdown.tsx";

const SAMPLE =
  "# Title\nHello **bold** and *it* with `x<y>`\n<img src=x onerror=alert(1)>\n\n```js\nif (a < b) alert('<b>')\n```\n- one\n- [two](javascript:alert(1))\n1. [site](https://example.test/a?b=1)";

Deno.test("agent Markdown renders a safe subset: no HTML, no script links, code kept verbatim", () => {
  const html = render(
    <Markdown
      text={SAMPLE}
    />,
  );
  assert.ok(!/<img|<script|href="javascript/i.test(html), html);
  assert.match(html, /&lt;img src=x onerror=alert\(1\)>|&lt;img src=x onerror=alert\(1\)&gt;/);
  assert.match(html, /<strong>bold<\/strong>/);
  assert.match(html, /<em>it<\/em>/);
  assert.match(html, /<code>x&lt;y><\/code>|<code>x&lt;y&gt;<\/code>/);
  assert.match(html, /<pre class="md-code" data-lang="js"><code>if \(a &lt; b\) alert\('&lt;b>'\)<\/code><\/pre>/);
  assert.match(
    html,
    /<a href="https:\/\/example.test\/a\?b=1" target="_blank" rel="noopener noreferrer nofollow">site<\/a>/,
  );
  assert.match(html, /\[two\]\(javascript:alert\(1\)\)/, "the unsafe link stays text");
  assert.ok(safeHref("mailto:a@b.test") && !safeHref("data:text/html,x") && !safeHref("JAVASCRIPT:x"));
});
