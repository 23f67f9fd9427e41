/** Forms: read values, and show the API's errors next to the fields they name. */
import { ApiError } from "./api.js";

export function clearErrors(form: HTMLFormElement): void {
  for (const el of form.querySelectorAll<HTMLElement>("[data-error-for], [data-form-error]")) {
    el.textContent = "";
    el.hidden = true;
  }
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
}

/** Puts each issue under its field (`url`, `to`, `body`…); anything else goes to the form's alert. */
export function showErrors(form: HTMLFormElement, error: unknown): void {
  clearErrors(form);
  const issues =
    error instanceof ApiError && error.issues.length > 0 ? error.issues : [{ path: "", message: error instanceof Error ? error.message : String(error) }];
  const general: string[] = [];
  for (const issue of issues) {
    const field = issue.path.split(/[.[]/)[0] ?? "";
    // The slot of a field on show (sms and webhook forms both have a `body`, one of them hidden).
    const slot = field
      ? [...form.querySelectorAll<HTMLElement>(`[data-error-for="${CSS.escape(field)}"]`)].find((el) => !el.closest("fieldset[hidden]"))
      : undefined;
    if (slot) {
      slot.textContent = issue.message;
      slot.hidden = false;
      slot.closest(".field")?.querySelector("input, textarea, select")?.setAttribute("aria-invalid", "true");
    } else general.push(issue.path ? `${issue.path}: ${issue.message}` : issue.message);
  }
  const alert = form.querySelector<HTMLElement>("[data-form-error]");
  if (alert && general.length > 0) {
    alert.textContent = general.join("\n");
    alert.hidden = false;
  }
  form.querySelector<HTMLElement>("[aria-invalid], [data-form-error]:not([hidden])")?.focus();
}

export function value(form: HTMLFormElement, name: string): string {
  return (form.elements.namedItem(name) as HTMLInputElement | null)?.value ?? "";
}

export function checked(form: HTMLFormElement, name: string): boolean {
  return (form.elements.namedItem(name) as HTMLInputElement | null)?.checked ?? false;
}

/** Runs `fn` on `ms` of quiet after the last call (live previews). */
export function debounce<A extends unknown[]>(fn: (...args: A) => void, ms: number): (...args: A) => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** A field's error goes away as soon as the user edits that field. */
export function clearErrorsOnInput(form: HTMLFormElement): void {
  form.addEventListener("input", (e) => {
    // The error slot of this very field (two fields may report under the same API name).
    const target = e.target as HTMLElement;
    const slot = (target.closest(".field") ?? target.parentElement)?.querySelector<HTMLElement>("[data-error-for]");
    if (slot) {
      slot.hidden = true;
      slot.textContent = "";
    }
    (e.target as HTMLElement).removeAttribute("aria-invalid");
  });
}
