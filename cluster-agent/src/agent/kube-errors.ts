/** HTTP status of a `@kubernetes/client-node` ApiException (or undefined for other errors). */
export function apiStatus(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

export const isNotFound = (error: unknown): boolean => apiStatus(error) === 404;
export const isConflict = (error: unknown): boolean => apiStatus(error) === 409;

/** Socket-level failures: the API server was never reached, so there is no status to show. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EPIPE']);

function statusMessage(body: unknown): string | undefined {
  let status = body;
  if (typeof body === 'string') {
    try {
      status = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  const message = (status as { message?: unknown } | null)?.message;
  return typeof message === 'string' && message !== '' ? message : undefined;
}

/**
 * What a failed Kubernetes call should say in a log line, or undefined when the error is not one:
 * the API server's own Status message (an ApiException's text is "HTTP-Code … Body … Headers …",
 * where RBAC's `… is forbidden: User "…" cannot update resource "…"` is buried), a watch's refusal
 * (client-node's Watch keeps only the HTTP status), or that the API server could not be reached.
 */
export function kubeErrorMessage(error: unknown): string | undefined {
  if (error === null || typeof error !== 'object') return undefined;
  const { code, body, statusCode, message } = error as { code?: unknown; body?: unknown; statusCode?: unknown; message?: unknown };
  if (typeof code === 'number' && 'headers' in error) return `${statusMessage(body) ?? 'no message'} (HTTP ${code})`;
  if (typeof statusCode === 'number') return `watch refused: HTTP ${statusCode} ${typeof message === 'string' ? message : ''}`.trimEnd();
  // node-fetch's FetchError: what client-node's requests and watches throw when no answer came.
  const name = (error as { name?: unknown }).name;
  if (name === 'FetchError' && typeof code === 'string' && UNREACHABLE.has(code)) return `cannot reach the API server: ${String(message)}`;
  return undefined;
}
