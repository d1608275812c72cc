/**
 * Inline editors shared by the pages of things a user describes and tags (runs, model versions): a
 * description that turns into a text area, and a tag list with remove buttons and an add form. The page
 * owns the mutations (what to PATCH and what to refresh); these own the drafts and the markup.
 */
import type { UseMutationResult } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';

import { ErrorBanner } from './ErrorBanner';

export function DescriptionEditor({
  text,
  testId,
  inputId,
  save,
}: {
  text: string | null | undefined;
  /** `data-testid` of the shown description. */
  testId: string;
  inputId: string;
  save: UseMutationResult<unknown, Error, string>;
}) {
  const [draft, setDraft] = useState<string | null>(null);

  if (draft === null) {
    return (
      <div className="run-description">
        {text ? (
          <p className="run-description-text" data-testid={testId}>
            {text}
          </p>
        ) : (
          <p className="muted run-none" data-testid={testId}>
            No description.
          </p>
        )}
        <button
          type="button"
          className="button small"
          data-testid="edit-description"
          onClick={() => {
            save.reset();
            setDraft(text ?? '');
          }}
        >
          {text ? 'Edit' : 'Add a description'}
        </button>
      </div>
    );
  }
  const submit = (event?: FormEvent) => {
    event?.preventDefault();
    save.mutate(draft, { onSuccess: () => setDraft(null) });
  };
  return (
    <form className="run-description-form" onSubmit={submit}>
      <label className="visually-hidden" htmlFor={inputId}>
        Description
      </label>
      <textarea
        id={inputId}
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

export interface Tag {
  key: string;
  value: string;
}

export function TagEditor({
  tags,
  listTestId,
  itemTestId,
  add,
  remove,
}: {
  tags: Record<string, string>;
  /** `data-testid` of the list and of each tag in it. */
  listTestId: string;
  itemTestId: string;
  add: UseMutationResult<unknown, Error, Tag>;
  remove: UseMutationResult<unknown, Error, string>;
}) {
  const [key, setKey] = useState('');
  const [value, setValue] = useState('');
  const entries = Object.entries(tags).sort(([a], [b]) => a.localeCompare(b));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (key.trim() === '') return;
    add.mutate(
      { key: key.trim(), value },
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
        <ul className="run-tag-list" data-testid={listTestId}>
          {entries.map(([tagKey, tagValue]) => (
            <li key={tagKey} className="run-tag" data-testid={itemTestId} data-key={tagKey}>
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
