/**
 * The model page (`/models/:name/*?version=N`): a version picker (aliases beside each version), a
 * Delete action, and tabs that are sub-routes, so every view of every version is a deep link (without
 * `?version=` the latest is shown; `?version=production` opens the version an alias points at):
 *
 *   /models/:name            Overview (description, tags, properties, aliases, MLflow flavors and signature)
 *   /models/:name/files      Files (each downloadable)
 *   /models/:name/lineage    Lineage (the run that produced it, its experiment, the dataset versions)
 */
import './dataset/Dataset.css';
import './run/RunDetail.css';
import './model/Model.css';

import type { ReactNode } from 'react';
import { Link, Route, Routes, useParams, useSearchParams } from 'react-router-dom';

import { useModelVersions } from '../api/queries';
import type { ModelInfo } from '../api/types';
import { EmptyState } from '../components/EmptyState';
import { PageHeader } from '../components/PageHeader';
import { Spinner } from '../components/Spinner';
import { NoVersions, VersionPicker, ViewTabs, versionSetter } from '../components/Versioned';
import { modelUrl, resolveVersion, versionLabel } from '../lib/models';
import { useTitle } from '../lib/useTitle';
import { ModelDeleteButton } from './model/ModelDelete';
import { ModelFiles } from './model/ModelFiles';
import { ModelLineage } from './model/ModelLineage';
import { ModelOverview } from './model/ModelOverview';
import { ModelFormatBadge } from './model/ModelParts';

const TABS = [
  { to: '', label: 'Overview', id: 'overview' },
  { to: 'files', label: 'Files', id: 'files' },
  { to: 'lineage', label: 'Lineage', id: 'lineage' },
] as const;

export default function ModelDetail() {
  const { name = '' } = useParams();
  const [params, setParams] = useSearchParams();
  const requested = params.get('version');
  const versions = useModelVersions(name);
  useTitle(requested ? `${name} ${/^\d+$/.test(requested) ? `v${requested}` : `@${requested}`}` : name);

  const header = (extra?: { subtitle?: string | null; actions?: ReactNode }) => (
    <PageHeader
      title={name}
      subtitle={extra?.subtitle || undefined}
      breadcrumbs={<Link to="/models">Models</Link>}
      actions={extra?.actions}
    />
  );

  if (versions.isPending) return <Spinner label="Loading the model…" />;
  if (versions.isError || versions.data.length === 0) {
    return (
      <NoVersions
        header={header()}
        what="model"
        name={name}
        listPath="/models"
        error={versions.isError ? versions.error : null}
        onRetry={() => void versions.refetch()}
      />
    );
  }

  const all = versions.data;
  const latest = all[0] as ModelInfo;
  const model = resolveVersion(all, requested);
  const search = requested === null ? '' : `?version=${encodeURIComponent(requested)}`;
  const base = modelUrl(name);
  const select = versionSetter(setParams);

  return (
    <div className="page model-page" data-testid="model-page" data-version={model?.version}>
      {header({
        subtitle: model?.description,
        actions: (
          <>
            {(model ?? latest).format === 'mlflow' && <ModelFormatBadge format="mlflow" />}
            <VersionPicker
              versions={all}
              selected={(model ?? latest).version}
              onSelect={select}
              label={(v, index) => versionLabel(v, { latest: index === 0 })}
              testId="model-version-select"
            />
            {model && <ModelDeleteButton model={model} versions={all} />}
          </>
        ),
      })}
      <ViewTabs label="Model views" tabs={TABS} base={base} search={search} />
      {model === undefined ? (
        <section className="card">
          <EmptyState
            title={/^\d+$/.test(requested ?? '') ? `Version ${requested ?? ''} does not exist` : `No version has the alias “${requested ?? ''}”`}
          >
            The latest version of <code>{name}</code> is v{latest.version}.{' '}
            <Link to={base}>Open the latest (v{latest.version})</Link>.
          </EmptyState>
        </section>
      ) : (
        <Routes>
          <Route index element={<ModelOverview model={model} versions={all} />} />
          <Route path="files" element={<ModelFiles model={model} />} />
          <Route path="lineage" element={<ModelLineage model={model} />} />
          <Route
            path="*"
            element={
              <section className="card">
                <EmptyState title="This model has no such view">
                  <Link to={`${base}${search}`}>Back to the model's overview</Link>
                </EmptyState>
              </section>
            }
          />
        </Routes>
      )}
    </div>
  );
}
