/**
 * What a user changes on a model version's page: its description, its tags (added / removed) and the
 * aliases that point at it (set here, moving them from another version, or removed).
 */
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { useSearchParams } from 'react-router-dom';

import { api, unwrap } from '../../api/client';
import type { ModelInfo, ModelUpdate } from '../../api/types';
import { ErrorBanner } from '../../components/ErrorBanner';
import { ALIAS_PATTERN, aliasMoveNote, aliasesOf } from '../../lib/models';

/** A PATCH of the version, then every model list and page asks again. */
function useModelUpdate(model: ModelInfo) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: ModelUpdate) =>
      unwrap(api.PATCH('/api/v1/model-versions/{model_id}', { params: { path: { model_id: model.id } }, body })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['models'] }),
  });
}

export function ModelDescription({ model }: { model: ModelInfo }) {
  const [draft, setDraft] = useState<string | null>(null);
  const save = useModelUpdate(model);

  if (draft === null) {
    return (
      <div className="run-description">
        {model.description ? (
          <p className="run-description-text" data-testid="model-description">
            {model.description}
          </p>
        ) : (
          <p className="muted run-none" data-testid="model-description">
            No description.
          </p>
        )}
        <button
          type="button"
          className="button small"
          data-testid="edit-description"
          onClick={() => {
            save.reset();
            setDraft(model.description ?? '');
          }}
        >
          {model.description ? 'Edit' : 'Add a description'}
        </button>
      </div>
    );
  }
  const submit = (event?: FormEvent) => {
    event?.preventDefault();
    save.mutate({ description: draft }, { onSuccess: () => setDraft(null) });
  };
  return (
    <form className="run-description-form" onSubmit={submit}>
      <label className="visually-hidden" htmlFor="model-description-input">
        Description
      </label>
      <textarea
        id="model-description-input"
        data-testid="description-input"
        className="run-input"
        rows={4}
        maxLength={20000}
        value={draft}
        autoFocus
        onChange={(event) => setDraft(event.target.value)}
        onKeyDown={(event) => {
          if (event.key === 'Escape') setDraft(null);
          if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) submit();
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

export function ModelTags({ model }: { model: ModelInfo }) {
  const [key, setKey] = useState('');
  const [value, setValue] = useState('');
  const add = useModelUpdate(model);
  const remove = useModelUpdate(model);
  const entries = Object.entries(model.tags ?? {}).sort(([a], [b]) => a.localeCompare(b));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (key.trim() === '') return;
    add.mutate(
      { add_tags: { [key.trim()]: value } },
      {
        onSuccess: () => {
          setKey('');
          setValue('');
        },
      },
    );
  };
  return (
    <div className="run-tags">
      {entries.length === 0 ? (
        <p className="muted run-none">No tags.</p>
      ) : (
        <ul className="run-tag-list" data-testid="model-tags">
          {entries.map(([tagKey, tagValue]) => (
            <li key={tagKey} className="run-tag" data-testid="model-tag" data-key={tagKey}>
              <span className="run-tag-key">{tagKey}</span>
              {tagValue !== '' && <span className="run-tag-value">{tagValue}</span>}
              <button
                type="button"
                className="run-tag-remove"
                aria-label={`Remove tag ${tagKey}`}
                title={`Remove tag ${tagKey}`}
                data-testid="remove-tag"
                disabled={remove.isPending}
                onClick={() => remove.mutate({ remove_tags: [tagKey] })}
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

export function ModelAliases({ model, versions }: { model: ModelInfo; versions: readonly ModelInfo[] }) {
  const queryClient = useQueryClient();
  const [alias, setAlias] = useState('');
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['models'] });
  const set = useMutation({
    mutationFn: (name: string) =>
      unwrap(
        api.PUT('/api/v1/models/{name}/aliases/{alias}', {
          params: { path: { name: model.name, alias: name } },
          body: { version: model.version },
        }),
      ),
    onSuccess: async () => {
      await refresh();
      setAlias('');
    },
  });
  const [params, setParams] = useSearchParams();
  const remove = useMutation({
    mutationFn: (name: string) =>
      unwrap(api.DELETE('/api/v1/models/{name}/aliases/{alias}', { params: { path: { name: model.name, alias: name } } })),
    onSuccess: async (_, name) => {
      // The address names the version by this alias (`?version=production`): keep showing it, by number.
      if (params.get('version') === name) {
        setParams(
          (previous) => {
            const next = new URLSearchParams(previous);
            next.set('version', String(model.version));
            return next;
          },
          { replace: true },
        );
      }
      await refresh();
    },
  });

  const mine = [...(model.aliases ?? [])].sort();
  const others = aliasesOf(versions).filter(([, version]) => version !== model.version);
  const wanted = alias.trim();
  const valid = ALIAS_PATTERN.test(wanted);
  const move = valid ? aliasMoveNote(versions, wanted, model.version) : null;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (valid && !mine.includes(wanted)) set.mutate(wanted);
  };

  return (
    <div className="run-tags">
      {mine.length === 0 ? (
        <p className="muted run-none">No alias points at this version.</p>
      ) : (
        <ul className="run-tag-list" data-testid="model-version-aliases">
          {mine.map((name) => (
            <li key={name} className="run-tag model-alias-chip" data-testid="version-alias" data-alias={name}>
              <span className="run-tag-key">@{name}</span>
              <button
                type="button"
                className="run-tag-remove"
                aria-label={`Remove alias ${name}`}
                title={`Remove alias ${name}`}
                data-testid="remove-alias"
                disabled={remove.isPending}
                onClick={() => remove.mutate(name)}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      <form className="run-tag-form" onSubmit={submit} aria-label="Set an alias on this version">
        <input
          className="run-input"
          placeholder="alias, e.g. production"
          aria-label="Alias"
          aria-invalid={wanted !== '' && !valid}
          data-testid="alias-input"
          value={alias}
          maxLength={63}
          onChange={(event) => setAlias(event.target.value)}
        />
        <button
          type="submit"
          className="button small"
          data-testid="set-alias"
          disabled={set.isPending || !valid || mine.includes(wanted)}
        >
          Set on v{model.version}
        </button>
      </form>
      {wanted !== '' && !valid && (
        <p className="muted run-none model-hint">An alias starts with a letter, then letters, digits, “_” or “-”.</p>
      )}
      {move && (
        <p className="model-hint model-hint-warn" data-testid="alias-move-note">
          {move}
        </p>
      )}
      {others.length > 0 && (
        <p className="muted run-none model-hint" data-testid="other-aliases">
          Other aliases:{' '}
          {others.map(([name, version], index) => (
            <span key={name}>
              {index > 0 && ', '}
              <span className="mono">@{name}</span> → v{version}
            </span>
          ))}
        </p>
      )}
      {set.isError && <ErrorBanner error={set.error} title="Could not set the alias" />}
      {remove.isError && <ErrorBanner error={remove.error} title="Could not remove the alias" />}
    </div>
  );
}
