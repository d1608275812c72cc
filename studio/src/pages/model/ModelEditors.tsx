/**
 * What a user changes on a model version's page: its description, its tags (added / removed) and the
 * aliases that point at it (set here, moving them from another version, or removed).
 */
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { useSearchParams } from 'react-router-dom';

import { api, unwrap } from '../../api/client';
import type { ModelInfo, ModelUpdate } from '../../api/types';
import { DescriptionEditor, type Tag, TagEditor } from '../../components/Editors';
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
  const update = useModelUpdate(model);
  const save = useMutation({ mutationFn: (description: string) => update.mutateAsync({ description }) });
  return <DescriptionEditor text={model.description} testId="model-description" inputId="model-description-input" save={save} />;
}

export function ModelTags({ model }: { model: ModelInfo }) {
  const update = useModelUpdate(model);
  const add = useMutation({ mutationFn: (tag: Tag) => update.mutateAsync({ add_tags: { [tag.key]: tag.value } }) });
  const remove = useMutation({ mutationFn: (tagKey: string) => update.mutateAsync({ remove_tags: [tagKey] }) });
  return <TagEditor tags={model.tags ?? {}} listTestId="model-tags" itemTestId="model-tag" add={add} remove={remove} />;
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
