/** Screen: add or edit an action — webhook URL, or SMS/email templates with a live preview. */
import { api } from "./api.js";
import { clearErrorsOnInput, debounce, showErrors, value } from "./forms.js";
import { html } from "./html.js";
import { go, type View } from "./router.js";
import { triggerTypes } from "./triggers.js";
import type { ActionOut, TriggerOut } from "./types.js";

function field(name: string, label: string, input: ReturnType<typeof html>, help?: string) {
  return html`<div class="field" data-field="${name}">
    <label for="f-${name}">${label}</label>${input}
    ${help ? html`<p class="help" id="h-${name}">${help}</p>` : ""}
    <p class="field-error" id="e-${name}" data-error-for="${name}" hidden></p></div>`;
}

function templateField(name: string, label: string, current: string, rows: number) {
  return field(
    name,
    label,
    html`<textarea id="f-${name}" name="${name}" rows="${rows}" aria-describedby="h-${name} e-${name}" data-template>${current}</textarea>
      <div class="preview"><span class="muted">Preview with the example payload:</span><pre id="p-${name}" aria-live="polite"></pre></div>`,
    "Liquid: {{ participant.name }}, {{ event.day_and_time_phrase }}, {% if … %}",
  );
}

export const actionForm: View = async (root, [triggerIdOrActionId, mode]) => {
  const action = mode === "edit" ? await api<ActionOut>("GET", `/api/v1/actions/${triggerIdOrActionId}`) : undefined;
  const trigger = await api<TriggerOut>("GET", `/api/v1/triggers/${action?.trigger_id ?? triggerIdOrActionId}`);
  const types = await triggerTypes();
  const label = types.find((t) => t.type === trigger.type)?.label ?? trigger.type;
  const to = Array.isArray(action?.to) ? action.to.join(", ") : (action?.to ?? "");
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
        html`<select id="f-type" name="type" ${action ? "disabled" : ""}>
          ${[
            ["webhook", "Send webhook notification (POST JSON to a URL)"],
            ["sms", "Send an SMS"],
            ["email", "Send an email"],
          ].map(([v, l]) => html`<option value="${v}" ${action?.type === v ? "selected" : ""}>${l}</option>`)}</select>`,
      )}
      <fieldset data-for="webhook">${field("url", "Webhook URL", html`<input id="f-url" name="url" type="url" value="${action?.url ?? ""}" placeholder="https://example.com/hooks/hookline" aria-describedby="e-url">`)}</fieldset>
      <fieldset data-for="sms email">${field("to", "To", html`<input id="f-to" name="to" value="${to}" aria-describedby="h-to e-to">`, "A phone number for SMS (+15552013344); one or more email addresses, comma-separated")}</fieldset>
      <fieldset data-for="email">${templateField("subject", "Subject", action?.subject ?? "", 1)}</fieldset>
      <fieldset data-for="sms email">${templateField("body", "Message", action?.body ?? "", 5)}</fieldset>
      <div class="buttons"><button class="primary" type="submit">Save</button><a class="button" href="#/triggers/${trigger.id}">Cancel</a></div>
    </form>`.text;
  const form = root.querySelector("form") as HTMLFormElement;
  clearErrorsOnInput(form);
  const type = () => action?.type ?? value(form, "type");
  const showFields = () => {
    for (const fs of form.querySelectorAll<HTMLFieldSetElement>("fieldset[data-for]")) {
      const on = (fs.dataset.for ?? "").split(" ").includes(type());
      fs.hidden = !on;
      fs.disabled = !on;
    }
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
      const { output } = await api<{ output: string }>("POST", "/api/v1/templates/preview", { template: textarea.value, trigger_type: trigger.type });
      out.textContent = output;
      out.classList.remove("bad");
    } catch (error) {
      out.textContent = (error as Error).message.replace(/^template: /, "");
      out.classList.add("bad");
    }
  }, 250);
  for (const t of form.querySelectorAll<HTMLTextAreaElement>("textarea[data-template]")) {
    t.addEventListener("input", () => preview(t));
    if (t.value) preview(t);
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const kind = type();
    const recipients = value(form, "to")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    const settings =
      kind === "webhook"
        ? { url: value(form, "url") }
        : kind === "sms"
          ? { to: value(form, "to"), body: value(form, "body") }
          : { to: recipients.length === 1 ? recipients[0] : recipients, subject: value(form, "subject"), body: value(form, "body") };
    try {
      if (action) await api("PATCH", `/api/v1/actions/${action.id}`, { name: value(form, "name"), ...settings });
      else await api<ActionOut>("POST", `/api/v1/triggers/${trigger.id}/actions`, { name: value(form, "name"), type: kind, ...settings });
      go(`#/triggers/${trigger.id}`);
    } catch (error) {
      showErrors(form, error);
    }
  });
};
