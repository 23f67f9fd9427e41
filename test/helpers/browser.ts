/** Debian's Chromium driven by playwright-core (it cannot download a browser here). */
import fs from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";
import { createLoginToken } from "../../src/accounts/sessions.js";
import type { HooklineClient } from "../../src/client/index.js";
import type { TestHookline } from "./hookline.js";

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

/** A new browser page signed in to a new account of `h` (confirmations accepted), on its trigger list. */
export async function signedIn(
  h: TestHookline,
  browser: Browser,
  accountName: string,
  viewport = { width: 1280, height: 900 },
): Promise<{ page: Page; accountId: string; client: HooklineClient }> {
  const { accountId, client } = await h.account(accountName);
  const token = await createLoginToken(h.hookline.store.db, accountId, Date.now());
  const page = await (await browser.newContext({ viewport })).newPage();
  page.on("dialog", (dialog) => void dialog.accept()); // confirmations
  await openSignInLink(page, `${h.baseUrl}/ui/login?token=${token}`);
  await page.getByRole("heading", { name: "Webhooks" }).waitFor();
  return { page, accountId, client };
}
