/** Debian's Chromium driven by playwright-core (it cannot download a browser here). */
import fs from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";
/** Missing Chromium skips the browser tests locally; `scripts/ensure-chromium.sh` fails CI instead. */
export const hasChromium = fs.existsSync(CHROMIUM);

export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // The machine has no internet: keep Chromium from reaching for Google's services.
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

export const ARTIFACTS = new URL("../../test-artifacts/screenshots/", import.meta.url);

/** Opens a sign-in link and confirms it with its Sign in button, as a person does (the GET alone signs no one in). */
export async function openSignInLink(page: Page, link: string): Promise<void> {
  await page.goto(link);
  await page.getByRole("button", { name: "Sign in" }).click();
}
