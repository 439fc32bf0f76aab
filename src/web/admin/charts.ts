/**
 * Server-rendered SVG charts for the dashboard: plain markup with a <title> and <desc> for screen
 * readers, classes for colours (the CSP allows no inline styles), no scripts. Values are numbers and
 * labels are escaped by EJS when embedded, but these strings are built here, so labels are escaped here.
 */
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export interface Bar { label: string; value: number }

export function barChart(bars: Bar[], title: string, width = 640, height = 200): string {
  const max = Math.max(1, ...bars.map((b) => b.value));
  const pad = { left: 30, bottom: 24, top: 10 };
  const plotH = height - pad.bottom - pad.top;
  const step = (width - pad.left) / Math.max(1, bars.length);
  const rects = bars.map((b, i) => {
    const h = Math.round((b.value / max) * plotH);
    const x = pad.left + i * step + 2;
    const y = pad.top + plotH - h;
    const label = i % 5 === 0 ? `<text x="${x}" y="${height - 6}">${esc(b.label)}</text>` : '';
    return `<rect class="bar" x="${x.toFixed(1)}" y="${y}" width="${Math.max(1, step - 4).toFixed(1)}" height="${h}"><title>${esc(b.label)}: ${b.value}</title></rect>${label}`;
  });
  const total = bars.reduce((s, b) => s + b.value, 0);
  return `<svg class="chart" role="img" viewBox="0 0 ${width} ${height}" aria-labelledby="c-reg-t c-reg-d"><title id="c-reg-t">${esc(title)}</title><desc id="c-reg-d">${total} in total; at most ${max} in one day.</desc><text x="0" y="${pad.top + 8}">${max}</text><text x="0" y="${pad.top + plotH}">0</text>${rects.join('')}</svg>`;
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
  const legend = parts.map((p, i) => `<rect class="slice-key slice-key-${i}" x="${size + 10}" y="${40 + i * 24}" width="12" height="12"/><text x="${size + 28}" y="${50 + i * 24}">${esc(p.label)}: ${p.value}</text>`);
  return `<svg class="chart" role="img" viewBox="0 0 ${size + 180} ${size}" aria-labelledby="c-kind-t c-kind-d"><title id="c-kind-t">${esc(title)}</title><desc id="c-kind-d">${parts.map((p) => `${esc(p.label)} ${p.value}`).join(', ')}</desc><circle class="slice-bg" cx="${size / 2}" cy="${size / 2}" r="${r}" fill="none" stroke-width="28"/>${arcs.join('')}${legend.join('')}</svg>`;
}

export function seatChart(seats: { name: string; used: number; total: number }[], title: string, width = 640): string {
  const rowH = 30;
  const barW = width - 260;
  const rows = seats.map((s, i) => {
    const share = s.total ? Math.min(1, s.used / s.total) : 0;
    const y = i * rowH + 8;
    return `<text x="0" y="${y + 14}">${esc(s.name)}</text><rect class="seat-bg" x="180" y="${y}" width="${barW}" height="18"/><rect class="seat-used${share > 0.9 ? ' seat-full' : ''}" x="180" y="${y}" width="${Math.round(share * barW)}" height="18"><title>${esc(s.name)}: ${s.used} of ${s.total}</title></rect><text x="${190 + barW}" y="${y + 14}">${s.used} / ${s.total}</text>`;
  });
  return `<svg class="chart" role="img" viewBox="0 0 ${width} ${seats.length * rowH + 10}" aria-labelledby="c-seat-t c-seat-d"><title id="c-seat-t">${esc(title)}</title><desc id="c-seat-d">${seats.map((s) => `${esc(s.name)} ${s.used} of ${s.total}`).join('; ')}</desc>${rows.join('')}</svg>`;
}
