/**
 * Prometheus metrics (text exposition format 0.0.4), kept in memory per process: counters and
 * histograms updated on the hot path with no I/O, and gauges read from the database on scrape.
 */
type Labels = Record<string, string>;

// On the hot path (three updates per attempt): no intermediate arrays beyond the names, no regex
// replace unless a value needs escaping, since whatever this allocates, every attempt pays.
const UNSAFE = /[\\"\n]/;
const escapeValue = (v: string) => (UNSAFE.test(v) ? v.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`)) : v);

function render(labels: Labels): string {
  const names = Object.keys(labels);
  if (names.length > 1) names.sort();
  let out = "";
  for (const name of names) out += `${out ? "," : ""}${name}="${escapeValue(labels[name] ?? "")}"`;
  return out;
}

/** A step of the walk to a label set's key: by each name, then its value, in the labels' order. */
interface KeyNode {
  key?: string;
  next: Map<string, Map<string, KeyNode>>;
}
const keys: KeyNode = { next: new Map() };

/**
 * The series key of a label set, made once per distinct set: found again by walking its names and
 * values, which builds no string: rendering it on every update (four per event) would allocate a
 * string each time. Label values are few by design (action types, outcomes), as Prometheus wants them.
 */
function key(labels: Labels): string {
  let node = keys;
  for (const name in labels) {
    const value = labels[name] ?? "";
    let byValue = node.next.get(name);
    if (!byValue) {
      byValue = new Map();
      node.next.set(name, byValue);
    }
    let child = byValue.get(value);
    if (!child) {
      child = { next: new Map() };
      byValue.set(value, child);
    }
    node = child;
  }
  node.key ??= render(labels);
  return node.key;
}

export class Counter {
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  inc(labels: Labels = {}, by = 1): void {
    const k = key(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const [k, v] of this.values) lines.push(`${this.name}${k ? `{${k}}` : ""} ${v}`);
    return lines.join("\n");
  }
}

export class Histogram {
  private readonly series = new Map<string, { counts: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
  ) {}
  observe(labels: Labels, value: number): void {
    const k = key(labels);
    let s = this.series.get(k);
    if (!s) {
      s = { counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.series.set(k, s);
    }
    // Counted in the first bucket that holds the value; render() adds them up (buckets are cumulative).
    let i = 0;
    while (i < this.buckets.length && value > (this.buckets[i] as number)) i++;
    if (i < this.buckets.length) s.counts[i] = (s.counts[i] ?? 0) + 1;
    s.sum += value;
    s.count++;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const [k, s] of this.series) {
      const sep = k ? `${k},` : "";
      let cumulative = 0;
      for (const [i, le] of this.buckets.entries()) {
        cumulative += s.counts[i] ?? 0;
        lines.push(`${this.name}_bucket{${sep}le="${le}"} ${cumulative}`);
      }
      lines.push(
        `${this.name}_bucket{${sep}le="+Inf"} ${s.count}`,
        `${this.name}_sum${k ? `{${k}}` : ""} ${s.sum}`,
        `${this.name}_count${k ? `{${k}}` : ""} ${s.count}`,
      );
    }
    return lines.join("\n");
  }
}

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600];

/** The metrics Hookline keeps; one instance per process, passed to whoever updates them. */
export function createMetrics() {
  return {
    instancesCreated: new Counter("hookline_instances_created_total", "Instances created by ingest, by action type"),
    attempts: new Counter("hookline_attempts_total", "Attempts made, test sends excluded, by action type and outcome (succeeded, retry, failed)"),
    attemptDuration: new Histogram("hookline_attempt_duration_seconds", "Duration of one attempt, test sends excluded, by action type", SECONDS),
    deliveryLatency: new Histogram("hookline_delivery_latency_seconds", "From ingest to successful delivery, by action type", SECONDS),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;

/** The exposition: every counter and histogram, then the gauges measured now. */
export function renderMetrics(metrics: Metrics, gauges: { name: string; help: string; value: number }[]): string {
  const parts = Object.values(metrics).map((m) => m.render());
  for (const g of gauges) parts.push(`# HELP ${g.name} ${g.help}\n# TYPE ${g.name} gauge\n${g.name} ${g.value}`);
  return `${parts.join("\n")}\n`;
}
