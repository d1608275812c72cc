/**
 * Endpoints (`/endpoints`): every online endpoint with its auth mode, scoring URI, deployments (status
 * and share of the traffic) and when it last changed; whether the serving host is up. Endpoints are
 * created from the SDK or the CLI, which the empty state shows.
 */
import './dataset/Dataset.css';
import './endpoint/Endpoint.css';

import { Link } from 'react-router-dom';

import { EmptyState } from '../components/EmptyState';
import { ErrorBanner } from '../components/ErrorBanner';
import { PageHeader } from '../components/PageHeader';
import { RelativeTime } from '../components/RelativeTime';
import { Spinner } from '../components/Spinner';
import { endpointUrl, epochToIso } from '../lib/endpoints';
import { plural } from '../lib/format';
import { useTitle } from '../lib/useTitle';
import { Snippet } from './dataset/DataParts';
import { AuthModeBadge, BreakableUri, CopyButton, DeploymentStatusBadge, ServingHostBadge } from './endpoint/EndpointParts';
import { useEndpoints, useServingHost, type EndpointInfo } from './endpoint/EndpointQueries';

const SDK_SNIPPET = `import ember

ws = ember.Workspace.from_config()
endpoint = ember.Endpoint.create(ws, "iris")
endpoint.deploy(
    "blue",
    models=[ember.Model(ws, "iris-clf")],
    inference_config=ember.InferenceConfig(entry_script="score.py", source_directory="serving"),
)`;

const CLI_SNIPPET = `ember endpoint create iris
ember endpoint deploy iris blue --model iris-clf --entry-script score.py --source-dir serving`;

function DeploymentChips({ endpoint }: { endpoint: EndpointInfo }) {
  const deployments = endpoint.deployments ?? [];
  if (deployments.length === 0) return <span className="muted">none yet</span>;
  return (
    <ul className="endpoint-deployment-chips">
      {deployments.map((deployment) => {
        const live = endpoint.traffic?.[deployment.name] ?? 0;
        const mirror = endpoint.mirror_traffic?.[deployment.name] ?? 0;
        return (
          <li key={deployment.name} data-testid="endpoint-deployment" data-name={deployment.name}>
            <span className="endpoint-deployment-name">{deployment.name}</span>
            <DeploymentStatusBadge status={deployment.status} message={deployment.status_message} />
            <span className="endpoint-traffic-share" data-testid="deployment-traffic">
              {live}%{mirror > 0 && <span className="muted"> + {mirror}% mirrored</span>}
            </span>
          </li>
        );
      })}
    </ul>
  );
}

export default function Endpoints() {
  useTitle('Endpoints');
  const endpoints = useEndpoints();
  const host = useServingHost();
  const none = endpoints.data !== undefined && endpoints.data.length === 0;

  return (
    <div className="page endpoint-list-page">
      <PageHeader
        title="Endpoints"
        subtitle="Online endpoints: a stable scoring URL with auth, and deployments that serve model versions behind it."
        actions={host.data && !none && endpoints.data !== undefined && <ServingHostBadge host={host.data} />}
      />
      {endpoints.isPending ? (
        <Spinner label="Loading endpoints…" />
      ) : endpoints.isError ? (
        <ErrorBanner error={endpoints.error} title="Could not load endpoints" onRetry={() => void endpoints.refetch()} />
      ) : none ? (
        <section className="card">
          <EmptyState
            title="No endpoints yet"
            actions={
              <>
                <Snippet label="Create one and deploy a model from Python" code={SDK_SNIPPET} />
                <Snippet label="or from the command line" code={CLI_SNIPPET} />
              </>
            }
          >
            An endpoint gives a model a stable scoring URL with keys or tokens. Deployments behind it run your{' '}
            <code>init()</code>/<code>run()</code> script with replicas, and share its traffic.
          </EmptyState>
        </section>
      ) : (
        <section className="card" aria-label="Endpoints">
          <div className="table-wrap">
            <table className="data endpoint-table" data-testid="endpoints-table">
              <caption className="visually-hidden">{plural(endpoints.data.length, 'endpoint')}</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Auth</th>
                  <th scope="col">Scoring URI</th>
                  <th scope="col">Deployments and traffic</th>
                  <th scope="col">Updated</th>
                </tr>
              </thead>
              <tbody>
                {endpoints.data.map((endpoint) => (
                  <tr key={endpoint.id} data-testid="endpoint-row" data-name={endpoint.name}>
                    <td className="endpoint-name-cell">
                      <Link to={endpointUrl(endpoint.name)}>{endpoint.name}</Link>
                      {endpoint.description && (
                        <div className="muted truncate endpoint-description" title={endpoint.description}>
                          {endpoint.description}
                        </div>
                      )}
                    </td>
                    <td>
                      <AuthModeBadge mode={endpoint.auth_mode} />
                    </td>
                    <td>
                      <span className="endpoint-uri-cell">
                        <code className="endpoint-value endpoint-uri endpoint-list-uri" data-testid="scoring-uri">
                          <BreakableUri uri={endpoint.scoring_uri} />
                        </code>
                        <CopyButton text={endpoint.scoring_uri} label={`Copy the scoring URI of ${endpoint.name}`} />
                      </span>
                    </td>
                    <td>
                      <DeploymentChips endpoint={endpoint} />
                    </td>
                    <td>
                      <RelativeTime value={epochToIso(endpoint.updated_time)} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <p className="placeholder-note" data-testid="endpoints-summary">
            {plural(endpoints.data.length, 'endpoint')},{' '}
            {plural(
              endpoints.data.reduce((sum, e) => sum + (e.deployments ?? []).length, 0),
              'deployment',
            )}
            .
          </p>
        </section>
      )}
    </div>
  );
}
