/**
 * Issue 37 in the web UI, in a real browser: the trigger form's condition builder, the action form's
 * timing and quiet hours, field insertion and SMS segments in the template editor, and the log's
 * scheduled instances with their reason.
 */
import fs from "node:fs";
import type { Browser, Page, Request } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { triggerType } from "../src/catalogue/trigger-types.js";
import { ARTIFACTS, hasChromium, launch, signedIn } from "./helpers/browser.js";
import { startTestHookline, type TestHookline } from "./helpers/hookline.js";
import { startTwilio, TWILIO_FROM, TWILIO_SID, TWILIO_TOKEN, type TwilioStandIn } from "./helpers/twilio.js";

let h: TestHookline;
let browser: Browser;
let twilio: TwilioStandIn;

beforeAll(async () => {
  if (!hasChromium) return;
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  twilio = await startTwilio();
  h = await startTestHookline({
    HOOKLINE_TWILIO_BASE_URL: twilio.baseUrl,
    HOOKLINE_TWILIO_ACCOUNT_SID: TWILIO_SID,
    HOOKLINE_TWILIO_AUTH_TOKEN: TWILIO_TOKEN,
    HOOKLINE_TWILIO_FROM: TWILIO_FROM,
  });
  browser = await launch();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await h?.stop();
  await twilio?.close();
});

const shot = (page: Page, name: string) => page.screenshot({ path: new URL(`${name}.png`, ARTIFACTS).pathname, fullPage: true });
const matchLine = (page: Page) => page.locator("output.match").textContent();
/** The JSON body of the next request the page sends to `path` with `method`. */
const nextBody = (page: Page, method: string, path: RegExp) =>
  page.waitForRequest((r: Request) => r.method() === method && path.test(new URL(r.url()).pathname)).then((r) => r.postDataJSON() as Record<string, unknown>);

async function newTrigger(page: Page, name: string, type: string) {
  await page.getByRole("link", { name: "New trigger" }).click();
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("When").selectOption({ label: type });
}

describe.skipIf(!hasChromium)("web UI: rules (issue 37)", () => {
  it("offers the operators and value input that fit each field's kind, and says what is unfinished", async () => {
    const { page } = await signedIn(h, browser, "Kinds Clinic");
    await newTrigger(page, "Kinds", "Appointment created");
    expect(await matchLine(page)).toBe("No conditions: every Appointment created event fires the trigger.");

    await page.getByRole("button", { name: "Add condition" }).click();
    const field = page.getByLabel("Field of condition 1");
    const op = page.getByLabel("Operator of condition 1");
    await field.selectOption("event.all_day");
    expect(await op.locator("option").allTextContents()).toEqual(["equals", "does not equal", "is present", "is missing"]);
    await field.selectOption("event.start_time");
    expect(await op.locator("option").allTextContents()).toContain("is before");
    expect(await page.getByLabel("Value of condition 1").getAttribute("type")).toBe("datetime-local");
    await field.selectOption("event.title");
    await op.selectOption("exists");
    expect(await page.getByLabel("Value of condition 1").count()).toBe(0);
    await op.selectOption("contains");
    await expect.poll(() => matchLine(page)).toBe("Finish condition 1 needs a value.");

    // A key of the trigger type's custom data, and one nested group.
    await field.selectOption({ label: "event.custom_data.… (a key of your own)" });
    await page.getByLabel("Key in event.custom_data for condition 1").fill("room");
    expect((await op.locator("option").allTextContents()).length).toBe(12);
    await page.getByRole("button", { name: "Add group" }).click();
    await page.getByRole("button", { name: "Add condition to group 2" }).click();
    expect(await page.getByLabel("Field of condition 2.2").count()).toBe(1);
    await page.getByRole("button", { name: "Remove condition 2.2" }).click();
    expect(await page.getByLabel("Field of condition 2.2").count()).toBe(0);
    // Unfinished conditions are not sent: the form says which.
    await page.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => page.locator('[data-error-for="conditions"]').textContent()).toBe("Finish condition 1 needs a value.");
  });

  it("builds event.calendar_id in [310], sees the example match, saves it and sees it again after a reload", async () => {
    const { page } = await signedIn(h, browser, "Patel Clinic");
    await newTrigger(page, "Dr. Patel's appointments", "Appointment created");
    await page.getByRole("button", { name: "Add condition" }).click();
    await page.getByLabel("Field of condition 1").selectOption("event.calendar_id");
    await page.getByLabel("Operator of condition 1").selectOption({ label: "is one of" });
    await page.getByLabel("Value of condition 1").fill("310");
    // Evaluated in the browser by src/match/conditions.ts, bundled into dist/ui/shared.
    await expect.poll(() => matchLine(page)).toBe("The example payload matches: yes");
    await page.getByLabel("Value of condition 1").fill("7, 9");
    await expect.poll(() => matchLine(page)).toBe("The example payload matches: no");
    await page.getByLabel("Value of condition 1").fill("310");
    await shot(page, "condition-builder");

    const sent = nextBody(page, "POST", /^\/api\/v1\/triggers$/);
    await page.getByRole("button", { name: "Save" }).click();
    expect((await sent).conditions).toEqual({ all: [{ field: "event.calendar_id", op: "in", value: [310] }] });
    await page.getByRole("heading", { name: "Dr. Patel's appointments" }).waitFor();
    expect(await page.locator(".conditions-summary").textContent()).toBe("Only when: event.calendar_id is one of 310");
    await page.reload();
    await page.getByRole("link", { name: "Edit" }).click();
    await expect.poll(() => page.getByLabel("Field of condition 1").inputValue()).toBe("event.calendar_id");
    expect(await page.getByLabel("Operator of condition 1").inputValue()).toBe("in");
    expect(await page.getByLabel("Value of condition 1").inputValue()).toBe("310");
    await expect.poll(() => matchLine(page)).toBe("The example payload matches: yes");
  });

  it("sends the timing and quiet hours an SMS action is given, and inserts the type's fields into its message", async () => {
    const { page, client } = await signedIn(h, browser, "Reminder Clinic");
    const trigger = await client.createTrigger({ name: "Reminders", type: "event.created" });
    await page.goto(`${h.baseUrl}/ui/#/triggers/${trigger.id}/actions/new`);
    await page.getByLabel("Name").fill("Day-before text");
    await page.getByLabel("Action").selectOption("sms");
    await page.getByLabel("To", { exact: true }).fill("+15552013344");
    // Field insertion: at the cursor, with the preview following.
    await page.getByLabel("Message").fill("Reminder: ");
    await page.locator('[data-insert-for="body"] summary').click();
    await page.getByRole("button", { name: "Insert event.title" }).click();
    await expect.poll(() => page.getByLabel("Message").inputValue()).toBe("Reminder: {{ event.title }}");
    await expect.poll(() => page.locator("#p-body").textContent()).toBe("Reminder: Dental cleaning");

    await page.getByLabel("Relative to a date in the payload").check();
    await page.getByLabel("Amount").fill("24");
    await page.getByLabel("Unit").selectOption("h");
    await page.getByLabel("Before or after").selectOption("before");
    await page.getByLabel("Date field").selectOption("event.start_time");
    await page.getByLabel("Run late").check();
    await page.getByLabel("Hold during quiet hours").check();
    await page.getByLabel("From", { exact: true }).fill("21:00");
    await page.getByLabel("until", { exact: true }).fill("08:00");
    await page.getByLabel("Sun").uncheck();
    await page.getByLabel("Time zone").selectOption("fixed");
    await page.getByLabel("Zone", { exact: true }).fill("America/New_York");
    await shot(page, "timing-form");

    const sent = nextBody(page, "POST", /\/actions$/);
    await page.getByRole("button", { name: "Save" }).click();
    const body = await sent;
    expect(body.timing).toEqual({ at: "event.start_time", offset: "-24h", run_late: true });
    expect(body.quiet_hours).toEqual({
      start: "21:00",
      end: "08:00",
      days: ["mon", "tue", "wed", "thu", "fri", "sat"],
      time_zone: "America/New_York",
      time_zone_field: null,
    });

    // Saved, the edit form shows them again.
    await page.getByRole("heading", { name: "Reminders" }).waitFor();
    await page.getByRole("link", { name: "Edit" }).last().click();
    await expect.poll(() => page.getByLabel("Relative to a date in the payload").isChecked()).toBe(true);
    expect(await page.getByLabel("Amount").inputValue()).toBe("24");
    expect(await page.getByLabel("Before or after").inputValue()).toBe("before");
    expect(await page.getByLabel("Run late").isChecked()).toBe(true);
    expect(await page.getByLabel("Sun").isChecked()).toBe(false);
    expect(await page.getByLabel("Zone", { exact: true }).inputValue()).toBe("America/New_York");

    // The account's zone, which quiet hours fall back on, is set beside the notices.
    await page.getByRole("link", { name: "Webhooks" }).click();
    await page.getByLabel("Time zone for quiet hours").fill("America/Chicago");
    await page.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => page.locator("#notify output").textContent()).toBe("Saved.");
    await page.reload();
    await expect.poll(() => page.getByLabel("Time zone for quiet hours").inputValue()).toBe("America/Chicago");
  });

  it("shows the rendered SMS's length, encoding and segments", async () => {
    const { page, client } = await signedIn(h, browser, "Segments Clinic");
    const trigger = await client.createTrigger({ name: "Texts", type: "event.created" });
    await page.goto(`${h.baseUrl}/ui/#/triggers/${trigger.id}/actions/new`);
    await page.getByLabel("Action").selectOption("sms");
    await page.getByLabel("Message").fill("{{ event.title }} ✓");
    // Counted by src/templates/sms-segments.ts, as the server counts it.
    await expect.poll(() => page.locator("#s-body").textContent()).toBe("17 characters · UCS-2 · 1 segment");
    await page.getByLabel("Message").fill("x".repeat(1_450));
    await expect.poll(() => page.locator("#s-body").textContent()).toMatch(/^1,450 characters · GSM-7 · 10 segments: close to the 1,600-character limit$/);
  });

  it("shows a scheduled instance with its time and reason in the log", async () => {
    const { page, client } = await signedIn(h, browser, "Schedule Clinic");
    const trigger = await client.createTrigger({ name: "Follow-ups", type: "event.created" });
    // Timing as the form sends it.
    const timed = {
      name: "Before the visit",
      type: "webhook" as const,
      url: "http://127.0.0.1:9/never",
      timing: { at: "event.start_time", offset: "-24h", run_late: false },
    };
    const action = await client.createAction(trigger.id, timed);
    const start = new Date(Date.now() + 3 * 24 * 3600_000).toISOString();
    const { example } = triggerType("event.created");
    await client.ingest({ type: "event.created", data: { event: { ...(example.event as object), start_time: start, end_time: start } } });
    await page.goto(`${h.baseUrl}/ui/#/actions/${action.id}/log`);
    const state = page.locator("table#log tbody tr[data-instance] td").first();
    await expect.poll(() => state.locator(".state").textContent()).toBe("scheduled");
    expect(await state.locator(".due time").getAttribute("datetime")).toBe(new Date(Date.parse(start) - 24 * 3600_000).toISOString());
    expect(await state.locator(".reason").textContent()).toBe("24 h before event.start_time");
    await shot(page, "log-scheduled");
  });

  it("shows a suppressed text with its reason in the log, and filters it", async () => {
    const { page, client } = await signedIn(h, browser, "Stop List Clinic");
    const trigger = await client.createTrigger({ name: "Confirmations", type: "participant.confirmed" });
    const action = await client.createAction(trigger.id, { name: "Thanks", type: "sms", to: "{{ participant.phone }}", body: "Thanks!" });
    await client.ingest({ type: "stoplist.phone_added", data: { phone: "+15552013344" } });
    await client.ingest({ type: "participant.confirmed", data: triggerType("participant.confirmed").example });
    await page.goto(`${h.baseUrl}/ui/#/actions/${action.id}/log`);
    const state = page.locator("table#log tbody tr[data-instance] td").first();
    await expect.poll(() => state.locator(".state").textContent(), { timeout: 10_000 }).toBe("suppressed");
    expect(await state.locator(".reason").textContent()).toMatch(/^\+15552013344 is on the stop list \(since /);
    await page.getByLabel("Show").selectOption("suppressed");
    await expect.poll(() => page.locator("table#log tbody tr[data-instance]").count()).toBe(1);
  });

  it("keeps the builder and the timing form within a phone's width", async () => {
    const { page, client } = await signedIn(h, browser, "Phone Rules Clinic", { width: 390, height: 844 });
    await newTrigger(page, "Phone", "Appointment created");
    await page.getByRole("button", { name: "Add condition" }).click();
    await page.getByRole("button", { name: "Add group" }).click();
    expect(await page.evaluate<number>("document.documentElement.scrollWidth")).toBeLessThanOrEqual(390);
    const trigger = await client.createTrigger({ name: "Phone texts", type: "event.created" });
    await page.goto(`${h.baseUrl}/ui/#/triggers/${trigger.id}/actions/new`);
    await page.getByLabel("Action").selectOption("sms");
    await page.getByLabel("Relative to a date in the payload").check();
    await page.getByLabel("Hold during quiet hours").check();
    await page.locator('[data-insert-for="body"] summary').click();
    expect(await page.evaluate<number>("document.documentElement.scrollWidth")).toBeLessThanOrEqual(390);
    await shot(page, "phone-timing");
  });
});
