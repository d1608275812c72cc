/**
 * Comparing runs (`/compare?runs=a,b,c`): chips for the runs, a diff table of attributes, params,
 * metrics and tags, overlaid metric charts and a parallel-coordinates plot.
 *
 * Everything the user picks lives in the query string so that a comparison is a link to share:
 * `runs` (ids, in order), `diff=all` (show equal rows too), `x=time`, `smooth=0.6`, `log=1` and
 * `pc=<metric>` (the metric of the parallel-coordinates plot).
 */
import './Compare.css';

import { useQueries } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';

import { ApiError, type RunDetails } from '../api/client';
import { runQueryOptions } from '../api/queries';
import { CompareCharts, type ChartOptions, type XAxisMode } from '../components/CompareCharts';
import { CompareDiffTable } from '../components/CompareDiffTable';
import { CompareRunChips, runColor, type CompareRun } from '../components/CompareRuns';
import { EmptyState } from '../components/EmptyState';
import { PageHeader } from '../components/PageHeader';
import { ParallelCoordinates, type Dimension, type ParallelRun } from '../components/ParallelCoordinates';
import { Spinner } from '../components/Spinner';
import { buildDiffRows } from '../lib/diff';
import { plural } from '../lib/format';
import { chooseParamKeys } from '../lib/parallel';
import { useTitle } from '../lib/useTitle';

/** More runs than this make an unreadable table and a tangle of lines; the rest are left out. */
export const MAX_COMPARED_RUNS = 20;

const SMOOTHING_STEPS = [0, 0.3, 0.6, 0.8, 0.9, 0.95, 0.99];

function parseRunIds(value: string | null): string[] {
  const ids = (value ?? '')
    .split(',')
    .map((id) => id.trim())
    .filter(Boolean);
  return [...new Set(ids)];
}

function parseSmoothing(value: string | null): number {
  const number = Number(value ?? 0);
  return Number.isFinite(number) ? Math.min(0.99, Math.max(0, number)) : 0;
}

/**
 * A value kept in the URL that a control changes at once: react-router applies navigations in a
 * transition, so a controlled checkbox bound to the URL alone would flip back until it commits.
 * The local value holds while the URL still shows what it did when the user acted.
 */
function useUrlBacked<T>(fromUrl: T): [T, (value: T) => void] {
  const [local, setLocal] = useState<{ value: T; base: T } | null>(null);
  const value = local && Object.is(local.base, fromUrl) ? local.value : fromUrl;
  return [value, (next: T) => setLocal({ value: next, base: fromUrl })];
}

function failureMessage(id: string, error: unknown): string {
  if (error instanceof ApiError && error.status === 404) return `No run has the id ${id}; it may have been deleted.`;
  const reason = error instanceof Error ? error.message : String(error);
  return `Could not load run ${id}: ${reason}`;
}

function HowToSelect({ count }: { count: number }) {
  return (
    <section className="card" data-testid="compare-empty">
      <EmptyState
        title={count === 0 ? 'No runs to compare' : 'Pick at least one more run'}
        actions={
          <ol className="compare-howto">
            <li>
              Open an experiment from the <Link to="/experiments">experiments list</Link>.
            </li>
            <li>Tick the checkboxes of two or more runs in its runs table.</li>
            <li>
              Press <strong>Compare</strong>: this page opens with those runs.
            </li>
          </ol>
        }
      >
        Comparing puts runs side by side: which params and metrics differ, their metric curves overlaid, and how
        params relate to a metric. Or open <code>/compare?runs=ID,ID</code> with run ids.
      </EmptyState>
    </section>
  );
}

export default function Compare() {
  useTitle('Compare runs');
  const [params, setParams] = useSearchParams();
  const allIds = parseRunIds(params.get('runs'));
  const ids = allIds.slice(0, MAX_COMPARED_RUNS);

  const results = useQueries({ queries: ids.map((id) => runQueryOptions(id)) });

  const chips: CompareRun[] = ids.map((id, index) => {
    const result = results[index];
    const run = result?.data;
    const missing = result?.error instanceof ApiError && result.error.status === 404;
    return {
      id,
      label: run ? run.info.display_name || run.info.id : id,
      color: runColor(index),
      state: run ? 'loaded' : result?.isError ? (missing ? 'missing' : 'error') : 'loading',
    };
  });
  const failures = ids.flatMap((id, index) => {
    const result = results[index];
    return result?.isError ? [{ id, message: failureMessage(id, result.error) }] : [];
  });
  const pending = results.some((r) => r.isPending);

  // Loaded runs with their colours (a colour belongs to the URL position, so it never shifts on load).
  const dataKey = results.map((r) => r.dataUpdatedAt).join(',');
  const { runs, colors } = useMemo(() => {
    void dataKey;
    const loaded: RunDetails[] = [];
    const loadedColors: string[] = [];
    results.forEach((result, index) => {
      if (result.data) {
        loaded.push(result.data);
        loadedColors.push(runColor(index));
      }
    });
    return { runs: loaded, colors: loadedColors };
    // The results' update times stand for their data.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [dataKey, ids.join(',')]);

  const rows = useMemo(() => buildDiffRows(runs), [runs]);
  const differing = rows.filter((row) => row.differs).length;

  const diffParam = params.get('diff');
  const [onlyDifferences, setOnlyDifferences] = useUrlBacked(diffParam ? diffParam !== 'all' : runs.length > 1);
  const [xAxis, setXAxis] = useUrlBacked<XAxisMode>(params.get('x') === 'time' ? 'time' : 'step');
  const [smoothing, setSmoothing] = useUrlBacked(parseSmoothing(params.get('smooth')));
  const [logScale, setLogScale] = useUrlBacked(params.get('log') === '1');
  const chartOptions: ChartOptions = { xAxis, smoothing, logScale };

  const metricKeys = useMemo(() => {
    const keys = new Set<string>();
    for (const run of runs) for (const key of Object.keys(run.metrics ?? {})) keys.add(key);
    return [...keys].sort(new Intl.Collator(undefined, { numeric: true }).compare);
  }, [runs]);
  const [requestedMetric, setRequestedMetric] = useUrlBacked(params.get('pc'));
  const parallelMetric =
    requestedMetric && metricKeys.includes(requestedMetric)
      ? requestedMetric
      : (metricKeys.find((key) => runs.every((run) => run.metrics && key in run.metrics)) ?? metricKeys[0] ?? '');

  const parallel = useMemo(() => {
    const paramKeys = chooseParamKeys(runs.map((run) => run.params ?? {}));
    const dimensions: Dimension[] = paramKeys.map((key) => ({ key: `params.${key}`, label: key }));
    if (parallelMetric) dimensions.push({ key: `metrics.${parallelMetric}`, label: parallelMetric });
    const lines: ParallelRun[] = runs.map((run) => {
      const values: ParallelRun['values'] = {};
      for (const key of paramKeys) values[`params.${key}`] = run.params?.[key] ?? null;
      if (parallelMetric) values[`metrics.${parallelMetric}`] = run.metrics?.[parallelMetric] ?? null;
      return { id: run.info.id, label: run.info.display_name || run.info.id, values };
    });
    return { dimensions, lines };
  }, [runs, parallelMetric]);

  /** Change query parameters; a value of null removes one. Options replace the history entry. */
  const update = (changes: Record<string, string | null>, options: { replace?: boolean } = { replace: true }) => {
    setParams(
      (previous) => {
        const next = new URLSearchParams(previous);
        for (const [key, value] of Object.entries(changes)) {
          if (value === null) next.delete(key);
          else next.set(key, value);
        }
        return next;
      },
      { replace: options.replace ?? true },
    );
  };
  const removeRun = (id: string) => {
    const rest = allIds.filter((other) => other !== id);
    update({ runs: rest.length > 0 ? rest.join(',') : null }, { replace: false });
  };

  const experiments = [...new Set(runs.map((run) => run.info.experiment_id))];
  const single = experiments.length === 1 ? runs[0]?.info : undefined;
  const breadcrumbs = (
    <>
      <Link to="/experiments">Experiments</Link>
      {single && (
        <>
          {' / '}
          <Link to={`/experiments/${encodeURIComponent(single.experiment_id)}`}>
            {single.experiment_name ?? single.experiment_id}
          </Link>
        </>
      )}
    </>
  );
  const origin =
    experiments.length === 1
      ? `of ${single?.experiment_name ?? 'one experiment'}`
      : `from ${plural(experiments.length, 'experiment')}`;
  const subtitle = runs.length > 0 ? `${plural(runs.length, 'run')} ${origin}` : undefined;

  return (
    <div className="page compare-page">
      <PageHeader title="Compare runs" subtitle={subtitle} breadcrumbs={breadcrumbs} />
      {ids.length > 0 && <CompareRunChips runs={chips} onRemove={removeRun} />}
      {allIds.length > MAX_COMPARED_RUNS && (
        <p className="compare-notice" role="status">
          Comparing the first {MAX_COMPARED_RUNS} of {allIds.length} runs; remove some to see the others.
        </p>
      )}
      {failures.length > 0 && (
        <div className="error-banner" role="alert" data-testid="compare-errors">
          <div>
            <strong>
              {failures.length === 1 ? 'One run could not be loaded' : `${failures.length} runs could not be loaded`}
            </strong>
            <ul className="compare-failures">
              {failures.map((failure) => (
                <li key={failure.id}>
                  {failure.message}{' '}
                  <button type="button" className="link-button" onClick={() => removeRun(failure.id)}>
                    Remove it
                  </button>
                </li>
              ))}
            </ul>
          </div>
        </div>
      )}

      {pending && runs.length < 2 ? (
        <Spinner label="Loading the runs…" />
      ) : runs.length < 2 ? (
        <HowToSelect count={runs.length} />
      ) : (
        <>
          <section className="card" aria-labelledby="compare-diff">
            <header>
              <h2 id="compare-diff">Differences</h2>
              <div className="toolbar">
                <span className="muted" data-testid="diff-summary">
                  {differing} of {plural(rows.length, 'row')} differ
                </span>
                <label className="toggle">
                  <input
                    type="checkbox"
                    checked={onlyDifferences}
                    onChange={(event) => {
                      setOnlyDifferences(event.target.checked);
                      update({ diff: event.target.checked ? 'diff' : 'all' });
                    }}
                  />
                  Only differences
                </label>
              </div>
            </header>
            <CompareDiffTable runs={runs} colors={colors} rows={rows} onlyDifferences={onlyDifferences} />
          </section>

          <section className="card compare-metrics" aria-labelledby="compare-metrics">
            <header>
              <h2 id="compare-metrics">Metrics</h2>
              <div className="toolbar compare-chart-options">
                <label>
                  X axis{' '}
                  <select
                    className="select"
                    value={chartOptions.xAxis}
                    onChange={(event) => {
                      const time = event.target.value === 'time';
                      setXAxis(time ? 'time' : 'step');
                      update({ x: time ? 'time' : null });
                    }}
                  >
                    <option value="step">Step</option>
                    <option value="time">Time</option>
                  </select>
                </label>
                <label>
                  Smoothing{' '}
                  <select
                    className="select"
                    value={String(SMOOTHING_STEPS.includes(chartOptions.smoothing) ? chartOptions.smoothing : 0)}
                    onChange={(event) => {
                      setSmoothing(parseSmoothing(event.target.value));
                      update({ smooth: event.target.value === '0' ? null : event.target.value });
                    }}
                  >
                    {SMOOTHING_STEPS.map((step) => (
                      <option key={step} value={String(step)}>
                        {step === 0 ? 'None' : step}
                      </option>
                    ))}
                  </select>
                </label>
                <label className="toggle">
                  <input
                    type="checkbox"
                    checked={chartOptions.logScale}
                    onChange={(event) => {
                      setLogScale(event.target.checked);
                      update({ log: event.target.checked ? '1' : null });
                    }}
                  />
                  Log scale
                </label>
              </div>
            </header>
            <div className="card-body">
              <CompareCharts runs={runs} colors={colors} options={chartOptions} />
            </div>
          </section>

          <section className="card" aria-labelledby="compare-parallel">
            <header>
              <h2 id="compare-parallel">Params and a metric</h2>
              {metricKeys.length > 0 && (
                <label className="compare-chart-options">
                  Metric{' '}
                  <select
                    className="select"
                    value={parallelMetric}
                    onChange={(event) => {
                      setRequestedMetric(event.target.value);
                      update({ pc: event.target.value });
                    }}
                    data-testid="parallel-metric"
                  >
                    {metricKeys.map((key) => (
                      <option key={key} value={key}>
                        {key}
                      </option>
                    ))}
                  </select>
                </label>
              )}
            </header>
            <div className="card-body">
              <ParallelCoordinates
                runs={parallel.lines}
                dimensions={parallel.dimensions}
                colorKey={parallelMetric ? `metrics.${parallelMetric}` : ''}
              />
            </div>
          </section>
        </>
      )}
    </div>
  );
}
