/**
 * The Compare page's overlaid metric charts: one chart per metric key, one line per run that logged
 * it. Histories load when a chart scrolls near the viewport (a comparison of 20 runs with 40 metrics
 * would otherwise ask for 800 series at once), decimated by the server to about 2000 points.
 */
import { useQueries } from '@tanstack/react-query';
import { useEffect, useMemo, useRef, useState } from 'react';

import type { RunDetails } from '../api/client';
import { metricHistoryQueryOptions } from '../api/queries';
import { formatNumber } from '../lib/format';
import { ErrorBanner } from './ErrorBanner';
import { MetricChart, type ChartSeries } from './MetricChart';
import { Spinner } from './Spinner';

export type XAxisMode = 'step' | 'time';

export interface ChartOptions {
  xAxis: XAxisMode;
  smoothing: number;
  logScale: boolean;
}

const MAX_POINTS = 2000;

/** True once the element has come within `margin` of the viewport (and stays true). */
function useSeen<T extends Element>(margin = '400px'): [React.RefObject<T | null>, boolean] {
  const ref = useRef<T>(null);
  const [seen, setSeen] = useState(false);
  useEffect(() => {
    const element = ref.current;
    if (!element || seen) return;
    if (typeof IntersectionObserver === 'undefined') {
      setSeen(true);
      return;
    }
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((entry) => entry.isIntersecting)) setSeen(true);
      },
      { rootMargin: margin },
    );
    observer.observe(element);
    return () => observer.disconnect();
  }, [seen, margin]);
  return [ref, seen];
}

/** Seconds since the first point, written short: `45 s`, `12:05`, `3:02:10`. */
export function formatElapsed(seconds: number): string {
  if (!Number.isFinite(seconds)) return '';
  const sign = seconds < 0 ? '−' : '';
  const total = Math.abs(seconds);
  if (total < 60) return `${sign}${formatNumber(Math.round(total * 10) / 10)} s`;
  const whole = Math.round(total);
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = String(whole % 60).padStart(2, '0');
  return h > 0 ? `${sign}${h}:${String(m).padStart(2, '0')}:${s}` : `${sign}${m}:${s}`;
}

function MetricCard({
  metricKey,
  runs,
  colors,
  options,
}: {
  metricKey: string;
  runs: RunDetails[];
  colors: string[];
  options: ChartOptions;
}) {
  const [ref, seen] = useSeen<HTMLElement>();
  const logged = runs.flatMap((run, index) =>
    run.metrics && metricKey in run.metrics ? [{ run, color: colors[index] ?? '#64748b' }] : [],
  );
  const histories = useQueries({
    queries: logged.map(({ run }) => ({
      ...metricHistoryQueryOptions(run.info.id, metricKey, MAX_POINTS),
      enabled: seen,
      staleTime: 60_000,
    })),
  });
  const pending = !seen || histories.some((h) => h.isPending);
  const failed = histories.find((h) => h.isError);
  const dataKey = histories.map((h) => h.dataUpdatedAt).join(',');

  const series = useMemo<ChartSeries[]>(() => {
    void dataKey;
    return logged.flatMap(({ run, color }, index) => {
      const history = histories[index]?.data;
      if (!history) return [];
      const start = history.timestamps[0] ?? 0;
      const x = options.xAxis === 'time' ? history.timestamps.map((t) => t - start) : history.steps;
      return [{ label: run.info.display_name || run.info.id, x, y: history.values, color }];
    });
    // The histories' update times stand for their data.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [dataKey, options.xAxis, runs, colors, metricKey]);

  const singleValues = !pending && histories.every((h) => (h.data?.values.length ?? 0) <= 1);
  const decimated = histories.some((h) => h.data && h.data.total_points > h.data.values.length);

  return (
    <section
      className="card compare-chart"
      ref={ref}
      aria-label={`${metricKey} of the compared runs`}
      data-testid="compare-chart"
      data-key={metricKey}
    >
      <header>
        <h3 className="mono" title={metricKey}>
          {metricKey}
        </h3>
        <span className="muted compare-chart-note">
          {logged.length} of {runs.length} runs{decimated ? ' · decimated' : ''}
        </span>
      </header>
      <div className="card-body">
        {failed ? (
          <ErrorBanner
            error={failed.error}
            title={`Could not load ${metricKey}`}
            onRetry={() => void failed.refetch()}
          />
        ) : pending ? (
          <div className="compare-chart-placeholder">
            <Spinner label="Loading the series…" />
          </div>
        ) : singleValues ? (
          <p className="muted compare-chart-single">
            Each run logged one value of <code>{metricKey}</code>; the table above compares them.
          </p>
        ) : (
          <MetricChart
            series={series}
            xLabel={options.xAxis === 'time' ? 'Time since first point' : 'Step'}
            logScale={options.logScale}
            smoothing={options.smoothing}
            height={220}
            {...(options.xAxis === 'time' ? { formatX: formatElapsed } : {})}
          />
        )}
      </div>
    </section>
  );
}

export function CompareCharts({
  runs,
  colors,
  options,
}: {
  runs: RunDetails[];
  colors: string[];
  options: ChartOptions;
}) {
  const keys = useMemo(() => {
    const all = new Set<string>();
    for (const run of runs) for (const key of Object.keys(run.metrics ?? {})) all.add(key);
    return [...all].sort(new Intl.Collator(undefined, { numeric: true }).compare);
  }, [runs]);
  if (keys.length === 0) {
    return <p className="muted compare-empty-note">None of these runs logged a metric.</p>;
  }
  return (
    <div className="compare-charts">
      {keys.map((key) => (
        <MetricCard key={key} metricKey={key} runs={runs} colors={colors} options={options} />
      ))}
    </div>
  );
}
