/**
 * The run's metrics: one chart per series, fetched decimated from the history endpoint (about
 * 2000 points each: ~2× a chart's width), and tables (row/table metrics) below. The chart options
 * live in the URL (`?x=time&smooth=0.6&log=1`) so a view can be shared; charts refresh while the
 * run is active.
 */
import { useQuery } from '@tanstack/react-query';
import { useEffect, useMemo, useState } from 'react';
import { useSearchParams } from 'react-router-dom';

import { api, unwrap } from '../../api/client';
import type { RunDetails } from '../../api/client';
import { useMetricHistory } from '../../api/queries';
import { EmptyState } from '../../components/EmptyState';
import { ErrorBanner } from '../../components/ErrorBanner';
import { type ChartSeries, MetricChart } from '../../components/MetricChart';
import { Spinner } from '../../components/Spinner';
import { formatDuration, formatNumber, plural, toMillis } from '../../lib/format';

/** Points asked of the server per chart: about twice the widest chart's pixel width. */
export const CHART_MAX_POINTS = 2000;
const ACTIVE_REFRESH_MS = 5000;

type XAxis = 'step' | 'time';

export interface MetricViewOptions {
  x: XAxis;
  smoothing: number;
  logScale: boolean;
}

/** The chart options in a URL's query (`x`, `smooth`, `log`), defaults for anything missing or wrong. */
export function readMetricOptions(params: URLSearchParams): MetricViewOptions {
  const smooth = Number(params.get('smooth') ?? '0');
  return {
    x: params.get('x') === 'time' ? 'time' : 'step',
    smoothing: Number.isFinite(smooth) ? Math.min(0.99, Math.max(0, smooth)) : 0,
    logScale: params.get('log') === '1' || params.get('log') === 'true',
  };
}

function formatSeconds(value: number): string {
  return value === 0 ? '0' : formatDuration(value);
}

function MetricCard({
  run,
  metricKey,
  options,
  active,
}: {
  run: RunDetails;
  metricKey: string;
  options: MetricViewOptions;
  active: boolean;
}) {
  const history = useMetricHistory(run.info.id, metricKey, {
    maxPoints: CHART_MAX_POINTS,
    refetchInterval: active ? ACTIVE_REFRESH_MS : false,
  });
  const startSeconds = (toMillis(run.info.start_time) ?? toMillis(run.info.created_time) ?? 0) / 1000;
  const series = useMemo<ChartSeries[]>(() => {
    if (!history.data) return [];
    const { values, steps, timestamps } = history.data;
    let x: number[];
    if (options.x === 'time') {
      const first = timestamps[0] ?? startSeconds;
      const origin = startSeconds > 0 && startSeconds <= first ? startSeconds : first;
      x = timestamps.map((t) => t - origin);
    } else x = steps;
    return [{ label: metricKey, x, y: values }];
  }, [history.data, options.x, metricKey, startSeconds]);

  const latest = run.metrics?.[metricKey];
  return (
    <section className="card run-metric" aria-label={`Metric ${metricKey}`} data-testid="metric-card" data-key={metricKey}>
      <header>
        <h2 className="mono truncate" title={metricKey}>
          {metricKey}
        </h2>
        <span className="muted run-metric-meta">
          {latest !== undefined && <span title="Latest value">{formatNumber(latest)}</span>}
          {history.data && (
            <span data-testid="metric-total-points" data-total={history.data.total_points}>
              {plural(history.data.total_points, 'point')}
            </span>
          )}
        </span>
      </header>
      <div className="card-body">
        {history.isPending ? (
          <Spinner label="Loading the series…" />
        ) : history.isError ? (
          <ErrorBanner error={history.error} title="Could not load the series" onRetry={() => void history.refetch()} />
        ) : (
          <MetricChart
            series={series}
            xLabel={options.x === 'time' ? 'Time (s)' : 'Step'}
            logScale={options.logScale}
            smoothing={options.smoothing}
            height={220}
            {...(options.x === 'time' ? { formatX: formatSeconds } : {})}
          />
        )}
      </div>
    </section>
  );
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return formatNumber(value);
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

function MetricTable({ name, columns }: { name: string; columns: Record<string, unknown[]> }) {
  const names = Object.keys(columns);
  const rows = Math.max(0, ...names.map((column) => columns[column]?.length ?? 0));
  const shown = Math.min(rows, 1000);
  return (
    <section className="card" aria-label={`Table ${name}`} data-testid="metric-table" data-key={name}>
      <header>
        <h2 className="mono">{name}</h2>
        <span className="muted">
          {plural(rows, 'row')}
          {shown < rows ? ` (first ${shown.toLocaleString()} shown)` : ''}
        </span>
      </header>
      <div className="table-wrap run-table-scroll">
        <table className="data">
          <thead>
            <tr>
              {names.map((column) => (
                <th
                  key={column}
                  scope="col"
                  className={columns[column]?.every((value) => typeof value === 'number') ? 'num' : undefined}
                >
                  {column}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {Array.from({ length: shown }, (_, row) => (
              <tr key={row}>
                {names.map((column) => {
                  const value = columns[column]?.[row];
                  return (
                    <td key={column} className={typeof value === 'number' ? 'num mono' : undefined}>
                      {cell(value)}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function MetricTables({ runId }: { runId: string }) {
  const all = useQuery({
    queryKey: ['runs', runId, 'metrics', 'tables'],
    // The charts read decimated histories; only the tables come from here (series=false skips every point).
    queryFn: ({ signal }) =>
      unwrap(
        api.GET('/api/v1/runs/{run_id}/metrics', {
          params: { path: { run_id: runId }, query: { series: false } },
          signal,
        }),
      ),
    staleTime: 60_000,
  });
  if (all.isPending) return null;
  if (all.isError) return <ErrorBanner error={all.error} title="Could not load the run's tables" />;
  const tables = Object.entries(all.data.tables ?? {}).sort(([a], [b]) => a.localeCompare(b));
  if (tables.length === 0) return null;
  return (
    <>
      <h2 className="run-section-title">Tables</h2>
      {tables.map(([name, columns]) => (
        <MetricTable key={name} name={name} columns={columns} />
      ))}
    </>
  );
}

export function RunMetrics({ run, active }: { run: RunDetails; active: boolean }) {
  const [params, setParams] = useSearchParams();
  // The options apply at once (local state) and are mirrored into the URL, which may lag a render.
  const query = params.toString();
  const [options, setOptions] = useState<MetricViewOptions>(() => readMetricOptions(params));
  useEffect(() => setOptions(readMetricOptions(new URLSearchParams(query))), [query]);
  const [filter, setFilter] = useState('');
  const keys = Object.keys(run.metrics ?? {}).sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  const shown = filter ? keys.filter((key) => key.toLowerCase().includes(filter.toLowerCase())) : keys;

  const update = (changes: Record<string, string | null>, local: Partial<MetricViewOptions>) => {
    setOptions((current) => ({ ...current, ...local }));
    setParams(
      (current) => {
        const next = new URLSearchParams(current);
        for (const [name, value] of Object.entries(changes)) {
          if (value === null) next.delete(name);
          else next.set(name, value);
        }
        return next;
      },
      { replace: true },
    );
  };

  return (
    <div className="stack">
      <div className="run-metric-toolbar card" role="toolbar" aria-label="Chart options">
        <div className="run-segmented" role="radiogroup" aria-label="X axis">
          <span className="muted">X axis</span>
          {(['step', 'time'] as const).map((axis) => (
            <label key={axis} className={`run-segment${options.x === axis ? ' active' : ''}`}>
              <input
                type="radio"
                name="x-axis"
                value={axis}
                checked={options.x === axis}
                data-testid={`x-axis-${axis}`}
                onChange={() => update({ x: axis === 'step' ? null : axis }, { x: axis })}
              />
              {axis === 'step' ? 'Step' : 'Time'}
            </label>
          ))}
        </div>
        <label className="run-slider">
          <span className="muted">Smoothing</span>
          <input
            type="range"
            min={0}
            max={0.99}
            step={0.01}
            value={options.smoothing}
            data-testid="smoothing"
            onChange={(event) => {
              const value = Number(event.target.value);
              update({ smooth: value > 0 ? value.toFixed(2).replace(/0+$/, '').replace(/\.$/, '') : null }, { smoothing: value });
            }}
          />
          <output className="mono" data-testid="smoothing-value">
            {options.smoothing.toFixed(2)}
          </output>
        </label>
        <label className="toggle">
          <input
            type="checkbox"
            checked={options.logScale}
            data-testid="log-scale"
            onChange={(event) => update({ log: event.target.checked ? '1' : null }, { logScale: event.target.checked })}
          />
          Log scale
        </label>
        {keys.length > 6 && (
          <input
            type="search"
            className="search"
            placeholder="Filter metrics"
            aria-label="Filter metrics"
            value={filter}
            onChange={(event) => setFilter(event.target.value)}
          />
        )}
        {active && <span className="run-live muted">Refreshing every {ACTIVE_REFRESH_MS / 1000} s</span>}
      </div>
      {keys.length === 0 ? (
        <section className="card">
          <EmptyState title="No metrics logged">
            {active ? 'Metrics appear here as the run logs them (run.log("loss", value)).' : 'This run logged no metric series.'}
          </EmptyState>
        </section>
      ) : (
        <div className="run-chart-grid">
          {shown.map((key) => (
            <MetricCard key={key} run={run} metricKey={key} options={options} active={active} />
          ))}
        </div>
      )}
      <MetricTables runId={run.info.id} />
    </div>
  );
}
