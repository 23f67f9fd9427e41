import { expect, it } from "vitest";
import { Counter, createMetrics, Histogram, renderMetrics } from "./metrics.js";

it("renders counters with sorted, escaped labels", () => {
  const c = new Counter("x_total", "X");
  c.inc({ b: "2", a: 'q"uote' });
  c.inc({ a: 'q"uote', b: "2" }, 2);
  expect(c.render()).toBe('# HELP x_total X\n# TYPE x_total counter\nx_total{a="q\\"uote",b="2"} 3');
});

it("renders cumulative histogram buckets with sum and count", () => {
  const h = new Histogram("d_seconds", "D", [0.1, 1]);
  h.observe({ t: "webhook" }, 0.05);
  h.observe({ t: "webhook" }, 0.5);
  h.observe({ t: "webhook" }, 5);
  expect(h.render().split("\n").slice(2)).toEqual([
    'd_seconds_bucket{t="webhook",le="0.1"} 1',
    'd_seconds_bucket{t="webhook",le="1"} 2',
    'd_seconds_bucket{t="webhook",le="+Inf"} 3',
    'd_seconds_sum{t="webhook"} 5.55',
    'd_seconds_count{t="webhook"} 3',
  ]);
});

it("ends the exposition with the gauges measured now", () => {
  const text = renderMetrics(createMetrics(), [{ name: "q", help: "Q", value: 4 }]);
  expect(text.endsWith("# HELP q Q\n# TYPE q gauge\nq 4\n")).toBe(true);
});

it("escapes backslashes and newlines in label values as the exposition format requires", () => {
  const c = new Counter("e_total", "E");
  c.inc({ path: "a\\b\nc" });
  expect(c.render().split("\n")[2]).toBe('e_total{path="a\\\\b\\nc"} 1');
});

it("counts a value above every bucket only in +Inf", () => {
  const h = new Histogram("h_seconds", "H", [1]);
  h.observe({}, 2);
  expect(h.render().split("\n").slice(2, 4)).toEqual(['h_seconds_bucket{le="1"} 0', 'h_seconds_bucket{le="+Inf"} 1']);
});

it("keeps a label set and a larger one that starts with it as separate series", () => {
  const c = new Counter("s_total", "S");
  c.inc({ a: "1" });
  c.inc({ a: "1", b: "2" });
  c.inc({ b: "2", a: "1" });
  c.inc({});
  expect(c.render().split("\n").slice(2)).toEqual(['s_total{a="1"} 1', 's_total{a="1",b="2"} 2', "s_total 1"]);
});
