/** The Hookline web UI: Settings › Integrations › Webhooks. A client of the public REST API. */

import { actionForm } from "./actions.js";
import { ApiError, api } from "./api.js";
import { html } from "./html.js";
import { instanceView, logView } from "./log.js";
import { render, route, setErrorRenderer } from "./router.js";
import { triggerDetail, triggerForm, triggerList } from "./triggers.js";
import type { Session } from "./types.js";

route(/^#\/?$/, triggerList);
route(/^#\/triggers\/new$/, (root) => triggerForm(root, []));
route(/^#\/triggers\/([^/]+)\/edit$/, triggerForm);
route(/^#\/triggers\/([^/]+)\/actions\/new$/, (root, [id = ""]) => actionForm(root, [id, "new"]));
route(/^#\/triggers\/([^/]+)$/, triggerDetail);
route(/^#\/actions\/([^/]+)\/edit$/, (root, [id = ""]) => actionForm(root, [id, "edit"]));
route(/^#\/actions\/([^/]+)\/log$/, logView);
route(/^#\/instances\/([^/]+)$/, instanceView);

setErrorRenderer((root, error) => {
  if (error instanceof ApiError && error.status === 401) {
    root.innerHTML = html`<h1 tabindex="-1">Sign in</h1>
      <p>Open a sign-in link to use the web UI. On the server, run:</p>
      <pre>npx hookline login-link &lt;account_id&gt;</pre>
      <p class="muted">Links work once, for 15 minutes. Platforms that embed Hookline sign their users in with an embed token.</p>`.text;
  } else {
    root.innerHTML =
      html`<h1 tabindex="-1">Something went wrong</h1><p class="field-error">${error instanceof Error ? error.message : String(error)}</p><p><a href="#/">Back to webhooks</a></p>`.text;
  }
  root.querySelector("h1")?.focus();
});

async function start() {
  const account = document.querySelector("#account") as HTMLElement;
  try {
    const session = await api<Session>("GET", "/api/v1/session");
    account.innerHTML = html`<span>${session.account_name}</span> <button type="button" id="sign-out">Sign out</button>`.text;
    document.querySelector("#sign-out")?.addEventListener("click", async () => {
      await api("POST", "/ui/logout");
      location.hash = "#/";
      location.reload();
    });
  } catch {
    account.textContent = "";
  }
  window.addEventListener("hashchange", () => void render());
  await render();
}

void start();
