/**
 * The endpoint page (`/endpoints/:name/*`): a header with the auth mode and a Delete action, and tabs
 * that are sub-routes, so every view is a deep link:
 *
 *   /endpoints/:name             Overview (URIs, serving host, deployments, the traffic editor, how to call it)
 *   /endpoints/:name/test        Test (send a request through the endpoint and read the answer)
 *   /endpoints/:name/telemetry   Telemetry (requests, errors and latency per deployment, live)
 *   /endpoints/:name/logs        Logs (a deployment's replica logs, refreshed on demand or every 2 s)
 *   /endpoints/:name/keys        Keys (revealed on demand, regenerated) or, for token auth, a token
 *
 * The endpoint is polled (every 2 s while a deployment is created or updated).
 */
import './dataset/Dataset.css';
import './endpoint/Endpoint.css';

import { Link, NavLink, Route, Routes, useParams } from 'react-router-dom';

import { ApiError } from '../api/client';
import { EmptyState } from '../components/EmptyState';
import { ErrorBanner } from '../components/ErrorBanner';
import { PageHeader } from '../components/PageHeader';
import { Spinner } from '../components/Spinner';
import { endpointUrl, type EndpointTab } from '../lib/endpoints';
import { useTitle } from '../lib/useTitle';
import { EndpointDeleteButton } from './endpoint/EndpointDelete';
import { EndpointKeysTab } from './endpoint/EndpointKeys';
import { EndpointLogs } from './endpoint/EndpointLogs';
import { EndpointOverview } from './endpoint/EndpointOverview';
import { AuthModeBadge } from './endpoint/EndpointParts';
import { useEndpoint } from './endpoint/EndpointQueries';
import { EndpointTelemetryTab } from './endpoint/EndpointTelemetry';
import { EndpointTest } from './endpoint/EndpointTest';

const TABS: readonly { to: EndpointTab; label: string; id: string }[] = [
  { to: '', label: 'Overview', id: 'overview' },
  { to: 'test', label: 'Test', id: 'test' },
  { to: 'telemetry', label: 'Telemetry', id: 'telemetry' },
  { to: 'logs', label: 'Logs', id: 'logs' },
  { to: 'keys', label: 'Keys', id: 'keys' },
];

export default function EndpointDetail() {
  const { name = '' } = useParams();
  const endpoint = useEndpoint(name);
  useTitle(name);
  const header = (
    <PageHeader
      title={name}
      breadcrumbs={<Link to="/endpoints">Endpoints</Link>}
      subtitle={endpoint.data?.description}
      actions={
        endpoint.data && (
          <>
            <AuthModeBadge mode={endpoint.data.auth_mode} />
            <EndpointDeleteButton endpoint={endpoint.data} />
          </>
        )
      }
    />
  );

  if (endpoint.isPending) return <Spinner label="Loading the endpoint…" />;
  if (endpoint.isError) {
    const missing = endpoint.error instanceof ApiError && endpoint.error.status === 404;
    return (
      <div className="page">
        {header}
        {missing ? (
          <section className="card">
            <EmptyState title="No such endpoint">
              No endpoint is named <code>{name}</code>. <Link to="/endpoints">See every endpoint</Link>.
            </EmptyState>
          </section>
        ) : (
          <ErrorBanner
            error={endpoint.error}
            title="Could not load the endpoint"
            onRetry={() => void endpoint.refetch()}
          />
        )}
      </div>
    );
  }

  const info = endpoint.data;
  return (
    <div className="page endpoint-page" data-testid="endpoint-page" data-name={info.name}>
      {header}
      <nav className="tabs" aria-label="Endpoint views">
        {TABS.map((tab) => (
          <NavLink
            key={tab.id}
            to={endpointUrl(info.name, tab.to)}
            end={tab.to === ''}
            className={({ isActive }) => `tab${isActive ? ' active' : ''}`}
            data-testid={`tab-${tab.id}`}
          >
            {tab.label}
          </NavLink>
        ))}
      </nav>
      <Routes>
        <Route index element={<EndpointOverview endpoint={info} />} />
        <Route path="test" element={<EndpointTest endpoint={info} />} />
        <Route path="telemetry" element={<EndpointTelemetryTab endpoint={info} />} />
        <Route path="logs" element={<EndpointLogs endpoint={info} />} />
        <Route path="keys" element={<EndpointKeysTab endpoint={info} />} />
        <Route
          path="*"
          element={
            <section className="card">
              <EmptyState title="This endpoint has no such view">
                <Link to={endpointUrl(info.name)}>Back to the endpoint's overview</Link>
              </EmptyState>
            </section>
          }
        />
      </Routes>
    </div>
  );
}
