/**
 * A tabular dataset version's profile: per-column counts, missing and unique values, min/max/mean/std,
 * quantiles and a histogram (numbers) or the most frequent values (anything else). The server
 * computes it on the first request — reading every row, which can take a while — and caches it;
 * Recompute asks for a fresh one.
 */
import { useMutation, useQueryClient } from '@tanstack/react-query';

import { api, unwrap } from '../../api/client';
import { datasetProfileKey, useDatasetProfile } from '../../api/queries';
import type { DatasetVersionInfo } from '../../api/types';
import { ErrorBanner } from '../../components/ErrorBanner';
import { RelativeTime } from '../../components/RelativeTime';
import { Spinner } from '../../components/Spinner';
import { formatShare, formatValue, histogramBars, quantileRows, topValueShares } from '../../lib/data';
import { formatDuration, formatNumber, plural } from '../../lib/format';
import { formatBytes } from '../run/RunFiles';
import { FileDatasetNote } from './DatasetPreview';

/** One column of a profile as the client returns it (openapi-fetch reads the schema's tuples as arrays). */
type ColumnProfile = NonNullable<ReturnType<typeof useDatasetProfile>['data']>['columns'][number];

const HISTOGRAM_WIDTH = 300;
const HISTOGRAM_HEIGHT = 64;

function Histogram({ column }: { column: ColumnProfile }) {
  const bins = column.histogram ?? [];
  const bars = histogramBars(bins, { width: HISTOGRAM_WIDTH, height: HISTOGRAM_HEIGHT, gap: bins.length > 40 ? 0.5 : 1.5, minHeight: 2 });
  const low = bins[0]?.[0];
  const high = bins[bins.length - 1]?.[1];
  if (low === undefined || high === undefined) return null;
  return (
    <figure className="profile-histogram">
      <svg
        viewBox={`0 0 ${HISTOGRAM_WIDTH} ${HISTOGRAM_HEIGHT}`}
        preserveAspectRatio="none"
        role="img"
        aria-label={`Histogram of ${column.name}: ${bins.length} bins from ${formatNumber(low)} to ${formatNumber(high)}`}
        data-testid="profile-histogram"
        data-bins={bins.length}
      >
        {bars.map((bar, index) => (
          <rect
            key={index}
            className="profile-bar"
            x={bar.x}
            y={bar.height > 0 ? bar.y : HISTOGRAM_HEIGHT - 0.5}
            width={bar.width}
            height={bar.height > 0 ? bar.height : 0.5}
            data-count={bar.count}
          >
            <title>{`${formatNumber(bar.low)} to ${formatNumber(bar.high)}: ${plural(bar.count, 'row')}`}</title>
          </rect>
        ))}
      </svg>
      <figcaption className="profile-axis">
        <span>{formatNumber(low)}</span>
        <span>{formatNumber(high)}</span>
      </figcaption>
    </figure>
  );
}

function TopValues({ column }: { column: ColumnProfile }) {
  const values = topValueShares(column.top_values ?? []);
  if (values.length === 0) return null;
  return (
    <table className="profile-top" data-testid="profile-top-values">
      <caption className="visually-hidden">The most frequent values of {column.name}</caption>
      <tbody>
        {values.map((value, index) => (
          <tr key={index}>
            <th scope="row" className="mono truncate" title={value.label}>
              {value.label}
            </th>
            <td className="profile-top-bar">
              <svg viewBox="0 0 100 8" preserveAspectRatio="none" aria-hidden="true" focusable="false">
                <rect className="profile-bar" x={0} y={0} width={Math.max(value.share * 100, 1)} height={8} />
              </svg>
            </td>
            <td className="num">{value.count.toLocaleString()}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Stat({ label, value, tone }: { label: string; value: string; tone?: 'warn' }) {
  return (
    <>
      <dt>{label}</dt>
      <dd className={`mono${tone ? ` profile-${tone}` : ''}`}>{value}</dd>
    </>
  );
}

function ColumnCard({ column, rows }: { column: ColumnProfile; rows: number }) {
  const quantiles = quantileRows(column.quantiles);
  const numeric = (column.histogram ?? []).length > 0 || (column.mean !== null && column.mean !== undefined);
  return (
    <section className="card profile-column" aria-label={`Column ${column.name}`} data-testid="profile-column" data-column={column.name}>
      <header>
        <h3 className="mono truncate" title={column.name}>
          {column.name}
        </h3>
        <span className="badge">{column.type}</span>
      </header>
      <div className="card-body">
        <dl className="profile-stats">
          <Stat label="Count" value={column.count.toLocaleString()} />
          <Stat
            label="Missing"
            value={`${column.missing.toLocaleString()} (${formatShare(column.missing, rows)})`}
            tone={column.missing > 0 ? 'warn' : undefined}
          />
          <Stat label="Unique" value={column.unique === null || column.unique === undefined ? '—' : column.unique.toLocaleString()} />
          <Stat label="Min" value={formatValue(column.min)} />
          <Stat label="Max" value={formatValue(column.max)} />
          {numeric && (
            <>
              <Stat label="Mean" value={formatValue(column.mean)} />
              <Stat label="Std" value={formatValue(column.std)} />
            </>
          )}
        </dl>
        {quantiles.length > 0 && (
          <dl className="profile-quantiles" aria-label="Quantiles">
            {quantiles.map(([label, value]) => (
              <div key={label}>
                <dt>{label}</dt>
                <dd className="mono">{formatNumber(value)}</dd>
              </div>
            ))}
          </dl>
        )}
        <Histogram column={column} />
        <TopValues column={column} />
      </div>
    </section>
  );
}

export function DatasetProfileTab({ dataset }: { dataset: DatasetVersionInfo }) {
  const queryClient = useQueryClient();
  const tabular = dataset.kind === 'tabular';
  const profile = useDatasetProfile(dataset.id, { enabled: tabular });
  const recompute = useMutation({
    mutationFn: () =>
      unwrap(api.POST('/api/v1/dataset-versions/{dataset_id}/profile', { params: { path: { dataset_id: dataset.id } } })),
    onSuccess: (fresh) => queryClient.setQueryData(datasetProfileKey(dataset.id), fresh),
  });

  if (!tabular) return <FileDatasetNote dataset={dataset} title="A file dataset has no columns to profile" />;

  const busy = profile.isPending || recompute.isPending;
  const what = `${plural(dataset.file_count, 'file')}, ${formatBytes(dataset.total_size)}`;
  const loading = recompute.isPending
    ? `Recomputing the profile: reading every row (${what})…`
    : dataset.has_profile
      ? 'Loading the profile…'
      : `Computing the profile: reading every row (${what}). This can take a while on large datasets; it is kept for next time.`;

  return (
    <div className="stack">
      <section className="card" aria-label="Profile summary">
        <header>
          <h2 data-testid="profile-summary">
            {profile.data ? (
              <>
                {plural(profile.data.row_count, 'row')}
                <span className="muted data-heading-note"> · {plural(profile.data.columns.length, 'column')}</span>
              </>
            ) : (
              'Profile'
            )}
          </h2>
          <div className="toolbar">
            {profile.data && (
              <span className="muted" data-testid="profile-computed">
                computed <RelativeTime value={profile.data.computed_time} /> in {formatDuration(profile.data.duration_seconds)}
              </span>
            )}
            <button
              type="button"
              className="button"
              disabled={busy}
              onClick={() => recompute.mutate()}
              data-testid="profile-recompute"
            >
              {recompute.isPending ? 'Recomputing…' : 'Recompute'}
            </button>
          </div>
        </header>
        {busy && (
          <div data-testid="profile-loading">
            <Spinner label={loading} />
          </div>
        )}
        {recompute.isError && (
          <div className="card-body">
            <ErrorBanner error={recompute.error} title="Could not recompute the profile" />
          </div>
        )}
        {profile.isError && !recompute.isPending && (
          <div className="card-body">
            <ErrorBanner error={profile.error} title="Could not profile the dataset" onRetry={() => void profile.refetch()} />
          </div>
        )}
      </section>
      {profile.data && (
        <div className={`profile-grid${recompute.isPending ? ' stale' : ''}`} data-testid="profile-columns">
          {profile.data.columns.map((column) => (
            <ColumnCard key={column.name} column={column} rows={profile.data.row_count} />
          ))}
        </div>
      )}
    </div>
  );
}
