/** Small charts: an action's attempts per hour (stacked by outcome) and its success rate. */

import { html } from "./html.js";
import type { StatsOut } from "./types.js";

export function successRate(stats: StatsOut) {
  const { succeeded, failed, pending } = stats.instances;
  if (stats.success_rate === null) return html`<p class="rate muted">No finished deliveries in the last 24 h${pending ? html` (${pending} pending)` : ""}.</p>`;
  const pct = Math.round(stats.success_rate * 100);
  const tone = pct >= 95 ? "good" : pct >= 80 ? "warn" : "bad";
  return html`<p class="rate"><strong class="${tone}">${pct}%</strong> succeeded in the last 24 h <span class="muted">(${succeeded} of ${succeeded + failed}${pending ? `, ${pending} pending` : ""})</span></p>`;
}

export function attemptsChart(stats: StatsOut) {
  const width = 480;
  const height = 64;
  const n = stats.hourly.length;
  const max = Math.max(1, ...stats.hourly.map((h) => h.succeeded + h.retry + h.failed));
  const bar = width / n;
  const total = stats.hourly.reduce((a, h) => a + h.succeeded + h.retry + h.failed, 0);
  const rects = stats.hourly.map((h, i) => {
    let y = height;
    return (["succeeded", "retry", "failed"] as const).map((k) => {
      const hgt = (h[k] / max) * height;
      y -= hgt;
      return hgt > 0
        ? html`<rect class="${k}" x="${(i * bar + 1).toFixed(1)}" y="${y.toFixed(1)}" width="${(bar - 2).toFixed(1)}" height="${hgt.toFixed(1)}"><title>${new Date(h.hour).toLocaleString()}: ${h[k]} ${k}</title></rect>`
        : "";
    });
  });
  return html`<figure class="chart">
    <svg viewBox="0 0 ${width} ${height}" role="img" aria-label="Attempts per hour over the last 24 hours: ${total} in all" preserveAspectRatio="none">${rects}</svg>
    <figcaption>Attempts per hour, last 24 h: <span class="key succeeded">succeeded</span> <span class="key retry">retried</span> <span class="key failed">failed</span></figcaption>
  </figure>`;
}
