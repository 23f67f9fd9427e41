/** Screens: an action's log (filter, sort, pages, auto-refresh) and one instance in detail. */
import { api } from "./api.js";
import { attemptsChart, successRate } from "./chart.js";
import { attrs, html, when } from "./html.js";
import { go, type View } from "./router.js";
import type { ActionOut, InstanceDetailOut, InstanceOut, InstanceState, StatsOut } from "./types.js";

const COLUMNS = [
  ["state", "State"],
  ["sent", "Sent"],
  ["delivered", "Delivered"],
  ["attempts", "Attempts"],
  ["trigger_type", "Trigger type"],
  ["created_at", "Time"],
  ["last_status", "Last status"],
] as const;
type Sort = (typeof COLUMNS)[number][0];

const yes = (on: boolean) => (on ? html`<span class="yes">yes</span>` : html`<span class="muted">no</span>`);
const stateBadge = (state: InstanceState | "retry") => html`<span class="state ${state}">${state}</span>`;
/** The states that will not change by themselves: a resend may start another series. */
const FINISHED: readonly InstanceState[] = ["succeeded", "failed", "canceled", "skipped", "suppressed"];
/** Why an instance waits, or why it ended without a delivery: its time when scheduled, and the reason the server gives. */
function stateNote(i: { state: InstanceState; reason?: string | null; scheduled_for?: string | null }) {
  const due =
    i.state === "scheduled" && i.scheduled_for ? html` <span class="due">for <time datetime="${i.scheduled_for}">${when_(i.scheduled_for)}</time></span>` : "";
  return html`${due}${when(i.reason, () => html`<span class="reason">${i.reason}</span>`)}`;
}
/** A test send ("Send test event"), not a real delivery: it does not count in the success rate. */
const testBadge = (test: boolean) => when(test, () => html` <span class="badge test" title="A test send: not counted in the success rate">test</span>`);
const when_ = (iso: string) => new Date(iso).toLocaleString();
/** A time as a datetime-local input wants it: local, to the minute. */
const localInput = (ms: number) => new Date(ms - new Date(ms).getTimezoneOffset() * 60_000).toISOString().slice(0, 16);

export const logView: View = async (root, [actionId]) => {
  const action = await api<ActionOut>("GET", `/api/v1/actions/${actionId}`);
  const state = { outcome: "", sort: "created_at" as Sort, order: "desc" as "asc" | "desc", cursors: [] as string[], cursor: "" };
  root.innerHTML = html`
    <nav class="crumbs"><a href="#/">Webhooks</a> › <a href="#/triggers/${action.trigger_id}">Trigger</a></nav>
    <h1 tabindex="-1">Log: ${action.name}</h1>
    <div id="stats"></div>
    <form class="toolbar" role="search">
      <label for="outcome">Show</label>
      <select id="outcome" name="outcome"><option value="">All</option><option value="succeeded">Succeeded</option><option value="failed">Failed</option><option value="pending">Pending or retrying</option><option value="suppressed">Suppressed</option></select>
      <label class="switch"><input type="checkbox" name="refresh" checked><span>Auto-refresh</span></label>
    </form>
    <div class="table-wrap"><table id="log"></table></div>
    <div class="buttons pager"><button data-page="first" disabled>First page</button><button data-page="next" disabled>Next page</button></div>
    <form class="toolbar recover" id="recover">
      <h2>Resend failed deliveries</h2>
      <label for="f-since">Failed since</label>
      <input id="f-since" name="since" type="datetime-local" value="${localInput(Date.now() - 24 * 3600_000)}">
      <button type="submit">Resend failed</button>
      <output aria-live="polite"></output>
    </form>`.text;
  const recover = root.querySelector("#recover") as HTMLFormElement;
  recover.addEventListener("submit", async (e) => {
    e.preventDefault();
    const out = recover.querySelector("output") as HTMLElement;
    const since = new Date((recover.elements.namedItem("since") as HTMLInputElement).value);
    try {
      const { recovered } = await api<{ recovered: number }>("POST", `/api/v1/actions/${actionId}/recover`, { since: since.toISOString() });
      out.textContent = `${recovered} failed ${recovered === 1 ? "delivery" : "deliveries"} sent again.`;
      void load();
    } catch (error) {
      out.textContent = (error as Error).message;
    }
  });

  const table = root.querySelector("#log") as HTMLTableElement;
  const pager = { first: root.querySelector('[data-page="first"]') as HTMLButtonElement, next: root.querySelector('[data-page="next"]') as HTMLButtonElement };
  let nextCursor: string | null = null;

  async function load() {
    const params = new URLSearchParams({ sort: state.sort, order: state.order, limit: "25" });
    if (state.outcome) params.set("outcome", state.outcome);
    if (state.cursor) params.set("cursor", state.cursor);
    const [page, stats] = await Promise.all([
      api<{ data: InstanceOut[]; next_cursor: string | null }>("GET", `/api/v1/actions/${actionId}/log?${params}`),
      api<StatsOut>("GET", `/api/v1/actions/${actionId}/stats`),
    ]);
    nextCursor = page.next_cursor;
    (root.querySelector("#stats") as HTMLElement).innerHTML = html`${successRate(stats)}${attemptsChart(stats)}`.text;
    table.innerHTML = html`
      <caption class="sr-only">Instances of ${action.name}, sorted by ${state.sort} ${state.order === "desc" ? "descending" : "ascending"}</caption>
      <thead><tr>${COLUMNS.map(
        ([key, label]) =>
          html`<th scope="col" aria-sort="${state.sort === key ? (state.order === "asc" ? "ascending" : "descending") : "none"}"><button type="button" class="sort" data-sort="${key}">${label}${state.sort === key ? (state.order === "asc" ? " ▲" : " ▼") : ""}</button></th>`,
      )}<th scope="col"><span class="sr-only">Details</span></th></tr></thead>
      <tbody>${
        page.data.length === 0
          ? html`<tr><td colspan="8" class="empty">No instances${state.outcome ? " with this outcome" : " yet"}.</td></tr>`
          : page.data.map(
              (i) => html`<tr data-instance="${i.id}">
                <td>${stateBadge(i.state)}${stateNote(i)}</td><td>${yes(i.sent)}</td><td>${yes(i.delivered)}</td><td>${i.attempts}</td>
                <td>${i.trigger_type}${testBadge(i.test)}</td><td><time datetime="${i.created_at}">${when_(i.created_at)}</time></td>
                <td>${i.last_status ?? html`<span class="muted" title="${i.last_error ?? ""}">—</span>`}</td>
                <td><a href="#/instances/${i.id}">Inspect</a></td></tr>`,
            )
      }</tbody>`.text;
    pager.first.disabled = state.cursors.length === 0;
    pager.next.disabled = nextCursor === null;
  }

  root.addEventListener("click", (e) => {
    const target = e.target as HTMLElement;
    const sort = target.closest<HTMLButtonElement>("button[data-sort]")?.dataset.sort as Sort | undefined;
    if (sort) {
      state.order = state.sort === sort && state.order === "desc" ? "asc" : "desc";
      state.sort = sort;
      state.cursor = "";
      state.cursors = [];
      void load().then(() => table.querySelector<HTMLButtonElement>(`button[data-sort="${sort}"]`)?.focus());
    }
    const pageButton = target.closest<HTMLButtonElement>("button[data-page]");
    if (pageButton?.dataset.page === "next" && nextCursor) {
      state.cursors.push(state.cursor);
      state.cursor = nextCursor;
      void load();
    } else if (pageButton?.dataset.page === "first") {
      state.cursor = "";
      state.cursors = [];
      void load();
    }
  });
  root.querySelector("#outcome")?.addEventListener("change", (e) => {
    state.outcome = (e.target as HTMLSelectElement).value;
    state.cursor = "";
    state.cursors = [];
    void load();
  });
  await load();
  // Auto-refresh the page in view while the box is ticked (and the tab is visible).
  const timer = setInterval(() => {
    const on = (root.querySelector('input[name="refresh"]') as HTMLInputElement | null)?.checked;
    if (on && document.visibilityState === "visible") void load().catch(() => {});
  }, 2000);
  return () => clearInterval(timer);
};

function pretty(value: unknown) {
  return html`<pre class="json">${JSON.stringify(value, null, 2)}</pre>`;
}

function body(text: string) {
  try {
    return pretty(JSON.parse(text));
  } catch {
    return html`<pre>${text}</pre>`;
  }
}

/** An HTTP request as the log keeps it: a webhook's body, or an SMS's form fields as sent to the provider. */
function httpRequest(request: Record<string, unknown>) {
  return html`<p><code>${String(request.method)} ${String(request.url ?? "")}</code></p>
    ${when(request.headers, () => pretty(request.headers))}
    ${when(typeof request.body === "string", () => body(request.body as string))}
    ${when(request.form, () => pretty(request.form))}`;
}

export const instanceView: View = async (root, [id]) => {
  const i = await api<InstanceDetailOut>("GET", `/api/v1/instances/${id}`);
  const finished = FINISHED.includes(i.state);
  root.innerHTML = html`
    <nav class="crumbs"><a href="#/">Webhooks</a> › <a href="#/actions/${i.action_id}/log">Log</a></nav>
    <div class="title-row"><h1 tabindex="-1">Instance <code>${i.id}</code></h1>
      <button class="primary" data-do="resend"${attrs({ disabled: !finished, title: finished ? undefined : "Still being delivered" })}>Resend</button></div>
    <output class="result" aria-live="polite"></output>
    <dl class="facts">
      <dt>State</dt><dd>${stateBadge(i.state)}${testBadge(i.test)}${stateNote(i)}</dd><dt>Sent</dt><dd>${yes(i.sent)}</dd><dt>Delivered</dt><dd>${yes(i.delivered)}</dd>
      <dt>Attempts</dt><dd>${i.attempts}</dd><dt>Trigger type</dt><dd>${i.trigger_type}</dd><dt>Created</dt><dd>${when_(i.created_at)}</dd>
      ${when(i.next_attempt_at, () => html`<dt>Next attempt</dt><dd>${when_(i.next_attempt_at as string)}</dd>`)}
      ${when(i.last_error, () => html`<dt>Last error</dt><dd>${i.last_error}</dd>`)}
    </dl>
    <h2>Payload</h2>${pretty(i.payload)}
    <h2>Attempts</h2>
    ${i.attempt_log.length === 0 ? html`<p class="empty">No attempt yet.</p>` : ""}
    <ol class="attempts">${i.attempt_log.map(
      (a) => html`<li class="card">
        <h3>Attempt ${a.number}${a.series > 1 ? ` (resend ${a.series - 1})` : ""}: ${stateBadge(a.outcome === "retry" ? "retrying" : a.outcome)} <span class="muted">${when_(a.started_at)}, ${a.duration_ms} ms</span></h3>
        <details><summary>Request</summary>${a.request.method ? httpRequest(a.request) : pretty(a.request)}</details>
        ${
          a.response
            ? html`<details open><summary>Response: ${a.response.status}</summary>${pretty(a.response.headers)}${body(a.response.body)}${a.response.truncated ? html`<p class="muted">(truncated)</p>` : ""}</details>`
            : ""
        }
        ${when(a.error, () => html`<p class="field-error">${a.error}</p>`)}
      </li>`,
    )}</ol>`.text;
  root.querySelector('[data-do="resend"]')?.addEventListener("click", async (e) => {
    const button = e.currentTarget as HTMLButtonElement;
    button.disabled = true;
    try {
      await api("POST", `/api/v1/instances/${i.id}/resend`);
      go(`#/instances/${i.id}`, true);
    } catch (error) {
      (root.querySelector("output") as HTMLElement).textContent = (error as Error).message;
      button.disabled = false;
    }
  });
  // Follow an instance that is still being delivered.
  if (!finished) {
    const timer = setTimeout(() => go(`#/instances/${i.id}`, true), 2000);
    return () => clearTimeout(timer);
  }
};
