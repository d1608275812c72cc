/**
 * The studio's only way to the server: an openapi-fetch client typed by `schema.d.ts`, which
 * `npm run gen:api` generates from `openapi.json` (the server's own OpenAPI document; never edit
 * either by hand — `make studio-api` regenerates both).
 *
 * Paths are written as the API documents them (`/api/v1/...`), relative to the page's origin.
 * `unwrap` turns an answer into its data or throws an `ApiError` carrying the server's message:
 *
 *   const runs = await unwrap(api.POST('/api/v1/runs/search', { body: { max_results: 10 }, signal }));
 */
import createClient from 'openapi-fetch';

import type { components, paths } from './schema';

export type Schemas = components['schemas'];
export type RunDetails = Schemas['RunDetails'];
export type RunInfo = Schemas['RunInfo'];
export type RunStatus = Schemas['RunStatus'];
export type ExperimentInfo = Schemas['ExperimentInfo'];
export type WorkspaceInfo = Schemas['WorkspaceInfo'];

export const API_PREFIX = '/api/v1';

/** Build a client; tests pass their own `fetch` and an absolute `baseUrl`. */
export function makeClient(options: { baseUrl?: string; fetch?: typeof globalThis.fetch } = {}) {
  return createClient<paths>({ baseUrl: options.baseUrl ?? '', ...(options.fetch ? { fetch: options.fetch } : {}) });
}

export const api = makeClient();

/** A failed API call, with the server's message (shown to the user as is). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: Record<string, unknown>;

  constructor(message: string, options: { status: number; code: string; details?: Record<string, unknown> }) {
    super(message);
    this.name = 'ApiError';
    this.status = options.status;
    this.code = options.code;
    this.details = options.details ?? {};
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The `ApiError` for a failed answer: the server's `{"error": {"code", "message", "details"}}` when
 * the body has that shape, else a message built from the HTTP status.
 */
export function toApiError(body: unknown, response: Pick<Response, 'status' | 'statusText'>): ApiError {
  const error = isRecord(body) ? body['error'] : undefined;
  if (isRecord(error) && typeof error['message'] === 'string' && error['message'] !== '') {
    return new ApiError(error['message'], {
      status: response.status,
      code: typeof error['code'] === 'string' ? error['code'] : 'http_error',
      details: isRecord(error['details']) ? error['details'] : {},
    });
  }
  const reason = response.statusText ? ` ${response.statusText}` : '';
  const hint = response.status === 502 || response.status === 504 ? ' (is the Ember server running?)' : '';
  return new ApiError(`the server answered HTTP ${response.status}${reason}${hint}`, {
    status: response.status,
    code: 'http_error',
  });
}

/** The shape of every openapi-fetch answer, loose enough for any operation. */
interface FetchResult<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/**
 * Await an openapi-fetch call and return its data; throw an `ApiError` when the server refused it
 * or could not be reached (an aborted request rethrows the AbortError, as react-query expects).
 */
export async function unwrap<T>(request: Promise<FetchResult<T>>): Promise<T> {
  let result: FetchResult<T>;
  try {
    result = await request;
  } catch (exc) {
    if (exc instanceof DOMException && exc.name === 'AbortError') throw exc;
    const reason = exc instanceof Error ? exc.message : String(exc);
    throw new ApiError(`cannot reach the Ember server: ${reason}`, { status: 0, code: 'network_error' });
  }
  const { data, error, response } = result;
  if (error !== undefined || !response.ok) throw toApiError(error, response);
  return data as T;
}
