import { describe, expect, it } from 'vitest';

import { ApiError, makeClient, toApiError, unwrap } from './client';

function fakeFetch(status: number, body: string, contentType = 'application/json'): typeof fetch {
  return async () => new Response(body, { status, headers: { 'Content-Type': contentType } });
}

const workspace = {
  id: 'w1',
  name: 'team',
  created_time: '2024-06-15T12:00:00Z',
  schema_version: '0003',
  metadata_backend: 'sqlite',
};

describe('unwrap', () => {
  it('returns the data of a successful answer', async () => {
    const api = makeClient({ baseUrl: 'http://ember.test', fetch: fakeFetch(200, JSON.stringify(workspace)) });
    const data = await unwrap(api.GET('/api/v1/workspace'));
    expect(data.name).toBe('team');
  });

  it("throws the server's error message as an ApiError", async () => {
    const body = { error: { code: 'not_found', message: "no run 'abc'", details: { run_id: 'abc' } } };
    const api = makeClient({ baseUrl: 'http://ember.test', fetch: fakeFetch(404, JSON.stringify(body)) });
    const failure = unwrap(api.GET('/api/v1/runs/{run_id}', { params: { path: { run_id: 'abc' } } }));
    await expect(failure).rejects.toBeInstanceOf(ApiError);
    await expect(failure).rejects.toMatchObject({
      message: "no run 'abc'",
      status: 404,
      code: 'not_found',
      details: { run_id: 'abc' },
    });
  });

  it('names the HTTP status when the body is not an Ember error', async () => {
    const api = makeClient({ baseUrl: 'http://ember.test', fetch: fakeFetch(502, 'Bad Gateway', 'text/plain') });
    await expect(unwrap(api.GET('/api/v1/workspace'))).rejects.toMatchObject({
      status: 502,
      code: 'http_error',
      message: expect.stringContaining('502') as unknown,
    });
  });

  it('says so when the server cannot be reached', async () => {
    const offline: typeof fetch = async () => {
      throw new TypeError('Failed to fetch');
    };
    const api = makeClient({ baseUrl: 'http://ember.test', fetch: offline });
    await expect(unwrap(api.GET('/api/v1/workspace'))).rejects.toMatchObject({
      code: 'network_error',
      message: 'cannot reach the Ember server: Failed to fetch',
    });
  });
});

describe('toApiError', () => {
  it('keeps the code and details of the error shape', () => {
    const error = toApiError(
      { error: { code: 'invalid_input', message: 'filter: unknown entity', details: {} } },
      { status: 400, statusText: 'Bad Request' },
    );
    expect(error.message).toBe('filter: unknown entity');
    expect(error.code).toBe('invalid_input');
  });

  it('ignores bodies of other shapes', () => {
    expect(toApiError({ detail: 'x' }, { status: 500, statusText: '' }).message).toBe('the server answered HTTP 500');
    expect(toApiError(null, { status: 503, statusText: 'Service Unavailable' }).message).toBe(
      'the server answered HTTP 503 Service Unavailable',
    );
  });
});
