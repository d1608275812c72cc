/**
 * An endpoint's overview: where to call it (scoring and Swagger URIs), how callers authenticate, whether
 * the serving host runs, its deployments (status, replicas, what they serve), the traffic editor, and
 * how to call it from a shell or Python.
 */
import { Link } from 'react-router-dom';

import { RelativeTime } from '../../components/RelativeTime';
import {
  autoscaleLabel,
  curlSnippet,
  deploymentModelUrl,
  endpointUrl,
  environmentLabel,
  epochToIso,
  sdkSnippet,
  trafficSummary,
} from '../../lib/endpoints';
import { plural } from '../../lib/format';
import { DataCard, Snippet, TagList } from '../dataset/DataParts';
import { AuthModeBadge, CopyableValue, DeploymentStatusBadge, ServingHostBadge } from './EndpointParts';
import { useServingHost, type DeploymentInfo, type EndpointInfo } from './EndpointQueries';
import { EndpointTraffic } from './EndpointTraffic';

const DEPLOY_SNIPPET = (name: string) => `import ember

ws = ember.Workspace.from_config()
endpoint = ember.Endpoint(ws, ${JSON.stringify(name)})
endpoint.deploy(
    "blue",
    models=[ember.Model(ws, "iris-clf")],
    inference_config=ember.InferenceConfig(entry_script="score.py", source_directory="serving"),
)`;

function HostDetails() {
  const host = useServingHost();
  if (host.isError) return <span className="muted">unknown ({host.error.message})</span>;
  if (!host.data) return <span className="muted">…</span>;
  return (
    <span className="endpoint-host">
      <ServingHostBadge host={host.data} />
      {host.data.alive ? (
        <span className="muted">
          {host.data.hostname ?? 'this machine'}
          {host.data.pid ? `, pid ${host.data.pid}` : ''}
          {host.data.started_time ? (
            <>
              , started <RelativeTime value={epochToIso(host.data.started_time)} />
            </>
          ) : null}
        </span>
      ) : (
        <span className="muted" data-testid="serving-host-hint">
          Deployments wait in <em>Creating</em> and requests fail with 503 until it runs: <code>ember server</code>{' '}
          (or any change to an endpoint) starts it.
        </span>
      )}
    </span>
  );
}

function Details({ endpoint }: { endpoint: EndpointInfo }) {
  return (
    <DataCard title="Details" testId="endpoint-details">
      <dl className="facts data-facts endpoint-facts">
        <dt>Scoring URI</dt>
        <dd>
          <CopyableValue value={endpoint.scoring_uri} label="Copy the scoring URI" testId="endpoint-scoring-uri" uri />
          {endpoint.scoring_uri.startsWith('/') && (
            <div className="muted endpoint-uri-hint" data-testid="endpoint-uri-hint">
              The serving host has not started yet: the URI gets its host and port when it does.
            </div>
          )}
        </dd>
        <dt>Swagger URI</dt>
        <dd>
          <CopyableValue value={endpoint.swagger_uri} label="Copy the Swagger URI" testId="endpoint-swagger-uri" uri />
        </dd>
        <dt>Auth</dt>
        <dd>
          <AuthModeBadge mode={endpoint.auth_mode} />{' '}
          <span className="muted">
            {endpoint.auth_mode === 'token' ? (
              <>
                callers send a short-lived token: <code>Authorization: Bearer &lt;token&gt;</code> (
                <Link to={endpointUrl(endpoint.name, 'keys')}>get one</Link>)
              </>
            ) : (
              <>
                callers send a key: <code>Authorization: Bearer &lt;key&gt;</code> (
                <Link to={endpointUrl(endpoint.name, 'keys')}>keys</Link>)
              </>
            )}
          </span>
        </dd>
        <dt>Serving host</dt>
        <dd>
          <HostDetails />
        </dd>
        <dt>Traffic</dt>
        <dd data-testid="endpoint-traffic-summary">{trafficSummary(endpoint)}</dd>
        <dt>Tags</dt>
        <dd>
          <TagList tags={endpoint.tags} />
        </dd>
        <dt>Created</dt>
        <dd>
          <RelativeTime value={epochToIso(endpoint.created_time)} />
        </dd>
        <dt>Updated</dt>
        <dd>
          <RelativeTime value={epochToIso(endpoint.updated_time)} />
        </dd>
        <dt>Id</dt>
        <dd className="mono muted">{endpoint.id}</dd>
      </dl>
    </DataCard>
  );
}

function Models({ deployment }: { deployment: DeploymentInfo }) {
  const models = deployment.models ?? [];
  if (models.length === 0) return <span className="muted">—</span>;
  return (
    <ul className="endpoint-models">
      {models.map((model) => (
        <li key={model.id}>
          <Link to={deploymentModelUrl(model)} data-testid="deployment-model">
            {model.name}:{model.version}
          </Link>
        </li>
      ))}
    </ul>
  );
}

function Deployments({ endpoint }: { endpoint: EndpointInfo }) {
  const deployments = endpoint.deployments ?? [];
  return (
    <DataCard title={`Deployments (${deployments.length})`} testId="endpoint-deployments" flush>
      {deployments.length === 0 ? (
        <EmptyDeployments name={endpoint.name} />
      ) : (
        <div className="table-wrap">
          <table className="data endpoint-deployments-table">
            <caption className="visually-hidden">The endpoint's deployments</caption>
            <thead>
              <tr>
                <th scope="col">Deployment</th>
                <th scope="col">Status</th>
                <th scope="col" className="num">
                  Traffic
                </th>
                <th scope="col" className="num" title="ready / desired replicas, and restarts of crashed replicas">
                  Replicas
                </th>
                <th scope="col" className="num" title="Generation: bumped by every update of the deployment">
                  Gen.
                </th>
                <th scope="col">Models</th>
                <th scope="col">Environment</th>
                <th scope="col">Autoscale</th>
                <th scope="col" title="inputs and predictions stored for drift monitoring">
                  Collect data
                </th>
              </tr>
            </thead>
            <tbody>
              {deployments.map((deployment) => {
                const live = endpoint.traffic?.[deployment.name] ?? 0;
                const mirror = endpoint.mirror_traffic?.[deployment.name] ?? 0;
                return (
                  <tr key={deployment.id} data-testid="deployment-row" data-name={deployment.name}>
                    <th scope="row" className="endpoint-deployment-cell">
                      {deployment.name}
                      {deployment.entry_script && <div className="muted mono">{deployment.entry_script}</div>}
                    </th>
                    <td>
                      <DeploymentStatusBadge status={deployment.status} message={deployment.status_message} />
                      {deployment.status_message && (
                        <div className="muted endpoint-status-message" data-testid="deployment-status-message">
                          {deployment.status_message}
                        </div>
                      )}
                    </td>
                    <td className="num" data-testid="deployment-traffic">
                      {live}%{mirror > 0 && <div className="muted">+{mirror}% mirrored</div>}
                    </td>
                    <td className="num">
                      <span data-testid="deployment-replicas">
                        {deployment.ready_replicas ?? 0} / {deployment.desired_replicas || deployment.replicas}
                      </span>
                      <div
                        className={(deployment.restarts ?? 0) > 0 ? 'endpoint-restarts' : 'muted'}
                        data-testid="deployment-restarts"
                      >
                        {plural(deployment.restarts ?? 0, 'restart')}
                      </div>
                    </td>
                    <td className="num" data-testid="deployment-generation">
                      {deployment.generation ?? 1}
                    </td>
                    <td>
                      <Models deployment={deployment} />
                    </td>
                    <td className="mono">
                      {environmentLabel(deployment.environment) ??
                        (deployment.interpreter ? (
                          <span title={`${deployment.interpreter.executable} on ${deployment.interpreter.machine}`}>
                            Environment.current()
                          </span>
                        ) : (
                          <span className="muted">the host's Python</span>
                        ))}
                    </td>
                    <td className="endpoint-autoscale">
                      {autoscaleLabel(deployment.autoscale) ?? <span className="muted">off</span>}
                    </td>
                    <td>{deployment.collect_data ? 'yes' : <span className="muted">no</span>}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </DataCard>
  );
}

function EmptyDeployments({ name }: { name: string }) {
  return (
    <div className="card-body">
      <p className="muted endpoint-note">
        No deployment serves this endpoint yet: requests get 503. The first deployment takes all of its traffic.
      </p>
      <Snippet label="Deploy a model from Python" code={DEPLOY_SNIPPET(name)} />
    </div>
  );
}

export function EndpointOverview({ endpoint }: { endpoint: EndpointInfo }) {
  const hasDeployments = (endpoint.deployments ?? []).length > 0;
  return (
    <div className="data-overview">
      <div className="data-columns">
        <Details endpoint={endpoint} />
        <div className="stack">
          {hasDeployments && <EndpointTraffic endpoint={endpoint} />}
          <DataCard title="Call it" testId="endpoint-usage">
            <Snippet label="From a shell" code={curlSnippet(endpoint.scoring_uri, endpoint.auth_mode)} />
            <Snippet label="or from Python (the SDK fetches the key or token)" code={sdkSnippet(endpoint.name)} />
          </DataCard>
        </div>
      </div>
      <Deployments endpoint={endpoint} />
    </div>
  );
}
