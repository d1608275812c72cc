/**
 * The dataset page (`/datasets/:name/*?version=N`): a version picker and tabs that are sub-routes, so
 * every view of every version is a deep link (without `?version=` the latest is shown):
 *
 *   /datasets/:name            Overview (definition, fingerprint, files, producer)
 *   /datasets/:name/preview    Preview (the first 100 rows; tabular datasets only)
 *   /datasets/:name/profile    Profile (per-column statistics, computed by the server on first view; tabular only)
 *   /datasets/:name/files      Files (what the version was registered with)
 *   /datasets/:name/lineage    Lineage (the runs that consumed and produced it)
 *
 * Archived versions are in the picker (marked), but "latest" is the newest one that is not archived. The
 * header has the lifecycle actions (pages/dataset/DatasetLifecycle.tsx); a note above the tabs says what a
 * deprecated or archived version means and links the replacement.
 */
import './dataset/Dataset.css';

import type { ReactNode } from 'react';
import { Link, Route, Routes, useParams, useSearchParams } from 'react-router-dom';

import { useDatasetVersions } from '../api/queries';
import type { DatasetVersionInfo } from '../api/types';
import { EmptyState } from '../components/EmptyState';
import { PageHeader } from '../components/PageHeader';
import { Spinner } from '../components/Spinner';
import { NoVersions, VersionPicker, ViewTabs, versionSetter } from '../components/Versioned';
import { datasetUrl } from '../lib/data';
import { useTitle } from '../lib/useTitle';
import { DatasetKindBadge, DatasetStateBadge } from './dataset/DataParts';
import { DatasetFiles } from './dataset/DatasetFiles';
import { DatasetLifecycleActions, DatasetStateNote } from './dataset/DatasetLifecycle';
import { DatasetLineage } from './dataset/DatasetLineage';
import { DatasetOverview } from './dataset/DatasetOverview';
import { DatasetPreviewTab } from './dataset/DatasetPreview';
import { DatasetProfileTab } from './dataset/DatasetProfile';

const TABS = [
  { to: '', label: 'Overview', id: 'overview', tabularOnly: false },
  { to: 'preview', label: 'Preview', id: 'preview', tabularOnly: true },
  { to: 'profile', label: 'Profile', id: 'profile', tabularOnly: true },
  { to: 'files', label: 'Files', id: 'files', tabularOnly: false },
  { to: 'lineage', label: 'Lineage', id: 'lineage', tabularOnly: false },
] as const;

/** The version asked for in the address, or null for the latest. */
function requestedVersion(value: string | null): number | null {
  if (value === null || !/^\d+$/.test(value)) return null;
  const version = Number(value);
  return version >= 1 ? version : null;
}

export default function DatasetDetail() {
  const { name = '' } = useParams();
  const [params, setParams] = useSearchParams();
  const requested = requestedVersion(params.get('version'));
  const versions = useDatasetVersions(name);
  useTitle(requested ? `${name} v${requested}` : name);

  const header = (extra?: { subtitle?: string | null; actions?: ReactNode }) => (
    <PageHeader
      title={name}
      subtitle={extra?.subtitle || undefined}
      breadcrumbs={<Link to="/datasets">Datasets</Link>}
      actions={extra?.actions}
    />
  );

  if (versions.isPending) return <Spinner label="Loading the dataset…" />;
  if (versions.isError || versions.data.length === 0) {
    return (
      <NoVersions
        header={header()}
        what="dataset"
        name={name}
        listPath="/datasets"
        error={versions.isError ? versions.error : null}
        onRetry={() => void versions.refetch()}
      />
    );
  }

  const all = versions.data;
  const latest = all.find((v) => v.state !== 'archived') ?? (all[0] as DatasetVersionInfo);
  const dataset = requested === null ? latest : all.find((v) => v.version === requested);
  const search = requested === null ? '' : `?version=${requested}`;
  const base = datasetUrl(name);
  const select = versionSetter(setParams);

  return (
    <div className="page dataset-page" data-testid="dataset-page" data-version={dataset?.version}>
      {header({
        subtitle: dataset?.description,
        actions: (
          <>
            <DatasetKindBadge kind={(dataset ?? latest).kind} />
            <DatasetStateBadge state={(dataset ?? latest).state} />
            <VersionPicker
              versions={all}
              selected={(dataset ?? latest).version}
              onSelect={select}
              label={(v) =>
                `v${v.version}${v.id === latest.id ? ' (latest)' : v.state && v.state !== 'active' ? ` (${v.state})` : ''}`
              }
              testId="dataset-version-select"
            />
            {dataset && <DatasetLifecycleActions dataset={dataset} versions={all} />}
          </>
        ),
      })}
      {dataset && <DatasetStateNote dataset={dataset} />}
      <ViewTabs
        label="Dataset views"
        tabs={TABS.filter((tab) => !(tab.tabularOnly && (dataset ?? latest).kind !== 'tabular'))}
        base={base}
        search={search}
      />
      {dataset === undefined ? (
        <section className="card">
          <EmptyState title={`Version ${requested ?? ''} does not exist`}>
            The latest version of <code>{name}</code> is v{latest.version}.{' '}
            <Link to={base}>Open the latest (v{latest.version})</Link>.
          </EmptyState>
        </section>
      ) : (
        <Routes>
          <Route index element={<DatasetOverview dataset={dataset} latest={latest} />} />
          <Route path="preview" element={<DatasetPreviewTab dataset={dataset} />} />
          <Route path="profile" element={<DatasetProfileTab dataset={dataset} />} />
          <Route path="files" element={<DatasetFiles dataset={dataset} />} />
          <Route path="lineage" element={<DatasetLineage dataset={dataset} />} />
          <Route
            path="*"
            element={
              <section className="card">
                <EmptyState title="This dataset has no such view">
                  <Link to={`${base}${search}`}>Back to the dataset's overview</Link>
                </EmptyState>
              </section>
            }
          />
        </Routes>
      )}
    </div>
  );
}
