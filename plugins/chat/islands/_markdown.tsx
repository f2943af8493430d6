import type { VNode } from "preact";

/**
 * A small, safe Markdown subset for agent replies: paragraphs, fenced code blocks, inline code,
 * **bold**, *italic*, `- ` / `1. ` lists, `#` headings and http(s)/mailto links. It builds Preact
 * nodes from text, never HTML strings, so nothing in a reply can become markup or script.
 */
export function Markdown({ text }: { text: string }): VNode {
  return <div class="md">{blocks(text)}</div>;
}

function blocks(text: string): VNode[] {
  const out: VNode[] = [];
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    const fence = /^\s*```\s*([\w+-]*)\s*$/.exec(line);
    if (fence) {
      const code: string[] = [];
      for (i++; i < lines.length && !/^\s*```\s*$/.test(lines[i]); i++) code.push(lines[i]);
      i++; // the closing fence (or the end of an unfinished, still streaming block)
      out.push(
        <pre class="md-code" data-lang={fence[1] || undefined}>
          <code>{code.join("\n")}</code>
        </pre>,
      );
      continue;
    }
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading) {
      out.push(<p class={`md-h md-h${heading[1].length}`}>{inline(heading[2])}</p>);
      i++;
      continue;
    }
    if (/^\s*([-*+]|\d+[.)])\s+/.test(line)) {
      const ordered = /^\s*\d/.test(line);
      const items: VNode[] = [];
      for (; i < lines.length && /^\s*([-*+]|\d+[.)])\s+/.test(lines[i]); i++) {
        items.push(<li>{inline(lines[i].replace(/^\s*([-*+]|\d+[.)])\s+/, ""))}</li>);
      }
      out.push(ordered ? <ol>{items}</ol> : <ul>{items}</ul>);
      continue;
    }
    if (!line.trim()) {
      i++;
      continue;
    }
    const para: string[] = [];
    for (; i < lines.length && lines[i].trim() && !/^\s*(```|#{1,6}\s|([-*+]|\d+[.)])\s)/.test(lines[i]); i++) {
      para.push(lines[i]);
    }
    out.push(<p>{inline(para.join("\n"))}</p>);
  }
  return out;
}

const INLINE = /(`[^`\n]+`)|(\*\*[^*\n]+\*\*)|(\*[^*\s][^*\n]*\*)|(\[[^\]\n]+\]\([^)\s]+\))|(https?:\/\/[^\s<>()]+)/;

/** Inline code, bold, italic and links; everything else stays text (Preact escapes it). */
function inline(text: string): (string | VNode)[] {
  const out: (string | VNode)[] = [];
  let rest = text;
  for (let m = INLINE.exec(rest); m; m = INLINE.exec(rest)) {
    if (m.index) out.push(rest.slice(0, m.index));
    const [token] = m;
    if (m[1]) out.push(<code>{token.slice(1, -1)}</code>);
    else if (m[2]) out.push(<strong>{token.slice(2, -2)}</strong>);
    else if (m[3]) out.push(<em>{token.slice(1, -1)}</em>);
    else if (m[4]) {
      const [, label, href] = /^\[([^\]]+)\]\(([^)]+)\)$/.exec(token)!;
      out.push(safeHref(href) ? link(href, label) : token);
    } else out.push(link(token, token));
    rest = rest.slice(m.index + token.length);
  }
  if (rest) out.push(rest);
  return out;
}

/** Only web and mail links; `javascript:` and the like stay plain text. */
export function safeHref(href: string): boolean {
  return /^(https?:\/\/|mailto:)/i.test(href);
}

function link(href: string, label: string): VNode {
  return <a href={href} target="_blank" rel="noopener noreferrer nofollow">{label}</a>;
}
