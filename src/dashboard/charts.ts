/**
 * Server-rendered SVG charts for the dashboard: plain markup with a <title> and <desc> for screen
 * readers, classes for colours (the CSP allows no inline styles), no scripts. Values are numbers and
 * labels are escaped by EJS when embedded, but these strings are built here, so labels are escaped here.
 */
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export interface Bar {
  label: string;
  value: number;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "2024-11-23" as people read it on an axis: "Nov 23" (the day is UTC, as the counts are). */
export function shortDay(isoDay: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(isoDay);
  return m ? `${MONTHS[Number(m[2]) - 1]} ${Number(m[3])}` : isoDay;
}

/** Round steps for the value axis (0 and at most `count` more lines): 7 → [0, 2, 4, 6, 8]. */
export function niceTicks(max: number, count = 4): number[] {
  if (max <= 0) return [0, 1];
  const raw = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = Math.max(1, [1, 2, 5, 10].map((f) => f * magnitude).find((s) => s >= raw) ?? 10 * magnitude);
  const ticks: number[] = [];
  for (let v = 0; v < max + step; v += step) ticks.push(v);
  return ticks;
}

/**
 * Bars per day with date labels ("Nov 23") every `labelEvery` bars and on the last, horizontal gridlines
 * at round values, and the last bar marked "Today" when `todayLast` is set.
 */
export function barChart(
  bars: Bar[],
  title: string,
  opts: { width?: number; height?: number; labelEvery?: number; todayLast?: boolean } = {},
): string {
  const width = opts.width ?? 640;
  const height = opts.height ?? 220;
  const labelEvery = opts.labelEvery ?? 7;
  const ticks = niceTicks(Math.max(0, ...bars.map((b) => b.value)));
  const top = ticks[ticks.length - 1];
  const pad = { left: 34, right: 8, bottom: 26, top: 18 };
  const plotH = height - pad.bottom - pad.top;
  const step = (width - pad.left - pad.right) / Math.max(1, bars.length);
  const y = (v: number) => pad.top + plotH - Math.round((v / top) * plotH);
  const grid = ticks.map(
    (v) =>
      `<line class="grid-line" x1="${pad.left}" x2="${width - pad.right}" y1="${y(v)}" y2="${y(v)}"/><text class="axis" x="${pad.left - 6}" y="${y(v) + 4}" text-anchor="end">${v}</text>`,
  );
  const last = bars.length - 1;
  const rects = bars.map((b, i) => {
    const x = pad.left + i * step + 2;
    const w = Math.max(1, step - 4);
    const h = y(0) - y(b.value);
    const labelled = (last - i) % labelEvery === 0;
    const label = labelled
      ? `<text class="axis" x="${(x + w / 2).toFixed(1)}" y="${height - 8}" text-anchor="middle">${esc(b.label)}</text>`
      : '';
    const today =
      opts.todayLast && i === last
        ? `<line class="today-mark" x1="${(x + w / 2).toFixed(1)}" x2="${(x + w / 2).toFixed(1)}" y1="${pad.top - 4}" y2="${y(0)}"/><text class="today-label" x="${(x + w / 2).toFixed(1)}" y="${pad.top - 7}" text-anchor="end">Today</text>`
        : '';
    return `${today}<rect class="bar${opts.todayLast && i === last ? ' bar-today' : ''}" x="${x.toFixed(1)}" y="${y(b.value)}" width="${w.toFixed(1)}" height="${h}"><title>${esc(b.label)}: ${b.value}</title></rect>${label}`;
  });
  const total = bars.reduce((s, b) => s + b.value, 0);
  const max = Math.max(0, ...bars.map((b) => b.value));
  const span = bars.length ? `${esc(bars[0].label)} to ${esc(bars[last].label)}` : '';
  return `<svg class="chart" role="img" viewBox="0 0 ${width} ${height}" aria-labelledby="c-reg-t c-reg-d"><title id="c-reg-t">${esc(title)}</title><desc id="c-reg-d">${span}: ${total} in total; at most ${max} in one day.</desc>${grid.join('')}${rects.join('')}</svg>`;
}

export function donutChart(parts: Bar[], title: string, size = 200): string {
  const total = parts.reduce((s, p) => s + p.value, 0);
  const r = 70;
  const c = 2 * Math.PI * r;
  let offset = 0;
  const arcs = parts.map((p, i) => {
    const len = total ? (p.value / total) * c : 0;
    const arc = `<circle class="slice slice-${i}" cx="${size / 2}" cy="${size / 2}" r="${r}" fill="none" stroke-width="28" stroke-dasharray="${len.toFixed(2)} ${(c - len).toFixed(2)}" stroke-dashoffset="${(-offset).toFixed(2)}"><title>${esc(p.label)}: ${p.value}</title></circle>`;
    offset += len;
    return arc;
  });
  const legend = parts.map(
    (p, i) =>
      `<rect class="slice-key slice-key-${i}" x="${size + 10}" y="${40 + i * 24}" width="12" height="12"/><text x="${size + 28}" y="${50 + i * 24}">${esc(p.label)}: ${p.value}</text>`,
  );
  return `<svg class="chart" role="img" viewBox="0 0 ${size + 180} ${size}" aria-labelledby="c-kind-t c-kind-d"><title id="c-kind-t">${esc(title)}</title><desc id="c-kind-d">${parts.map((p) => `${esc(p.label)} ${p.value}`).join(', ')}</desc><circle class="slice-bg" cx="${size / 2}" cy="${size / 2}" r="${r}" fill="none" stroke-width="28"/>${arcs.join('')}${legend.join('')}</svg>`;
}
