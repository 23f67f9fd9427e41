/** The UI's client of the public REST API: same origin, session cookie, CSRF token echoed on writes. */
export interface FieldIssue {
  path: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues: FieldIssue[],
  ) {
    super(message);
  }
}

function csrfToken(): string {
  return /(?:^|;\s*)hookline_csrf=([^;]*)/.exec(document.cookie)?.[1] ?? "";
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { "x-hookline-csrf": decodeURIComponent(csrfToken()) };
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(path, { method, headers, credentials: "same-origin", ...(body !== undefined && { body: JSON.stringify(body) }) });
  const text = await response.text();
  const parsed: unknown = text ? JSON.parse(text) : undefined;
  if (!response.ok) {
    const error = (parsed as { error?: { code?: string; message?: string; details?: { issues?: FieldIssue[] } } } | undefined)?.error;
    throw new ApiError(response.status, error?.code ?? "error", error?.message ?? response.statusText, error?.details?.issues ?? []);
  }
  return parsed as T;
}
