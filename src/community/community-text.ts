/**
 * A community page's text: plain text with a small Markdown subset, turned into blocks the view prints
 * escaped (never HTML: a page's text cannot carry markup, a script or a link of its own). The subset:
 * a blank line starts a paragraph, "## " a heading, and lines starting with "- " or "* " a list.
 */
export type TextBlock =
  | { kind: 'heading'; text: string }
  | { kind: 'list'; items: string[] }
  | { kind: 'paragraph'; text: string };

const ITEM = /^\s*[-*]\s+/;

export function textBlocks(text: string): TextBlock[] {
  const blocks: TextBlock[] = [];
  for (const chunk of text.replace(/\r\n?/g, '\n').split(/\n\s*\n/)) {
    const lines = chunk.split('\n').filter((l) => l.trim());
    let paragraph: string[] = [];
    let list: string[] = [];
    const flush = () => {
      if (paragraph.length) blocks.push({ kind: 'paragraph', text: paragraph.join(' ') });
      if (list.length) blocks.push({ kind: 'list', items: list });
      paragraph = [];
      list = [];
    };
    for (const line of lines) {
      if (/^##?\s+/.test(line)) {
        flush();
        blocks.push({ kind: 'heading', text: line.replace(/^##?\s+/, '').trim() });
      } else if (ITEM.test(line)) {
        if (paragraph.length) flush();
        list.push(line.replace(ITEM, '').trim());
      } else {
        if (list.length) flush();
        paragraph.push(line.trim());
      }
    }
    flush();
  }
  return blocks;
}
