/** Screens: the trigger list, the trigger form, and a trigger with its actions. */
import { ApiError, api } from "./api.js";
import { attemptsChart, successRate } from "./chart.js";
import { conditionName, describeConditions } from "./condition-model.js";
import { conditionBuilder } from "./conditions.js";
import { checked, clearErrorsOnInput, showErrors, value } from "./forms.js";
import { type AttributeValue, attrs, html, when } from "./html.js";
import { go, type View } from "./router.js";
import type { ActionOut, List, Session, StatsOut, TriggerOut, TriggerType } from "./types.js";

let catalogue: Promise<TriggerType[]> | undefined;
export const triggerTypes = () => {
  catalogue ??= api<List<TriggerType>>("GET", "/api/v1/trigger-types").then((r) => r.data);
  return catalogue;
};

/** A switch; `attributes` (`{ "data-do": "toggle-trigger" }`) say what it switches. */
function toggle(name: string, label: string, on: boolean, attributes: Readonly<Record<string, AttributeValue>> = {}) {
  return html`<label class="switch"><input type="checkbox"${attrs({ name, checked: on, ...attributes })}><span>${label}</span></label>`;
}

export const triggerList: View = async (root) => {
  const { data } = await api<List<TriggerOut>>("GET", "/api/v1/triggers");
  root.innerHTML = html`
    <div class="title-row"><h1 tabindex="-1">Webhooks</h1><a class="button primary" href="#/triggers/new">New trigger</a></div>
    <p class="muted">A trigger watches for something happening; its actions run when it does.</p>
    ${
      data.length === 0
        ? html`<p class="empty">No triggers yet. <a href="#/triggers/new">Create the first one</a>.</p>`
        : html`<div class="table-wrap"><table>
        <thead><tr><th scope="col">Name</th><th scope="col">Trigger</th><th scope="col">Actions</th><th scope="col">Enabled</th></tr></thead>
        <tbody>${data.map(
          (t) => html`<tr>
            <td><a href="#/triggers/${t.id}">${t.name}</a></td>
            <td>${t.type_label}</td>
            <td>${t.action_count}</td>
            <td>${toggle("enabled", `${t.name} enabled`, t.enabled, { "data-trigger": t.id })}</td>
          </tr>`,
        )}</tbody></table></div>`
    }`.text;
  const session = await api<Session>("GET", "/api/v1/session");
  root.insertAdjacentHTML(
    "beforeend",
    html`<form class="stack notify" id="notify" novalidate>
      <h2>Notices</h2>
      <label for="f-notification_email">Email me when an action keeps failing</label>
      <input id="f-notification_email" name="notification_email" type="email" value="${session.notification_email ?? ""}" placeholder="owner@example.com" aria-describedby="e-notification_email">
      <p class="field-error" id="e-notification_email" data-error-for="notification_email" hidden></p>
      <label for="f-time_zone">Time zone for quiet hours</label>
      <input id="f-time_zone" name="time_zone" value="${session.time_zone}" placeholder="America/New_York" aria-describedby="h-time_zone e-time_zone">
      <p class="help" id="h-time_zone">An IANA zone; actions' quiet hours use it unless they name another.</p>
      <p class="field-error" id="e-time_zone" data-error-for="time_zone" hidden></p>
      <p class="form-error" data-form-error role="alert" tabindex="-1" hidden></p>
      <div class="buttons"><button type="submit">Save</button><output aria-live="polite"></output></div>
    </form>`.text,
  );
  const notify = root.querySelector("#notify") as HTMLFormElement;
  clearErrorsOnInput(notify);
  notify.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      await api("PATCH", "/api/v1/account", {
        notification_email: value(notify, "notification_email") || null,
        time_zone: value(notify, "time_zone"),
      });
      (notify.querySelector("output") as HTMLElement).textContent = "Saved.";
    } catch (error) {
      showErrors(notify, error);
    }
  });
  root.addEventListener("change", async (e) => {
    const input = e.target as HTMLInputElement;
    if (!input.dataset.trigger) return;
    input.disabled = true;
    try {
      await api("PATCH", `/api/v1/triggers/${input.dataset.trigger}`, { enabled: input.checked });
    } catch (error) {
      input.checked = !input.checked;
      alert((error as Error).message);
    } finally {
      input.disabled = false;
    }
  });
};

/** The catalogue's descriptions are the spec's phrases, without a full stop; another sentence may follow. */
const sentence = (text: string) => (/[.!?]$/.test(text) ? text : `${text}.`);

/** A refused condition's message, prefixed with the row it names. */
const namedConditions = (error: ApiError) =>
  new ApiError(
    error.status,
    error.code,
    error.message,
    error.issues.map((i) => (i.path.startsWith("conditions.") ? { path: i.path, message: `${conditionName(i.path)}: ${i.message}` } : i)),
  );

export const triggerForm: View = async (root, [id]) => {
  const [types, trigger] = await Promise.all([triggerTypes(), id ? api<TriggerOut>("GET", `/api/v1/triggers/${id}`) : undefined]);
  const current = trigger?.type ?? types[0]?.type;
  root.innerHTML = html`
    <nav class="crumbs"><a href="#/">Webhooks</a>${trigger ? html` › <a href="#/triggers/${trigger.id}">${trigger.name}</a>` : ""}</nav>
    <h1 tabindex="-1">${trigger ? "Edit trigger" : "New trigger"}</h1>
    <form class="stack" novalidate>
      <p class="form-error" data-form-error role="alert" tabindex="-1" hidden></p>
      <label for="f-name">Name</label>
      <input id="f-name" name="name" required maxlength="200" value="${trigger?.name ?? ""}" aria-describedby="e-name">
      <p class="field-error" id="e-name" data-error-for="name" hidden></p>
      <label for="f-type">When</label>
      <select id="f-type" name="type" aria-describedby="e-type type-help">${types.map((t) => html`<option${attrs({ value: t.type, selected: t.type === current })}>${t.label}</option>`)}</select>
      <p class="field-error" id="e-type" data-error-for="type" hidden></p>
      <div id="type-help" class="help"></div>
      <div id="conditions"></div>
      <label for="f-description">Description <span class="muted">(optional)</span></label>
      <textarea id="f-description" name="description" rows="2" maxlength="2000">${trigger?.description ?? ""}</textarea>
      ${toggle("enabled", "Enabled", trigger?.enabled ?? true)}
      <div class="buttons"><button class="primary" type="submit">Save</button><a class="button" href="${trigger ? `#/triggers/${trigger.id}` : "#/"}">Cancel</a></div>
    </form>`.text;
  const form = root.querySelector("form") as HTMLFormElement;
  clearErrorsOnInput(form);
  const help = root.querySelector("#type-help") as HTMLElement;
  const describe = () => {
    const t = types.find((x) => x.type === value(form, "type"));
    help.innerHTML = t
      ? html`<p>${sentence(t.description)}${t.also_fires ? html` Also fires <em>${types.find((x) => x.type === t.also_fires)?.label}</em>.` : ""}</p>
        <details><summary>Example payload</summary><pre>${JSON.stringify({ ...(t.example as object), apptoto_id: "ins_…" }, null, 2)}</pre></details>`.text
      : "";
  };
  describe();
  const typeNamed = (name: string) => types.find((t) => t.type === name) ?? (types[0] as TriggerType);
  const conditions = conditionBuilder(root.querySelector("#conditions") as HTMLElement, typeNamed(value(form, "type")), trigger?.conditions);
  (form.elements.namedItem("type") as HTMLSelectElement | null)?.addEventListener("change", () => {
    describe();
    conditions.reset(typeNamed(value(form, "type")));
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const rules = conditions.read();
    if ("problem" in rules) {
      showErrors(form, new ApiError(400, "bad_request", rules.problem, [{ path: "conditions", message: `Finish ${rules.problem}.` }]));
      return;
    }
    const body = {
      name: value(form, "name"),
      type: value(form, "type"),
      description: value(form, "description") || null,
      enabled: checked(form, "enabled"),
      conditions: rules.conditions,
    };
    try {
      const saved = await api<TriggerOut>(trigger ? "PATCH" : "POST", trigger ? `/api/v1/triggers/${trigger.id}` : "/api/v1/triggers", body);
      go(`#/triggers/${saved.id}`);
    } catch (error) {
      showErrors(form, error instanceof ApiError ? namedConditions(error) : error);
    }
  });
};

function actionTarget(a: ActionOut) {
  if (a.type === "webhook") return html`<code>${a.url}</code>`;
  return html`to <code>${Array.isArray(a.to) ? a.to.join(", ") : a.to}</code>`;
}

export const triggerDetail: View = async (root, [id]) => {
  const [trigger, { data: actions }] = await Promise.all([
    api<TriggerOut>("GET", `/api/v1/triggers/${id}`),
    api<List<ActionOut>>("GET", `/api/v1/triggers/${id}/actions`),
  ]);
  const stats = await Promise.all(actions.map((a) => api<StatsOut>("GET", `/api/v1/actions/${a.id}/stats`)));
  root.innerHTML = html`
    <nav class="crumbs"><a href="#/">Webhooks</a></nav>
    <div class="title-row"><h1 tabindex="-1">${trigger.name}</h1>
      <div class="buttons"><a class="button" href="#/triggers/${trigger.id}/edit">Edit</a><button class="danger" data-do="delete-trigger">Delete</button></div></div>
    <p><strong>When:</strong> ${trigger.type_label}${trigger.description ? html` — ${trigger.description}` : ""}</p>
    ${trigger.conditions ? html`<p class="conditions-summary"><strong>Only when:</strong> ${describeConditions(trigger.conditions)}</p>` : ""}
    <form class="inline">${toggle("enabled", "Trigger enabled", trigger.enabled, { "data-do": "toggle-trigger" })}</form>
    <div class="title-row"><h2>Actions</h2><a class="button primary" href="#/triggers/${trigger.id}/actions/new">Add action</a></div>
    ${actions.length === 0 ? html`<p class="empty">No actions yet: add a webhook, an SMS or an email.</p>` : ""}
    <ul class="cards">${actions.map(
      (a, i) => html`<li class="card" data-action="${a.id}">
        <div class="title-row"><h3>${a.name} <span class="badge">${a.type}</span></h3>
          <form class="inline">${toggle("enabled", `${a.name} enabled`, a.enabled, { "data-do": "toggle-action" })}</form></div>
        <p>${actionTarget(a)}</p>
        ${when(!a.provider_configured, () => html`<p class="warning" role="note">${a.provider_error}</p>`)}
        ${when(a.failing, () => html`<p class="warning failing" role="note">Failing: every delivery since ${new Date(a.failing_since as string).toLocaleString()} has failed. It stays enabled; fix the endpoint, then resend the failed deliveries from its log.</p>`)}
        ${stats[i] ? successRate(stats[i]) : ""}${stats[i] ? attemptsChart(stats[i]) : ""}
        <div class="buttons">
          <a class="button" href="#/actions/${a.id}/log">Log</a>
          <button data-do="test">Send test event</button>
          <a class="button" href="#/actions/${a.id}/edit">Edit</a>
          ${when(a.type === "webhook", () => html`<button data-do="reveal">Reveal secret</button><button data-do="rotate">Rotate secret</button>`)}
          <button class="danger" data-do="delete-action">Delete</button>
        </div>
        <output class="result" aria-live="polite"></output>
      </li>`,
    )}</ul>`.text;

  root.addEventListener("change", async (e) => {
    const input = e.target as HTMLInputElement;
    const card = input.closest<HTMLElement>("[data-action]");
    const path = input.dataset.do === "toggle-trigger" ? `/api/v1/triggers/${trigger.id}` : card ? `/api/v1/actions/${card.dataset.action}` : undefined;
    if (!path) return;
    try {
      await api("PATCH", path, { enabled: input.checked });
    } catch (error) {
      input.checked = !input.checked;
      alert((error as Error).message);
    }
  });

  root.addEventListener("click", async (e) => {
    const button = (e.target as HTMLElement).closest<HTMLButtonElement>("button[data-do]");
    if (!button) return;
    const card = button.closest<HTMLElement>("[data-action]");
    const actionId = card?.dataset.action;
    const out = card?.querySelector("output");
    const show = (content: ReturnType<typeof html>) => {
      if (out) out.innerHTML = content.text;
    };
    button.disabled = true;
    try {
      switch (button.dataset.do) {
        case "delete-trigger":
          if (confirm(`Delete the trigger "${trigger.name}", its actions and their logs?`)) {
            await api("DELETE", `/api/v1/triggers/${trigger.id}`);
            go("#/");
          }
          break;
        case "delete-action":
          if (confirm(`Delete the action "${actions.find((a) => a.id === actionId)?.name}" and its log?`)) {
            await api("DELETE", `/api/v1/actions/${actionId}`);
            go(`#/triggers/${trigger.id}`, true);
          }
          break;
        case "reveal":
          show(html`Signing secret: <code class="secret">${(await api<{ secret: string }>("GET", `/api/v1/actions/${actionId}/secret`)).secret}</code>`);
          break;
        case "rotate":
          if (confirm("Rotate the signing secret? The current one stays valid for 24 hours.")) {
            show(
              html`New signing secret: <code class="secret">${(await api<{ secret: string }>("POST", `/api/v1/actions/${actionId}/secret/rotate`)).secret}</code> (the previous one works for 24 hours)`,
            );
          }
          break;
        case "test": {
          show(html`Sending the example payload…`);
          const instance = await api<{ id: string; state: string; last_status: number | null; last_error: string | null }>(
            "POST",
            `/api/v1/actions/${actionId}/test`,
            {},
          );
          show(
            html`Test sent: <strong>${instance.state}</strong>${instance.last_status ? ` (HTTP ${instance.last_status})` : ""}${instance.last_error ? html` — ${instance.last_error}` : ""}. <a href="#/instances/${instance.id}">Details</a>`,
          );
          break;
        }
      }
    } catch (error) {
      show(html`<span class="field-error">${(error as Error).message}</span>`);
    } finally {
      button.disabled = false;
    }
  });
};
