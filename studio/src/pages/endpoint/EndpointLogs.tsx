/**
 * The logs tab: the last lines of a deployment's replica logs (each line prefixed with its replica),
 * refreshed on demand or every 2 s, the end kept in view unless the user scrolled up. The deployment and
 * the number of lines are in the address (`?deployment=blue&tail=200`).
 */
import { useLayoutEffect, useRef, useState } from 'react';
import { useSearchParams } from 'react-router-dom';

import { EmptyState } from '../../components/EmptyState';
import { ErrorBanner } from '../../components/ErrorBanner';
import { Spinner } from '../../components/Spinner';
import { DataCard } from '../dataset/DataParts';
import { useDeploymentLogs, type EndpointInfo } from './EndpointQueries';

const TAIL_SIZES = [50, 200, 1000, 5000];
const DEFAULT_TAIL = 200;
const POLL_MS = 2000;

/** The deployment shown first: the one with the most live traffic, else the first. */
function defaultDeployment(endpoint: EndpointInfo): string {
  const names = (endpoint.deployments ?? []).map((d) => d.name);
  const byTraffic = [...names].sort((a, b) => (endpoint.traffic?.[b] ?? 0) - (endpoint.traffic?.[a] ?? 0));
  return byTraffic[0] ?? '';
}

export function EndpointLogs({ endpoint }: { endpoint: EndpointInfo }) {
  const [params, setParams] = useSearchParams();
  const names = (endpoint.deployments ?? []).map((d) => d.name);
  const asked = params.get('deployment');
  const deployment = asked !== null && names.includes(asked) ? asked : defaultDeployment(endpoint);
  const tailParam = Number(params.get('tail'));
  const tail = TAIL_SIZES.includes(tailParam) ? tailParam : DEFAULT_TAIL;
  const [auto, setAuto] = useState(false);
  const logs = useDeploymentLogs(endpoint.name, deployment, tail, auto ? POLL_MS : false);
  const boxRef = useRef<HTMLPreElement>(null);
  const following = useRef(true);

  const lines = logs.data?.lines;
  useLayoutEffect(() => {
    const box = boxRef.current;
    if (box && following.current) box.scrollTop = box.scrollHeight;
  }, [lines]);

  const setParam = (name: string, value: string) =>
    setParams(
      (previous) => {
        const next = new URLSearchParams(previous);
        next.set(name, value);
        return next;
      },
      { replace: true },
    );

  if (names.length === 0) {
    return (
      <section className="card">
        <EmptyState title="No deployments">This endpoint has no deployment yet, so there are no logs to show.</EmptyState>
      </section>
    );
  }

  return (
    <DataCard
      title="Replica logs"
      testId="endpoint-logs"
      flush
      actions={
        <div className="toolbar endpoint-log-toolbar">
          <label className="endpoint-inline-label">
            <span className="muted">Deployment</span>
            <select
              className="search data-select"
              value={deployment}
              onChange={(event) => setParam('deployment', event.target.value)}
              data-testid="logs-deployment-select"
            >
              {names.map((name) => (
                <option key={name} value={name}>
                  {name}
                </option>
              ))}
            </select>
          </label>
          <label className="endpoint-inline-label">
            <span className="muted">Last</span>
            <select
              className="search data-select endpoint-tail-select"
              value={tail}
              onChange={(event) => setParam('tail', event.target.value)}
              data-testid="logs-tail-select"
            >
              {TAIL_SIZES.map((size) => (
                <option key={size} value={size}>
                  {size.toLocaleString()} lines
                </option>
              ))}
            </select>
          </label>
          <label className="toggle">
            <input
              type="checkbox"
              checked={auto}
              onChange={(event) => setAuto(event.target.checked)}
              data-testid="logs-auto"
            />
            Auto-refresh
          </label>
          <button
            type="button"
            className="button small"
            onClick={() => void logs.refetch()}
            disabled={logs.isFetching}
            data-testid="logs-refresh"
          >
            {logs.isFetching ? 'Refreshing…' : 'Refresh'}
          </button>
        </div>
      }
    >
      {logs.isError && <ErrorBanner error={logs.error} title="Could not read the logs" />}
      {logs.isPending ? (
        <Spinner label="Loading the logs…" />
      ) : (
        <pre
          ref={boxRef}
          className="endpoint-log-view"
          data-testid="logs-view"
          data-deployment={deployment}
          tabIndex={0}
          onScroll={() => {
            const box = boxRef.current;
            if (box) following.current = box.scrollTop + box.clientHeight >= box.scrollHeight - 24;
          }}
        >
          {lines && lines.length > 0 ? (
            lines.join('\n')
          ) : (
            <span className="muted">No log lines yet: the replicas of {deployment} have not written anything.</span>
          )}
        </pre>
      )}
    </DataCard>
  );
}
