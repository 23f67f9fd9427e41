/**
 * Screen: add or edit an action — webhook URL, or SMS/email templates with a live preview and the
 * trigger type's fields to insert; when it runs (timing), and quiet hours for messages.
 */
import { ApiError, api } from "./api.js";
import { fieldList, recipientFields } from "./field-list.js";
import { clearErrorsOnInput, debounce, showErrors, value } from "./forms.js";
import { attrs, html } from "./html.js";
import { go, type View } from "./router.js";
import { type SmsCount, smsCounter } from "./shared.js";
import { timingForm } from "./timing.js";
import { triggerTypes } from "./triggers.js";
import type { ActionOut, TriggerOut } from "./types.js";

/** `errorFor`: the API's name for the field, when the form's differs (a webhook's body is `body`). */
function field(name: string, label: string, input: ReturnType<typeof html>, help?: string, errorFor = name) {
  return html`<div class="field" data-field="${name}">
    <label for="f-${name}">${label}</label>${input}
    ${help ? html`<p class="help" id="h-${name}">${help}</p>` : ""}
    <p class="field-error" id="e-${name}" data-error-for="${errorFor}" hidden></p></div>`;
}

function templateField(name: string, label: string, current: string, rows: number, kind: "message" | "json" = "message") {
  return field(
    name,
    label,
    html`<textarea id="f-${name}" name="${name}" rows="${rows}" aria-describedby="h-${name} e-${name}" data-template="${kind}">${current}</textarea>
      <div class="insert" data-insert-for="${name}"></div>
      <div class="preview"><span class="muted">Preview with the example payload:</span><pre id="p-${name}" aria-live="polite"></pre>
        <p class="sms-info" id="s-${name}" aria-live="polite" hidden></p></div>`,
    kind === "json"
      ? 'JSON with Liquid: {"text": "{{ participant.name }} confirmed"}. Values are JSON-escaped; {{ participant | json }} inserts a whole object.'
      : "Liquid: {{ participant.name }}, {{ event.day_and_time_phrase }}, {% if … %}",
    name === "webhook_body" ? "body" : name,
  );
}

/** Twilio's limit is 1,600 characters; the editor warns from here on. */
const SMS_WARN_AT = 1_400;

function showSms(out: HTMLElement, sms: SmsCount | undefined) {
  out.hidden = !sms;
  if (!sms) return;
  const counts = `${sms.length.toLocaleString("en")} characters · ${sms.encoding} · ${sms.segments} ${sms.segments === 1 ? "segment" : "segments"}`;
  out.textContent = sms.over_limit
    ? `${counts}: over the 1,600-character limit; the provider refuses it`
    : sms.length >= SMS_WARN_AT
      ? `${counts}: close to the 1,600-character limit`
      : counts;
  out.className = `sms-info ${sms.over_limit ? "bad" : sms.length >= SMS_WARN_AT ? "warn" : "muted"}`;
}

function recipientHelp(kind: "sms" | "email", fields: readonly { path: string }[]) {
  const fixed = kind === "sms" ? "A phone number (+15552013344)" : "One or more email addresses, comma-separated";
  const named = fields.map((f) => `{{ ${f.path} }}`).join(", ");
  return named ? `${fixed}, or a template naming one from the payload: ${named}` : `${fixed}, or a template naming one from the payload`;
}

/** "Name: value" lines to a headers object; undefined when the box is empty. */
function parseHeaders(text: string): Record<string, string> | undefined {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  if (lines.length === 0) return undefined;
  return Object.fromEntries(
    lines.map((l) => [l.slice(0, l.indexOf(":") < 0 ? l.length : l.indexOf(":")).trim(), l.includes(":") ? l.slice(l.indexOf(":") + 1).trim() : ""]),
  );
}

export const actionForm: View = async (root, [triggerIdOrActionId, mode]) => {
  const action = mode === "edit" ? await api<ActionOut>("GET", `/api/v1/actions/${triggerIdOrActionId}`) : undefined;
  const trigger = await api<TriggerOut>("GET", `/api/v1/triggers/${action?.trigger_id ?? triggerIdOrActionId}`);
  const types = await triggerTypes();
  const triggerType = types.find((t) => t.type === trigger.type);
  if (!triggerType) throw new Error(`the trigger's type ${trigger.type} is not in the catalogue`);
  const label = triggerType.label;
  const to = Array.isArray(action?.to) ? action.to.join(", ") : (action?.to ?? "");
  const presets = (await api<{ data: { id: string; name: string; body: string }[] }>("GET", `/api/v1/trigger-types/${trigger.type}/presets`)).data;
  const headerLines = Object.entries(action?.headers ?? {})
    .map(([k, v]) => `${k}: ${v}`)
    .join("\n");
  root.innerHTML = html`
    <nav class="crumbs"><a href="#/">Webhooks</a> › <a href="#/triggers/${trigger.id}">${trigger.name}</a></nav>
    <h1 tabindex="-1">${action ? `Edit ${action.name}` : "Add action"}</h1>
    <p class="muted">Runs when: ${label}</p>
    <form class="stack" novalidate>
      <p class="form-error" data-form-error role="alert" tabindex="-1" hidden></p>
      ${field("name", "Name", html`<input id="f-name" name="name" required maxlength="200" value="${action?.name ?? ""}" aria-describedby="e-name">`)}
      ${field(
        "type",
        "Action",
        html`<select id="f-type" name="type"${attrs({ disabled: action !== undefined })}>
          ${[
            ["webhook", "Send webhook notification (POST JSON to a URL)"],
            ["sms", "Send an SMS"],
            ["email", "Send an email"],
          ].map(([v, l]) => html`<option${attrs({ value: v, selected: action?.type === v })}>${l}</option>`)}</select>`,
      )}
      <fieldset data-for="webhook">${field("url", "Webhook URL", html`<input id="f-url" name="url" type="url" value="${action?.url ?? ""}" placeholder="https://example.com/hooks/hookline" aria-describedby="e-url">`)}
        ${field(
          "preset",
          "Destination",
          html`<select id="f-preset" name="preset" aria-describedby="h-preset"><option value="">Your own server (the documented payload)</option>${presets.map((p) => html`<option value="${p.id}">${p.name}</option>`)}</select>`,
          "Slack and Zapier get a ready body template below, which you can edit.",
        )}
        ${templateField("webhook_body", "Body template (optional)", action?.type === "webhook" ? (action.body ?? "") : "", 6, "json")}
        ${field(
          "headers",
          "Custom headers (optional)",
          html`<textarea id="f-headers" name="headers" rows="3" aria-describedby="h-headers e-headers" placeholder="Authorization: Bearer …">${headerLines}</textarea>`,
          "One per line, Name: value. Stored encrypted; saved values show as [redacted] and are kept unless you change them.",
        )}
      </fieldset>
      <fieldset data-for="sms email">${field("to", "To", html`<input id="f-to" name="to" value="${to}" aria-describedby="h-to e-to">`, "A phone number for SMS (+15552013344); one or more email addresses, comma-separated")}</fieldset>
      <fieldset data-for="email">${templateField("subject", "Subject", action?.subject ?? "", 1)}</fieldset>
      <fieldset data-for="sms email">${templateField("body", "Message", action?.body ?? "", 5)}</fieldset>
      <div id="timing"></div>
      <div class="buttons"><button class="primary" type="submit">Save</button><a class="button" href="#/triggers/${trigger.id}">Cancel</a></div>
    </form>`.text;
  const form = root.querySelector("form") as HTMLFormElement;
  clearErrorsOnInput(form);
  const type = () => action?.type ?? value(form, "type");
  const timing = timingForm(root.querySelector("#timing") as HTMLElement, triggerType, action?.timing, action?.quiet_hours);
  const toHelp = root.querySelector("#h-to") as HTMLElement;
  const showFields = () => {
    for (const fs of form.querySelectorAll<HTMLFieldSetElement>("fieldset[data-for]")) {
      const on = (fs.dataset.for ?? "").split(" ").includes(type());
      fs.hidden = !on;
      fs.disabled = !on;
    }
    const kind = type();
    timing.setMessages(kind === "sms" || kind === "email");
    if (kind === "sms" || kind === "email") toHelp.textContent = recipientHelp(kind, recipientFields(triggerType.fields, kind));
  };
  showFields();
  (form.elements.namedItem("type") as HTMLSelectElement | null)?.addEventListener("change", showFields);

  const preview = debounce(async (textarea: HTMLTextAreaElement) => {
    const out = root.querySelector(`#p-${textarea.name}`) as HTMLElement;
    if (!textarea.value) {
      out.textContent = "";
      return;
    }
    try {
      const { output } = await api<{ output: string }>("POST", "/api/v1/templates/preview", {
        template: textarea.value,
        trigger_type: trigger.type,
        kind: textarea.dataset.template,
      });
      out.textContent = output;
      out.classList.remove("bad");
      // The SMS sender sends the body trimmed: count what it would send.
      const countSms = type() === "sms" && textarea.name === "body" ? await smsCounter() : undefined;
      showSms(root.querySelector(`#s-${textarea.name}`) as HTMLElement, countSms?.(output.trim()));
    } catch (error) {
      out.textContent = (error as Error).message.replace(/^template: /, "");
      out.classList.add("bad");
    }
  }, 250);
  const bodyBox = form.querySelector("#f-webhook_body") as HTMLTextAreaElement;
  form.querySelector("#f-preset")?.addEventListener("change", (e) => {
    const chosen = presets.find((p) => p.id === (e.target as HTMLSelectElement).value);
    bodyBox.value = chosen?.body ?? "";
    preview(bodyBox);
  });
  for (const t of form.querySelectorAll<HTMLTextAreaElement>("textarea[data-template]")) {
    fieldList(form.querySelector(`[data-insert-for="${t.name}"]`) as HTMLElement, t, triggerType.fields);
    t.addEventListener("input", () => preview(t));
    if (t.value) preview(t);
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const kind = type();
    const when = timing.read();
    if ("problem" in when) {
      showErrors(form, new ApiError(400, "bad_request", when.problem, [{ path: when.field, message: when.problem }]));
      return;
    }
    const recipients = value(form, "to")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    const headers = parseHeaders(value(form, "headers"));
    const settings =
      kind === "webhook"
        ? {
            url: value(form, "url"),
            body: value(form, "webhook_body") || (action ? null : undefined),
            ...(headers ? { headers } : action?.headers ? { headers: {} } : {}),
          }
        : kind === "sms"
          ? { to: value(form, "to"), body: value(form, "body") }
          : { to: recipients.length === 1 ? recipients[0] : recipients, subject: value(form, "subject"), body: value(form, "body") };
    // Quiet hours are a message's setting: a webhook's body has no such key.
    const schedule = { timing: when.value.timing, ...(kind !== "webhook" && { quiet_hours: when.value.quiet_hours }) };
    try {
      if (action) await api("PATCH", `/api/v1/actions/${action.id}`, { name: value(form, "name"), ...settings, ...schedule });
      else await api<ActionOut>("POST", `/api/v1/triggers/${trigger.id}/actions`, { name: value(form, "name"), type: kind, ...settings, ...schedule });
      go(`#/triggers/${trigger.id}`);
    } catch (error) {
      showErrors(form, error);
    }
  });
};
