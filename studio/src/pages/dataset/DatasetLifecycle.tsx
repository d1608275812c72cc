/**
 * A dataset version's lifecycle, Azure ML's way: Deprecate (by another version of the dataset: it still
 * reads, with a warning), Archive (hidden from lists and "latest", refused to readers and runs),
 * Reactivate, and Unregister (every version of the name; runs keep their lineage). Each action asks in a
 * dialog that shows the server's refusal (a 409 says why) and stays open.
 *
 * The studio offers the dataset's own versions as replacements; the SDK and CLI take any version.
 */
import '../ExperimentRuns.css'; // the dialog's styles (RunsConfirmDialog)

import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useNavigate } from 'react-router-dom';

import { api, unwrap } from '../../api/client';
import type { DatasetVersionInfo } from '../../api/types';
import { RunsConfirmDialog } from '../../components/RunsConfirmDialog';
import { datasetUrl } from '../../lib/data';

type Action = 'deprecate' | 'archive' | 'reactivate' | 'unregister';

const TITLES: Record<Action, string> = {
  deprecate: 'Deprecate',
  archive: 'Archive',
  reactivate: 'Reactivate',
  unregister: 'Unregister',
};

/** The address of a version (`/datasets/iris?version=2`). */
export function datasetVersionUrl(name: string, version: number): string {
  return `${datasetUrl(name)}?version=${version}`;
}

/** A note above the tabs: what a deprecated or archived version means, and where its replacement is. */
export function DatasetStateNote({ dataset }: { dataset: DatasetVersionInfo }) {
  if (dataset.state === 'deprecated') {
    const name = dataset.deprecated_by_name;
    const version = dataset.deprecated_by_version;
    return (
      <p className="dataset-state-note warn" role="status" data-testid="dataset-state-note">
        Version {dataset.version} is deprecated: it still reads, with a warning. Use{' '}
        {name && version ? (
          <Link to={datasetVersionUrl(name, version)} data-testid="dataset-deprecated-by">
            {name} v{version}
          </Link>
        ) : (
          <code>{dataset.deprecated_by}</code>
        )}{' '}
        instead.
      </p>
    );
  }
  if (dataset.state === 'archived') {
    return (
      <p className="dataset-state-note" role="status" data-testid="dataset-state-note">
        Version {dataset.version} is archived: it is left out of lists and “latest”, and reading it or running on
        it is refused until it is reactivated.
      </p>
    );
  }
  return null;
}

export function DatasetLifecycleActions({
  dataset,
  versions,
}: {
  dataset: DatasetVersionInfo;
  versions: readonly DatasetVersionInfo[];
}) {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [action, setAction] = useState<Action | null>(null);
  const replacements = versions.filter((v) => v.id !== dataset.id && (v.state ?? 'active') === 'active');
  const [replacement, setReplacement] = useState<string>('');
  const state = dataset.state ?? 'active';
  const path = { params: { path: { dataset_id: dataset.id } } };

  const change = useMutation({
    mutationFn: async (what: Action) => {
      if (what === 'deprecate') {
        return unwrap(
          api.POST('/api/v1/dataset-versions/{dataset_id}/deprecate', {
            ...path,
            body: { deprecated_by: replacement || (replacements[0]?.id ?? '') },
          }),
        );
      }
      if (what === 'archive') return unwrap(api.POST('/api/v1/dataset-versions/{dataset_id}/archive', path));
      if (what === 'reactivate') return unwrap(api.POST('/api/v1/dataset-versions/{dataset_id}/reactivate', path));
      return unwrap(api.DELETE('/api/v1/datasets/{name}', { params: { path: { name: dataset.name } } }));
    },
    onSuccess: async (_answer, what) => {
      setAction(null);
      if (what === 'unregister') {
        await navigate('/datasets', { replace: true });
        queryClient.removeQueries({ queryKey: ['datasets', dataset.name] });
      }
      await queryClient.invalidateQueries({ queryKey: ['datasets'] });
    },
  });

  const open = (what: Action) => {
    change.reset();
    setReplacement(replacements[0]?.id ?? '');
    setAction(what);
  };
  const button = (what: Action, danger = false) => (
    <button
      type="button"
      className={`button${danger ? ' danger' : ''}`}
      onClick={() => open(what)}
      data-testid={`dataset-${what}`}
    >
      {TITLES[what]}
    </button>
  );
  const count = versions.length;

  return (
    <>
      {state === 'active' && button('deprecate')}
      {state !== 'archived' && button('archive')}
      {state !== 'active' && button('reactivate')}
      {button('unregister', true)}
      <RunsConfirmDialog
        open={action !== null}
        title={action ? `${TITLES[action]} ${action === 'unregister' ? dataset.name : `${dataset.name} v${dataset.version}`}?` : ''}
        confirmLabel={action ? TITLES[action] : ''}
        busy={change.isPending}
        error={change.error ? change.error.message : null}
        onConfirm={() => action && change.mutate(action)}
        onCancel={() => setAction(null)}
      >
        <div className="dataset-dialog-text" data-testid="dataset-lifecycle-text">
          {action === 'deprecate' && (
            <>
              <p>Readers and runs of v{dataset.version} keep working and are warned to use the replacement.</p>
              {replacements.length === 0 ? (
                <p>No other active version of {dataset.name} can replace it (the SDK and CLI take any dataset).</p>
              ) : (
                <label>
                  Replacement{' '}
                  <select
                    value={replacement}
                    onChange={(event) => setReplacement(event.target.value)}
                    data-testid="dataset-replacement"
                  >
                    {replacements.map((v) => (
                      <option key={v.id} value={v.id}>
                        v{v.version}
                      </option>
                    ))}
                  </select>
                </label>
              )}
            </>
          )}
          {action === 'archive' && (
            <p>
              v{dataset.version} leaves lists and “latest”; reading it or running on it is refused until it is
              reactivated. Runs that used it keep their lineage.
            </p>
          )}
          {action === 'reactivate' && <p>v{dataset.version} becomes active again.</p>}
          {action === 'unregister' && (
            <p>
              Every version of {dataset.name} ({count === 1 ? '1 version' : `${count} versions`}) leaves the
              workspace's names and lists. The files stay where they are, runs keep their lineage, and registering
              the name again continues its version numbers. This cannot be undone.
            </p>
          )}
        </div>
      </RunsConfirmDialog>
    </>
  );
}
