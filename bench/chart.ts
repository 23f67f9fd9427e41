/**
 * The bench's chart: throughput and latency per scenario as an SVG, rendered to PNG by headless
 * Chromium (the same Debian package the UI tests use). Returns the PNG's path, or undefined when
 * there is no Chromium.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

type Results = Record<string, unknown>;
const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
const get = (r: Results, ...keys: string[]) => num(keys.reduce<unknown>((o, k) => (o && typeof o === "object" ? (o as Results)[k] : undefined), r));

/** Latencies below this are drawn as this (a log scale needs a floor). */
const LOG_FLOOR_MS = 0.1;

/**
 * Horizontal bars. `log`: lengths on a log scale, for latencies that span 0.5 ms to seconds (an
 * overloaded PostgreSQL run's seconds made every other latency bar a hairline).
 */
function bars(title: string, unit: string, entries: [string, number | undefined][], x: number, y: number, width: number, { log = false } = {}): string {
  const shown = entries.filter((e): e is [string, number] => e[1] !== undefined);
  const max = Math.max(1, ...shown.map(([, v]) => v));
  const share = (value: number) => (log ? Math.log10(Math.max(value, LOG_FLOOR_MS) / LOG_FLOOR_MS) / Math.log10(max / LOG_FLOOR_MS) : value / max);
  const rowHeight = 28;
  const labelWidth = 250;
  const parts = [`<text x="${x}" y="${y}" font-size="16" font-weight="bold">${title}</text>`];
  for (const [i, [label, value]] of shown.entries()) {
    const top = y + 14 + i * rowHeight;
    const w = (width - labelWidth - 90) * share(value);
    parts.push(
      `<text x="${x}" y="${top + 17}" font-size="13">${label}</text>`,
      `<rect x="${x + labelWidth}" y="${top + 4}" width="${w.toFixed(1)}" height="18" fill="${label.startsWith("Hookline") ? "#2f6fdf" : "#9aa5b1"}"/>`,
      `<text x="${x + labelWidth + w + 6}" y="${top + 17}" font-size="13">${value.toLocaleString("en-US")} ${unit}</text>`,
    );
  }
  return parts.join("\n");
}

export function chartSvg(r: Results): { svg: string; width: number; height: number } {
  const throughput: [string, number | undefined][] = [
    ["ceiling (raw undici)", get(r, "ceiling_per_s")],
    ["baseline (BullMQ + Redis)", get(r, "baseline_per_s")],
    ["baseline, batch ingest", get(r, "baseline", "batch_per_s")],
    ["floor (least code, same work)", get(r, "floor_per_s")],
    ["floor, batch ingest", get(r, "floor", "batch_per_s")],
    ["Hookline SQLite", get(r, "hookline_sqlite", "delivered_per_s")],
    ["Hookline SQLite, batch ingest", get(r, "hookline_sqlite", "batch_delivered_per_s")],
    ["Hookline PostgreSQL", get(r, "hookline_postgres", "delivered_per_s")],
    ["Hookline PG, 1 worker", get(r, "scale_postgres", "workers_1_per_s")],
    ["Hookline PG, 2 workers", get(r, "scale_postgres", "workers_2_per_s")],
    ["Hookline PG, 3 workers", get(r, "scale_postgres", "workers_3_per_s")],
    ["Hookline fan-out ×50 (deliveries)", get(r, "fanout", "deliveries_per_s")],
    ["Hookline backlog drain", get(r, "backlog", "drain_per_s")],
  ];
  const latency: [string, number | undefined][] = [
    ["ceiling p99 @1k/s (round trip)", get(r, "ceiling", "p99_ms_at_1k")],
    ["baseline p99 @1k/s", get(r, "baseline", "p99_ms_at_1k")],
    ["Hookline SQLite p50 @1k/s", get(r, "hookline_sqlite", "p50_ms_at_1k")],
    ["Hookline SQLite p99 @1k/s", get(r, "hookline_sqlite", "p99_ms_at_1k")],
    ["Hookline PG p50 @1k/s", get(r, "hookline_postgres", "p50_ms_at_1k")],
    ["Hookline PG p99 @1k/s", get(r, "hookline_postgres", "p99_ms_at_1k")],
    ["Hookline healthy p99, no hangs", get(r, "hanging", "healthy_p99_ms_no_fault")],
    ["Hookline healthy p99, 20% hang", get(r, "hanging", "healthy_p99_ms_with_hangs")],
  ];
  const width = 900;
  const top = 60;
  const latencyTop = top + 40 + throughput.filter(([, v]) => v !== undefined).length * 28;
  const height = latencyTop + 40 + latency.filter(([, v]) => v !== undefined).length * 28 + 20;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="20" y="30" font-size="18" font-weight="bold">npm run bench (${String(r.mode)}), ${String(r.machine)}</text>
${bars("Delivered per second", "/s", throughput, 20, top, width)}
${bars("Ingest → delivery latency (log scale)", "ms", latency, 20, latencyTop, width, { log: true })}
</svg>`;
  return { svg, width, height };
}

export async function renderChart(results: Results, out: string): Promise<string | undefined> {
  const chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => fs.existsSync(p));
  if (!chromium) return undefined;
  const { svg, width, height } = chartSvg(results);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hookline-chart-"));
  const file = path.join(dir, "chart.svg");
  fs.writeFileSync(file, svg);
  const png = path.resolve(out);
  try {
    execFileSync(
      chromium,
      [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        `--user-data-dir=${dir}`,
        `--window-size=${width},${height}`,
        `--screenshot=${png}`,
        `file://${file}`,
      ],
      { stdio: "ignore", timeout: 60_000 },
    );
    return png;
  } catch {
    return undefined;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
