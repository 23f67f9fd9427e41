/**
 * The web UI end to end in a real browser (Debian's Chromium via playwright-core), against a real
 * Hookline and a real receiver on loopback. Screenshots of the main screens go to
 * test-artifacts/screenshots/.
 */
import fs from "node:fs";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLoginToken, signEmbedToken } from "../src/accounts/sessions.js";
import { triggerType } from "../src/catalogue/trigger-types.js";
import { ARTIFACTS, hasChromium, launch, signedIn as signIn } from "./helpers/browser.js";
import { startTestHookline, type TestHookline } from "./helpers/hookline.js";
import { type Receiver, startReceiver } from "./helpers/receiver.js";

const EMBED_SECRET = "an-embed-secret-of-at-least-32-characters";
let h: TestHookline;
let receiver: Receiver;
let browser: Browser;

beforeAll(async () => {
  if (!hasChromium) return;
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  // Retries 1 s apart: slow enough to watch an instance retrying in the auto-refreshing log.
  h = await startTestHookline({ HOOKLINE_EMBED_SECRET: EMBED_SECRET, HOOKLINE_RETRY_SCHEDULE: "1,1,1,1", HOOKLINE_FAILING_AFTER: "0.5" });
  receiver = await startReceiver();
  browser = await launch();
  // Launching Chromium while both dialects' suites (and the multi-process tests) load the two cores
  // has taken over the default 30 s in CI; a slow start is not what this file tests.
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await h?.stop();
  await receiver?.close();
});

const signedIn = (accountName: string, viewport?: { width: number; height: number }) => signIn(h, browser, accountName, viewport);

const shot = (page: Page, name: string) => page.screenshot({ path: new URL(`${name}.png`, ARTIFACTS).pathname, fullPage: true });
const logRows = (page: Page) => page.locator("table#log tbody tr[data-instance]");

describe.skipIf(!hasChromium)("web UI", () => {
  it("signs in with a login link, runs a webhook from trigger to log, and handles failure, filters, resend, the enable switches and delete", async () => {
    const { page, client } = await signedIn("Bright Smiles Dental");
    expect(await page.locator("#account").textContent()).toContain("Bright Smiles Dental");

    // Create a trigger, with the catalogue's description and example payload on the form.
    await page.getByRole("link", { name: "New trigger" }).click();
    await page.getByLabel("Name").fill("Confirmations to CRM");
    await page.getByLabel("When").selectOption({ label: "Participant confirmed" });
    expect(await page.locator("#type-help").textContent()).toContain("A participant confirmed. Also fires Participant reminder state changed (any state).");
    await shot(page, "trigger-form");
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByRole("heading", { name: "Confirmations to CRM" }).waitFor();

    // An invalid URL is refused, with the API's message next to the field.
    await page.getByRole("link", { name: "Add action" }).click();
    await page.getByLabel("Name").fill("CRM");
    await page.getByLabel("Webhook URL").fill("ftp://nope");
    await page.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => page.locator("#e-url").textContent()).toContain("absolute http:// or https:// URL");
    expect(await page.getByLabel("Webhook URL").getAttribute("aria-invalid")).toBe("true");
    // So is a private address (the test server opens only loopback), naming the rule.
    await page.getByLabel("Webhook URL").fill("http://10.0.0.5/hook");
    await page.getByRole("button", { name: "Save" }).click();
    await expect
      .poll(() => page.locator("#e-url").textContent())
      .toBe("10.0.0.5 is a private address (RFC 1918); outbound requests cannot reach it unless HOOKLINE_ALLOWED_NETWORKS allows it");

    // A webhook action to a loopback receiver; a test event goes through the real delivery path.
    await page.getByLabel("Webhook URL").fill(receiver.url("/ui-hook"));
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByRole("button", { name: "Send test event" }).click();
    await expect.poll(() => page.locator("output").first().textContent(), { timeout: 20_000 }).toMatch(/Test sent: succeeded \(HTTP 200\)/);
    expect(receiver.received.filter((r) => r.path === "/ui-hook")).toHaveLength(1);

    // The secret can be revealed, and it is the one that signed the request.
    await page.getByRole("button", { name: "Reveal secret" }).click();
    await expect.poll(() => page.locator("code.secret").textContent()).toMatch(/^whsec_/);
    await shot(page, "trigger-detail");

    // The log shows the instance as succeeded.
    await page.getByRole("link", { name: "Log" }).click();
    await expect.poll(() => logRows(page).count()).toBe(1);
    expect(await logRows(page).first().locator("td").first().textContent()).toBe("succeeded");
    // It was a test send, and says so.
    expect(await logRows(page).first().locator(".badge.test").textContent()).toBe("test");

    // The receiver starts failing: the log refreshes by itself through retrying to failed after 5 attempts.
    receiver.respond("/ui-hook", () => ({ status: 503, body: "down for maintenance" }));
    const actionId = new URL(page.url()).hash.split("/")[2];
    // A real event from the platform this time (a test send counts in neither the chart nor the rate).
    await client.ingest({ type: "participant.confirmed", data: triggerType("participant.confirmed").example as Record<string, unknown> });
    await expect.poll(() => logRows(page).count(), { timeout: 10_000 }).toBe(2);
    await expect.poll(() => logRows(page).first().locator("td").first().textContent(), { timeout: 10_000 }).toBe("retrying");
    await expect.poll(() => logRows(page).first().locator("td").first().textContent(), { timeout: 15_000 }).toBe("failed");
    expect(await logRows(page).first().locator("td").nth(3).textContent()).toBe("5");
    expect(await logRows(page).first().locator(".badge.test").count()).toBe(0);
    await shot(page, "log");

    // Filter by outcome, and sort by clicking a column header.
    const states = () => logRows(page).locator("td:first-child").allTextContents();
    await page.getByLabel("Show").selectOption("failed");
    await expect.poll(states).toEqual(["failed"]);
    await page.getByLabel("Show").selectOption("succeeded");
    await expect.poll(states).toEqual(["succeeded"]);
    await page.getByLabel("Show").selectOption("");
    await page.getByRole("button", { name: "Attempts" }).click();
    await expect.poll(() => page.locator('th[aria-sort="descending"]').textContent()).toContain("Attempts");
    expect(await logRows(page).locator("td:nth-child(4)").allTextContents()).toEqual(["5", "1"]);
    await page.getByRole("button", { name: /Attempts/ }).click();
    await expect.poll(() => logRows(page).locator("td:nth-child(4)").allTextContents()).toEqual(["1", "5"]);

    // Open the failed instance: payload and every attempt; resend once the receiver is back.
    await page.getByLabel("Show").selectOption("failed");
    await expect.poll(states).toEqual(["failed"]);
    await logRows(page).first().getByRole("link", { name: "Inspect" }).click();
    await page.getByRole("heading", { name: /^Instance/ }).waitFor();
    expect(await page.locator("ol.attempts > li").count()).toBe(5);
    expect(await page.locator("pre.json").first().textContent()).toContain('"participant"');
    await shot(page, "instance");
    receiver.respond("/ui-hook", () => ({ status: 200 }));
    await page.getByRole("button", { name: "Resend" }).click();
    await expect.poll(() => page.locator(".facts .state").first().textContent(), { timeout: 10_000 }).toBe("succeeded");
    expect(await page.locator("ol.attempts > li").count()).toBe(6);

    // The switches save, read back from the API: the action's and the trigger's on the trigger's
    // page, the trigger's on the list. No alert on the way.
    const alerts: string[] = [];
    page.on("dialog", (dialog) => {
      if (dialog.type() === "alert") alerts.push(dialog.message());
    });
    const enabled = async (path: string) => ((await (await page.request.get(`${h.baseUrl}${path}`)).json()) as { enabled: boolean }).enabled;
    await page.getByRole("link", { name: "Webhooks" }).click();
    await page.getByRole("link", { name: "Confirmations to CRM" }).click();
    await page.getByRole("heading", { name: "Confirmations to CRM" }).waitFor();
    const triggerPath = `/api/v1/triggers/${new URL(page.url()).hash.split("/")[2]}`;
    await page.getByLabel("CRM enabled").uncheck();
    await expect.poll(() => enabled(`/api/v1/actions/${actionId}`)).toBe(false);
    await page.getByLabel("Trigger enabled").uncheck();
    await expect.poll(() => enabled(triggerPath)).toBe(false);
    await page.reload();
    await page.getByRole("heading", { name: "Confirmations to CRM" }).waitFor();
    expect(await page.getByLabel("CRM enabled").isChecked()).toBe(false);
    expect(await page.getByLabel("Trigger enabled").isChecked()).toBe(false);
    await page.getByRole("link", { name: "Webhooks" }).click();
    const listSwitch = page.getByLabel("Confirmations to CRM enabled");
    expect(await listSwitch.isChecked()).toBe(false);
    await listSwitch.check();
    await expect.poll(() => enabled(triggerPath)).toBe(true);
    await expect.poll(() => listSwitch.isEnabled()).toBe(true);
    await listSwitch.uncheck();
    await expect.poll(() => enabled(triggerPath)).toBe(false);
    expect(alerts).toEqual([]);

    // Delete the action, then the trigger (confirmations are accepted).
    await page.getByRole("link", { name: "Confirmations to CRM" }).click();
    await page.getByRole("heading", { name: "Confirmations to CRM" }).waitFor();
    await page.getByRole("button", { name: "Delete" }).last().click();
    await expect.poll(() => page.locator("li.card").count()).toBe(0);
    await page.getByRole("button", { name: "Delete" }).click();
    await page.getByRole("heading", { name: "Webhooks" }).waitFor();
    await expect.poll(() => page.getByText("No triggers yet").count()).toBe(1);
  }, 90_000);

  it("edits SMS templates with a live preview and shows a missing provider", async () => {
    const { page } = await signedIn("Preview Clinic");
    await page.getByRole("link", { name: "New trigger" }).click();
    await page.getByLabel("Name").fill("Cancellations");
    await page.getByLabel("When").selectOption({ label: "Participant not coming" });
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByRole("link", { name: "Add action" }).click();
    await page.getByLabel("Name").fill("Front desk");
    await page.getByLabel("Action").selectOption("sms");
    await page.getByLabel("To", { exact: true }).fill("(555) 201-3344");
    await page.getByLabel("Message").fill("{{ participant.name }} can't make {{ event.day_and_time_phrase }}");
    await expect.poll(() => page.locator("#p-body").textContent()).toBe("Jane Doe can't make Wednesday, April 15th at 12:00pm");
    await page.getByLabel("Message").fill("{{ participant.name ");
    await expect.poll(() => page.locator("#p-body").textContent()).toMatch(/^line 1, column/);
    await page.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => page.locator("#e-body").textContent()).toMatch(/^line 1, column/);
    await page.getByLabel("Message").fill("{{ participant.name }} cancelled");
    await expect.poll(() => page.locator("#e-body").isHidden()).toBe(true); // the error goes once the field is edited
    await expect.poll(() => page.locator("#p-body").textContent()).toBe("Jane Doe cancelled");
    await shot(page, "template-editor");
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByRole("heading", { name: "Cancellations" }).waitFor();
    expect(await page.getByRole("note").textContent()).toMatch(/SMS provider not configured/);
    expect(await page.locator("li.card code").first().textContent()).toBe("+15552013344");
  });

  it("sets up a Slack webhook from its preset with a custom header, flags it failing, and resends the failed deliveries", async () => {
    const { page, client } = await signedIn("Slack Clinic");
    await page.getByRole("link", { name: "New trigger" }).click();
    await page.getByLabel("Name").fill("Cancellations to Slack");
    await page.getByLabel("When").selectOption({ label: "Participant canceled booking" });
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByRole("link", { name: "Add action" }).click();
    await page.getByLabel("Name").fill("#front-desk");
    await page.getByLabel("Webhook URL").fill(receiver.url("/ui-slack"));
    await page.getByLabel("Destination").selectOption({ label: "Slack incoming webhook" });
    await expect.poll(() => page.locator("#p-webhook_body").textContent()).toMatch(/^\{"text": "\*Participant canceled booking\*: Jane Doe/);
    await page.getByLabel("Custom headers (optional)").fill("X-Slack-Team: T0001");
    await shot(page, "webhook-preset");
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByRole("heading", { name: "Cancellations to Slack" }).waitFor();

    receiver.respond("/ui-slack", (r) => (/"text":/.test(r.body) ? { status: 200, body: "ok" } : { status: 400, body: "no_text" }));
    await page.getByRole("button", { name: "Send test event" }).click();
    await expect.poll(() => page.locator("output").first().textContent(), { timeout: 20_000 }).toMatch(/Test sent: succeeded/);
    const sent = receiver.received.filter((r) => r.path === "/ui-slack");
    expect(JSON.parse(sent[0]?.body ?? "{}").text).toMatch(/^\*Participant canceled booking\*: Jane Doe/);
    expect(sent[0]?.headers["x-slack-team"]).toBe("T0001");

    // The channel is archived: deliveries fail (404), and after a while the action is flagged.
    receiver.respond("/ui-slack", () => ({ status: 404, body: "channel_not_found" }));
    const type = "participant.canceled_booking";
    await client.ingest({ type, data: triggerType(type).example as Record<string, unknown> });
    const [trigger] = (await client.listTriggers()).data;
    const [action] = (await client.listActions(trigger?.id ?? "")).data;
    await expect.poll(async () => (await client.getAction(action?.id ?? "")).failing, { timeout: 10_000 }).toBe(true);
    await page.reload();
    await expect.poll(() => page.locator(".failing").textContent()).toMatch(/^Failing: every delivery since/);

    // Fixed: resend the failed deliveries of the last day from the log.
    receiver.respond("/ui-slack", () => ({ status: 200, body: "ok" }));
    await page.getByRole("link", { name: "Log" }).click();
    await expect.poll(() => logRows(page).count()).toBe(2);
    await page.getByRole("button", { name: "Resend failed" }).click();
    await expect.poll(() => page.locator("#recover output").textContent()).toBe("1 failed delivery sent again.");
    await expect.poll(() => logRows(page).locator("td:first-child").allTextContents(), { timeout: 10_000 }).toEqual(["succeeded", "succeeded"]);
  });

  it("is usable at phone width", async () => {
    const { page } = await signedIn("Phone Clinic", { width: 390, height: 844 });
    await page.getByRole("link", { name: "New trigger" }).click();
    await page.getByLabel("Name").fill("Bookings");
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByRole("heading", { name: "Bookings" }).waitFor();
    // Nothing but the log table may scroll sideways.
    expect(await page.evaluate<number>("document.documentElement.scrollWidth")).toBeLessThanOrEqual(390);
    await shot(page, "phone-trigger");
  });

  it("can be driven with the keyboard alone", async () => {
    const { page } = await signedIn("Keyboard Clinic");
    await page.keyboard.press("Tab"); // skip link
    await page.keyboard.press("Tab");
    for (let i = 0; i < 10 && !(await page.evaluate<boolean>('document.activeElement?.textContent === "New trigger"')); i++) await page.keyboard.press("Tab");
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "New trigger" }).waitFor();
    await page.keyboard.press("Tab"); // from the focused heading to the name field
    await page.keyboard.type("Typed trigger");
    await page.keyboard.press("Enter"); // submits the form
    await page.getByRole("heading", { name: "Typed trigger" }).waitFor();
  });

  it("keeps sessions safe: a link works once, writes need the CSRF token, embed tokens scope to one account", async () => {
    const { accountId } = await h.account("Link Clinic");
    const token = await createLoginToken(h.hookline.store.db, accountId, Date.now());
    const confirm = () => fetch(`${h.baseUrl}/ui/login`, { method: "POST", body: new URLSearchParams({ token }), redirect: "manual" });
    const first = await confirm();
    expect(first.status).toBe(303);
    const cookies = first.headers.getSetCookie();
    expect(cookies.find((c) => c.startsWith("hookline_session="))).toMatch(/HttpOnly; SameSite=Lax/);
    expect((await confirm()).status).toBe(400);

    const cookie = cookies.map((c) => c.split(";")[0]).join("; ");
    const csrf = /hookline_csrf=([^;]*)/.exec(cookie)?.[1] ?? "";
    const create = (headers: Record<string, string>) =>
      fetch(`${h.baseUrl}/api/v1/triggers`, {
        method: "POST",
        headers: { cookie, "content-type": "application/json", ...headers },
        body: JSON.stringify({ name: "x", type: "event.created" }),
      });
    expect((await create({})).status).toBe(403);
    expect((await create({ "x-hookline-csrf": "forged" })).status).toBe(403);
    expect((await create({ "x-hookline-csrf": csrf })).status).toBe(201);
    expect((await fetch(`${h.baseUrl}/api/v1/triggers`, { headers: { cookie } })).status).toBe(200);

    // A platform embeds the UI for one of its customers with a signed, expiring token.
    const other = await h.account("Embedded Clinic");
    await other.client.createTrigger({ name: "only mine", type: "event.created" });
    const embed = signEmbedToken(EMBED_SECRET, { account_id: other.accountId, exp: Math.floor(Date.now() / 1000) + 300 });
    // Its page submits itself (ui/src/embed.ts): the browser lands in the UI with no click.
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${h.baseUrl}/ui/embed?token=${embed}`);
    await page.getByRole("link", { name: "only mine" }).waitFor();
    expect(await page.locator("tbody tr").count()).toBe(1);
    // Signing out sends the session's CSRF token, which the server now requires.
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    const openEmbed = (token: string) => fetch(`${h.baseUrl}/ui/embed`, { method: "POST", body: new URLSearchParams({ token }), redirect: "manual" });
    const expired = signEmbedToken(EMBED_SECRET, { account_id: other.accountId, exp: Math.floor(Date.now() / 1000) - 1 });
    expect((await openEmbed(expired)).status).toBe(403);
    const forged = signEmbedToken("a-different-secret-of-32-characters-xx", { account_id: other.accountId, exp: Math.floor(Date.now() / 1000) + 300 });
    expect((await openEmbed(forged)).status).toBe(403);
  });
});
