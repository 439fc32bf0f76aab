/** Reads the account page's tables (sessions, history, remembered devices) as rows of cell texts. */
export interface Row {
  className: string;
  cells: string[];
  html: string;
}

const text = (html: string) =>
  html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();

/** The body rows of the first table inside the element with `id` (a section of the account page). */
export function rowsOf(page: string, id: string): Row[] {
  const start = page.indexOf(`id="${id}"`);
  if (start < 0) throw new Error(`no #${id} on the page`);
  const body = page.slice(start, page.indexOf('</tbody>', start));
  return [...body.matchAll(/<tr class="([^"]*)">([\s\S]*?)<\/tr>/g)].map((m) => ({
    className: m[1],
    html: m[2],
    cells: [...m[2].matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((c) => text(c[1])),
  }));
}
