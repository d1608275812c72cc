/**
 * The telemetry tab: the serving host's counters for this endpoint, asked every 2 s while the tab is
 * open, turned into live charts per deployment — requests/s, errors/s (5xx) and p50/p99 latency (from the
 * change of the latency histogram between samples) — and a table of the totals since the host started.
 * The last five minutes are kept (in this tab only: nothing is stored).
 */
import { useEffect, useMemo, useState } from 'react';

import { ErrorBanner } from '../../components/ErrorBanner';
import { MetricChart } from '../../components/MetricChart';
import { Spinner } from '../../components/Spinner';
import {
  appendSample,
  clockTime,
  formatLatency,
  formatRate,
  ratePoints,
  rateSeries,
  type DeploymentRates,
} from '../../lib/endpoints';
import { DataCard } from '../dataset/DataParts';
import { useEndpointTelemetry, type EndpointInfo } from './EndpointQueries';

const POLL_MS = 2000;
const KEEP_SAMPLES = 150; // five minutes at one sample every 2 s

type Sample = NonNullable<ReturnType<typeof useEndpointTelemetry>['data']>;

function Chart({
  title,
  series,
  unit,
  testId,
}: {
  title: string;
  series: { label: string; x: number[]; y: number[] }[];
  unit: string;
  testId: string;
}) {
  return (
    <DataCard title={title} testId={testId}>
      <MetricChart series={series} xLabel="time" yLabel={unit} formatX={clockTime} height={200} />
    </DataCard>
  );
}

function Totals({ sample, latest }: { sample: Sample; latest: DeploymentRates[] }) {
  const deployments = sample.deployments ?? [];
  return (
    <DataCard title="Since the serving host started" testId="telemetry-totals" flush>
      {deployments.length === 0 ? (
        <p className="muted card-body endpoint-note">No deployment of this endpoint has served a request yet.</p>
      ) : (
        <div className="table-wrap">
          <table className="data endpoint-telemetry-table">
            <caption className="visually-hidden">Totals per deployment</caption>
            <thead>
              <tr>
                <th scope="col">Deployment</th>
                <th scope="col" className="num">
                  Requests
                </th>
                <th scope="col" className="num">
                  Errors (5xx)
                </th>
                <th scope="col" className="num">
                  Client errors (4xx)
                </th>
                <th scope="col" className="num">
                  Mirrored
                </th>
                <th scope="col" className="num">
                  In flight
                </th>
                <th scope="col" className="num">
                  Ready replicas
                </th>
                <th scope="col" className="num">
                  Now
                </th>
                <th scope="col" className="num">
                  p50
                </th>
                <th scope="col" className="num">
                  p99
                </th>
              </tr>
            </thead>
            <tbody>
              {deployments.map((d) => {
                const rates = latest.find((r) => r.deployment === d.deployment);
                return (
                  <tr key={d.deployment} data-testid="telemetry-row" data-name={d.deployment}>
                    <th scope="row" className="endpoint-deployment-cell">
                      {d.deployment}
                    </th>
                    <td className="num" data-testid="telemetry-requests">
                      {(d.requests ?? 0).toLocaleString()}
                    </td>
                    <td className="num">{(d.errors ?? 0).toLocaleString()}</td>
                    <td className="num">{(d.client_errors ?? 0).toLocaleString()}</td>
                    <td className="num">{(d.mirrored ?? 0).toLocaleString()}</td>
                    <td className="num">{d.in_flight ?? 0}</td>
                    <td className="num">{d.ready_replicas ?? 0}</td>
                    <td className="num">{formatRate(rates?.requestsPerSecond)}</td>
                    <td className="num">{formatLatency(rates?.p50Ms)}</td>
                    <td className="num">{formatLatency(rates?.p99Ms)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {(sample.unauthorized ?? 0) > 0 && (
        <p className="placeholder-note" data-testid="telemetry-unauthorized">
          {sample.unauthorized?.toLocaleString()} requests refused for a missing or wrong key or token.
        </p>
      )}
    </DataCard>
  );
}

export function EndpointTelemetryTab({ endpoint }: { endpoint: EndpointInfo }) {
  const telemetry = useEndpointTelemetry(endpoint.name, POLL_MS);
  const [history, setHistory] = useState<Sample[]>([]);
  useEffect(() => {
    const sample = telemetry.data;
    // A sample without a host is zeros made up by the server, not counters: it would chart a false calm.
    if (sample?.host_running) setHistory((current) => appendSample(current, sample, KEEP_SAMPLES));
  }, [telemetry.data]);

  // Every deployment the endpoint has or the samples mention (a deleted one keeps its line while it shows).
  const names = useMemo(() => {
    const all = new Set((endpoint.deployments ?? []).map((d) => d.name));
    for (const sample of history) for (const d of sample.deployments ?? []) all.add(d.deployment);
    return [...all];
  }, [endpoint.deployments, history]);
  const points = useMemo(() => ratePoints(history), [history]);
  const charts = useMemo(
    () => ({
      requests: rateSeries(points, names, (r) => r.requestsPerSecond),
      errors: rateSeries(points, names, (r) => r.errorsPerSecond),
      latency: [
        ...rateSeries(points, names, (r) => r.p50Ms).map((s) => ({ ...s, label: `${s.label} p50` })),
        ...rateSeries(points, names, (r) => r.p99Ms).map((s) => ({ ...s, label: `${s.label} p99` })),
      ],
    }),
    [points, names],
  );

  if (telemetry.isPending) return <Spinner label="Asking the serving host…" />;
  const sample = telemetry.data ?? history[history.length - 1];
  const latest = points[points.length - 1]?.rates ?? [];

  return (
    <div className="data-overview endpoint-telemetry" data-testid="endpoint-telemetry" data-samples={history.length}>
      {telemetry.isError && <ErrorBanner error={telemetry.error} title="Could not read the telemetry (retrying)" />}
      {sample && !sample.host_running && (
        <div className="endpoint-notice" role="status" data-testid="telemetry-host-down">
          <strong>The serving host is not running.</strong> Nothing serves this endpoint's requests, so there is nothing
          to chart{points.length > 0 ? ' beyond what it last reported' : ''}; the counters start again when it does.
        </div>
      )}
      {sample && <Totals sample={sample} latest={latest} />}
      {points.length === 0 ? (
        sample?.host_running !== false && (
          <p className="muted endpoint-note" data-testid="telemetry-collecting">
            The charts start with the second sample (one every {POLL_MS / 1000} s).
          </p>
        )
      ) : (
        <div className="endpoint-charts">
          <Chart title="Requests per second" series={charts.requests} unit="requests/s" testId="chart-requests" />
          <Chart title="Errors per second (5xx)" series={charts.errors} unit="errors/s" testId="chart-errors" />
          <Chart title="Latency (p50, p99)" series={charts.latency} unit="ms" testId="chart-latency" />
        </div>
      )}
    </div>
  );
}
