/**
 * The test tab: write a JSON request, pick who answers (by traffic, or one deployment), and send it
 * through the endpoint's router with the endpoint's own credential (the server does it on the user's
 * behalf). The answer shows its status, latency, the deployment that answered, the request id and the
 * body, indented when it is JSON. A request the router could not take (no serving host: 503) is an error
 * banner with the server's message.
 */
import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';

import { ApiError, api, unwrap } from '../../api/client';
import { ErrorBanner } from '../../components/ErrorBanner';
import { SAMPLE_REQUEST, answerMessage, formatLatency, jsonError, prettyBody, trafficSummary } from '../../lib/endpoints';
import { DataCard } from '../dataset/DataParts';
import { HttpStatusBadge } from './EndpointParts';
import type { EndpointInfo, EndpointInvokeResult } from './EndpointQueries';

const BY_TRAFFIC = '';

function Answer({ result }: { result: EndpointInvokeResult }) {
  const body = prettyBody(result.body);
  const ok = result.status_code >= 200 && result.status_code < 300;
  const message = ok ? null : answerMessage(result.body);
  return (
    <div className="endpoint-answer" data-testid="invoke-result" data-status={result.status_code}>
      <dl className="facts data-facts">
        <dt>Status</dt>
        <dd>
          <HttpStatusBadge status={result.status_code} />
        </dd>
        <dt>Latency</dt>
        <dd data-testid="invoke-latency">{formatLatency(result.latency_ms)}</dd>
        <dt>Answered by</dt>
        <dd data-testid="invoke-deployment">{result.deployment ?? <span className="muted">no deployment</span>}</dd>
        <dt>Request id</dt>
        <dd className="mono" data-testid="invoke-request-id">
          {result.request_id ?? <span className="muted">—</span>}
        </dd>
      </dl>
      {message && (
        <p className="endpoint-answer-message" role="alert" data-testid="invoke-message">
          {message}
        </p>
      )}
      <h3 className="endpoint-subheading">Body{body.json ? ' (JSON)' : ''}</h3>
      <pre className="endpoint-pre" data-testid="invoke-body">
        {body.text === '' ? <span className="muted">(empty)</span> : body.text}
      </pre>
    </div>
  );
}

export function EndpointTest({ endpoint }: { endpoint: EndpointInfo }) {
  const [text, setText] = useState(SAMPLE_REQUEST);
  const [deployment, setDeployment] = useState(BY_TRAFFIC);
  const [debug, setDebug] = useState(false);
  const invalid = jsonError(text);
  const deployments = endpoint.deployments ?? [];
  const send = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/api/v1/endpoints/{name}/invoke', {
          params: { path: { name: endpoint.name } },
          body: { body: text, deployment: deployment === BY_TRAFFIC ? null : deployment, debug },
        }),
      ),
  });

  return (
    <div className="data-columns endpoint-test">
      <DataCard title="Request" testId="invoke-request">
        <form
          className="endpoint-test-form"
          onSubmit={(event) => {
            event.preventDefault();
            if (invalid === null) send.mutate();
          }}
        >
          <label className="endpoint-label" htmlFor="invoke-body">
            JSON body
          </label>
          <textarea
            id="invoke-body"
            className={`endpoint-editor${invalid ? ' invalid' : ''}`}
            value={text}
            onChange={(event) => setText(event.target.value)}
            spellCheck={false}
            rows={12}
            aria-invalid={invalid ? true : undefined}
            aria-describedby={invalid ? 'invoke-body-error' : undefined}
            data-testid="invoke-editor"
          />
          {invalid && (
            <p id="invoke-body-error" className="endpoint-form-error" data-testid="invoke-json-error">
              {invalid}
            </p>
          )}
          <div className="endpoint-test-options">
            <label className="endpoint-inline-label">
              <span className="muted">Send to</span>
              <select
                className="search data-select"
                value={deployment}
                onChange={(event) => setDeployment(event.target.value)}
                data-testid="invoke-deployment-select"
              >
                <option value={BY_TRAFFIC}>By traffic ({trafficSummary(endpoint)})</option>
                {deployments.map((d) => (
                  <option key={d.name} value={d.name}>
                    {d.name} only
                  </option>
                ))}
              </select>
            </label>
            <label className="toggle" title="Ask for the exception's message when the scoring script fails">
              <input
                type="checkbox"
                checked={debug}
                onChange={(event) => setDebug(event.target.checked)}
                data-testid="invoke-debug"
              />
              Debug
            </label>
          </div>
          <div className="endpoint-actions">
            <button
              type="submit"
              className="button primary"
              disabled={invalid !== null || send.isPending}
              data-testid="invoke-send"
            >
              {send.isPending ? 'Sending…' : 'Send'}
            </button>
            <button
              type="button"
              className="button"
              disabled={invalid !== null}
              onClick={() => setText(JSON.stringify(JSON.parse(text), null, 2))}
            >
              Format
            </button>
            <button type="button" className="button" onClick={() => setText(SAMPLE_REQUEST)}>
              Sample
            </button>
          </div>
        </form>
      </DataCard>
      <DataCard title="Response" testId="invoke-response">
        {send.isPending ? (
          <p className="muted endpoint-note">Waiting for the answer…</p>
        ) : send.isError ? (
          <ErrorBanner
            error={send.error}
            title={
              send.error instanceof ApiError && send.error.status > 0
                ? `The endpoint could not take the request (HTTP ${send.error.status})`
                : 'The request failed'
            }
          />
        ) : send.data ? (
          <Answer result={send.data} />
        ) : (
          <p className="muted endpoint-note">
            Send a request to see the status, latency, the deployment that answered and the body. It goes through the
            endpoint's router with its own {endpoint.auth_mode === 'token' ? 'token' : 'key'}, like any caller's.
          </p>
        )}
      </DataCard>
    </div>
  );
}
