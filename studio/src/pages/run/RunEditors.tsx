/** The parts of a run a user edits on its page, even after it ended: description and tags. */
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';

import { api, unwrap } from '../../api/client';
import type { RunInfo } from '../../api/client';
import { ErrorBanner } from '../../components/ErrorBanner';

export function RunDescription({ run }: { run: RunInfo }) {
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: (description: string) =>
      unwrap(api.PATCH('/api/v1/runs/{run_id}', { params: { path: { run_id: run.id } }, body: { description } })),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ['runs', run.id] });
      setDraft(null);
    },
  });

  if (draft === null) {
    return (
      <div className="run-description">
        {run.description ? (
          <p className="run-description-text" data-testid="run-description">
            {run.description}
          </p>
        ) : (
          <p className="muted run-none" data-testid="run-description">
            No description.
          </p>
        )}
        <button type="button" className="button small" data-testid="edit-description" onClick={() => setDraft(run.description ?? '')}>
          {run.description ? 'Edit' : 'Add a description'}
        </button>
      </div>
    );
  }
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate(draft);
  };
  return (
    <form className="run-description-form" onSubmit={submit}>
      <label className="visually-hidden" htmlFor="run-description-input">
        Description
      </label>
      <textarea
        id="run-description-input"
        data-testid="description-input"
        className="run-input"
        rows={4}
        maxLength={20000}
        value={draft}
        autoFocus
        onChange={(event) => setDraft(event.target.value)}
        onKeyDown={(event) => {
          if (event.key === 'Escape') setDraft(null);
          if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) save.mutate(draft);
        }}
      />
      <div className="run-form-actions">
        <button type="submit" className="button primary" data-testid="save-description" disabled={save.isPending}>
          {save.isPending ? 'Saving…' : 'Save'}
        </button>
        <button type="button" className="button" onClick={() => setDraft(null)} disabled={save.isPending}>
          Cancel
        </button>
      </div>
      {save.isError && <ErrorBanner error={save.error} title="Could not save the description" />}
    </form>
  );
}

export function RunTags({ runId, tags }: { runId: string; tags: Record<string, string> }) {
  const queryClient = useQueryClient();
  const [key, setKey] = useState('');
  const [value, setValue] = useState('');
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['runs'] });
  const add = useMutation({
    mutationFn: (tag: { key: string; value: string }) =>
      unwrap(
        api.PATCH('/api/v1/runs/{run_id}/tags', {
          params: { path: { run_id: runId } },
          body: { tags: { [tag.key]: tag.value } },
        }),
      ),
    onSuccess: async () => {
      await refresh();
      setKey('');
      setValue('');
    },
  });
  const remove = useMutation({
    mutationFn: (tagKey: string) =>
      unwrap(api.DELETE('/api/v1/runs/{run_id}/tags/{key}', { params: { path: { run_id: runId, key: tagKey } } })),
    onSuccess: refresh,
  });
  const entries = Object.entries(tags).sort(([a], [b]) => a.localeCompare(b));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (key.trim() !== '') add.mutate({ key: key.trim(), value });
  };
  return (
    <div className="run-tags">
      {entries.length === 0 ? (
        <p className="muted run-none">No tags.</p>
      ) : (
        <ul className="run-tag-list" data-testid="run-tags">
          {entries.map(([tagKey, tagValue]) => (
            <li key={tagKey} className="run-tag" data-testid="run-tag" data-key={tagKey}>
              <span className="run-tag-key">{tagKey}</span>
              {tagValue !== '' && <span className="run-tag-value">{tagValue}</span>}
              <button
                type="button"
                className="run-tag-remove"
                aria-label={`Remove tag ${tagKey}`}
                title={`Remove tag ${tagKey}`}
                data-testid="remove-tag"
                disabled={remove.isPending}
                onClick={() => remove.mutate(tagKey)}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      <form className="run-tag-form" onSubmit={submit} aria-label="Add a tag">
        <input
          className="run-input"
          placeholder="key"
          aria-label="Tag key"
          data-testid="tag-key"
          value={key}
          maxLength={250}
          onChange={(event) => setKey(event.target.value)}
        />
        <input
          className="run-input"
          placeholder="value"
          aria-label="Tag value"
          data-testid="tag-value"
          value={value}
          onChange={(event) => setValue(event.target.value)}
        />
        <button type="submit" className="button small" data-testid="add-tag" disabled={add.isPending || key.trim() === ''}>
          Add tag
        </button>
      </form>
      {add.isError && <ErrorBanner error={add.error} title="Could not add the tag" />}
      {remove.isError && <ErrorBanner error={remove.error} title="Could not remove the tag" />}
    </div>
  );
}
