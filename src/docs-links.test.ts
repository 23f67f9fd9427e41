/** The docs a newcomer reads link to each other: every relative link and #anchor must resolve. */
import fs from "node:fs";
import path from "node:path";
import { expect, it } from "vitest";

const FILES = ["README.md", "BENCHMARKS.md", "SECURITY.md", ...fs.readdirSync("docs").flatMap((f) => (f.endsWith(".md") ? [`docs/${f}`] : []))];

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
const slug = (heading: string) =>
  heading
    .replaceAll("`", "")
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");

const anchorsOf = (file: string) => new Set([...fs.readFileSync(file, "utf8").matchAll(/^#+\s+(.*)$/gm)].map((m) => slug(m[1] ?? "")));

it("every relative link and anchor in README, BENCHMARKS, SECURITY and docs/ resolves", () => {
  const broken: string[] = [];
  for (const file of FILES) {
    for (const [, link = ""] of fs.readFileSync(file, "utf8").matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(link)) continue;
      const [target = "", anchor] = link.split("#");
      const resolved = target ? path.join(path.dirname(file), target) : file;
      if (!fs.existsSync(resolved)) broken.push(`${file}: ${link} (no such file)`);
      else if (anchor && resolved.endsWith(".md") && !anchorsOf(resolved).has(anchor)) broken.push(`${file}: ${link} (no such heading)`);
    }
  }
  expect(broken).toEqual([]);
});
