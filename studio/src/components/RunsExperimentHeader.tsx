import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router-dom';

import { api, type ExperimentInfo, unwrap } from '../api/client';
import { plural } from '../lib/format';
import { PageHeader } from './PageHeader';
import { RelativeTime } from './RelativeTime';
import { RunsConfirmDialog } from './RunsConfirmDialog';

function errorText(error: unknown): string | null {
  return error instanceof Error ? error.message : error ? String(error) : null;
}

/** The experiment page's header: name, description (editable in place), run count, tags, archive/restore. */
export function RunsExperimentHeader({ experiment }: { experiment: ExperimentInfo }) {
  const queryClient = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const archived = experiment.lifecycle_stage !== 'active';
  const path = { experiment_id: experiment.id };

  const saved = (info: ExperimentInfo) => {
    queryClient.setQueryData(['experiments', experiment.id], info);
    // The lists (and the home page's counts) show the description and hide archived experiments.
    void queryClient.invalidateQueries({ queryKey: ['experiments'], predicate: (q) => q.queryKey[1] !== experiment.id });
  };

  const lifecycle = useMutation({
    mutationFn: (action: 'archive' | 'restore') =>
      unwrap(
        action === 'archive'
          ? api.POST('/api/v1/experiments/{experiment_id}/archive', { params: { path } })
          : api.POST('/api/v1/experiments/{experiment_id}/restore', { params: { path } }),
      ),
    onSuccess: (info) => {
      saved(info);
      setConfirming(false);
    },
  });

  const action = archived ? 'restore' : 'archive';
  const tags = Object.entries(experiment.tags ?? {});

  return (
    <>
      <PageHeader
        title={
          <>
            {experiment.name}
            {archived && (
              <span className="badge runs-archived-badge" data-testid="experiment-archived">
                {experiment.lifecycle_stage === 'deleted' ? 'Deleted' : 'Archived'}
              </span>
            )}
          </>
        }
        breadcrumbs={<Link to="/experiments">Experiments</Link>}
        actions={
          <button
            type="button"
            className="button"
            data-testid={archived ? 'experiment-restore' : 'experiment-archive'}
            onClick={() => {
              lifecycle.reset();
              setConfirming(true);
            }}
          >
            {archived ? 'Restore' : 'Archive'}
          </button>
        }
      />
      <section className="card runs-about" aria-label="About this experiment">
        <DescriptionEditor experiment={experiment} onSaved={saved} />
        <dl className="runs-facts">
          <div>
            <dt>Runs</dt>
            <dd data-testid="experiment-run-count">{plural(experiment.run_count, 'run')}</dd>
          </div>
          <div>
            <dt>Last activity</dt>
            <dd>
              <RelativeTime value={experiment.last_activity_time ?? experiment.created_time} />
            </dd>
          </div>
          <div>
            <dt>Created</dt>
            <dd>
              <RelativeTime value={experiment.created_time} />
            </dd>
          </div>
          <div>
            <dt>ID</dt>
            <dd className="mono">{experiment.id}</dd>
          </div>
          {tags.length > 0 && (
            <div className="runs-tags-fact">
              <dt>Tags</dt>
              <dd>
                <ul className="runs-tags" aria-label="Tags">
                  {tags.map(([key, value]) => (
                    <li key={key} className="runs-tag">
                      <span>{key}</span>
                      {value && <span className="muted">{value}</span>}
                    </li>
                  ))}
                </ul>
              </dd>
            </div>
          )}
        </dl>
      </section>
      <RunsConfirmDialog
        open={confirming}
        title={archived ? `Restore ${experiment.name}?` : `Archive ${experiment.name}?`}
        confirmLabel={archived ? 'Restore' : 'Archive'}
        busy={lifecycle.isPending}
        error={errorText(lifecycle.error)}
        onConfirm={() => lifecycle.mutate(action)}
        onCancel={() => setConfirming(false)}
      >
        {archived
          ? 'It comes back to the experiments list and the home page.'
          : 'It leaves the experiments list (“Show archived” finds it). Its runs, metrics and files are kept, and you can restore it any time.'}
      </RunsConfirmDialog>
    </>
  );
}

function DescriptionEditor({
  experiment,
  onSaved,
}: {
  experiment: ExperimentInfo;
  onSaved: (info: ExperimentInfo) => void;
}) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState('');
  const save = useMutation({
    mutationFn: (description: string) =>
      unwrap(
        api.PATCH('/api/v1/experiments/{experiment_id}', {
          params: { path: { experiment_id: experiment.id } },
          body: { description },
        }),
      ),
    onSuccess: (info) => {
      onSaved(info);
      setEditing(false);
    },
  });

  if (!editing) {
    return (
      <div className="runs-description">
        {experiment.description ? (
          <p data-testid="experiment-description">{experiment.description}</p>
        ) : (
          <p className="muted" data-testid="experiment-description">
            No description.
          </p>
        )}
        <button
          type="button"
          className="button small"
          onClick={() => {
            setDraft(experiment.description ?? '');
            save.reset();
            setEditing(true);
          }}
        >
          {experiment.description ? 'Edit description' : 'Add a description'}
        </button>
      </div>
    );
  }
  return (
    <form
      className="runs-description editing"
      onSubmit={(event) => {
        event.preventDefault();
        save.mutate(draft.trim());
      }}
    >
      <label className="visually-hidden" htmlFor="experiment-description-input">
        Description
      </label>
      <textarea
        id="experiment-description-input"
        rows={3}
        autoFocus
        value={draft}
        onChange={(event) => setDraft(event.target.value)}
        onKeyDown={(event) => {
          if (event.key === 'Escape') setEditing(false);
          if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
            event.preventDefault();
            save.mutate(draft.trim());
          }
        }}
      />
      {save.isError && (
        <p className="runs-dialog-error" role="alert">
          {errorText(save.error)}
        </p>
      )}
      <div className="runs-description-actions">
        <button type="submit" className="button primary" disabled={save.isPending}>
          {save.isPending ? 'Saving…' : 'Save'}
        </button>
        <button type="button" className="button" onClick={() => setEditing(false)}>
          Cancel
        </button>
        <span className="muted">Ctrl+Enter saves, Escape cancels.</span>
      </div>
    </form>
  );
}
