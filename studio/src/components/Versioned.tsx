/**
 * The pieces a page of a versioned asset (a dataset, a model) shares: the version picker, the address's
 * `?version=` setter, the view tabs, and what the page shows when the asset cannot be loaded or has no
 * versions.
 */
import type { ReactNode } from 'react';
import { Link, NavLink, type SetURLSearchParams } from 'react-router-dom';

import { formatDate } from '../lib/format';
import { EmptyState } from './EmptyState';
import { ErrorBanner } from './ErrorBanner';

interface Version {
  id: string;
  version: number;
  created_time: string;
}

export function VersionPicker<T extends Version>({
  versions,
  selected,
  onSelect,
  label,
  testId,
}: {
  versions: T[];
  selected: number;
  onSelect: (version: number) => void;
  /** How one version reads in the list (the newest comes first). */
  label: (version: T, index: number) => string;
  testId: string;
}) {
  return (
    <label className="data-version-picker">
      <span className="muted">Version</span>
      <select
        className="search data-select"
        value={selected}
        onChange={(event) => onSelect(Number(event.target.value))}
        data-testid={testId}
      >
        {versions.map((v, index) => (
          <option key={v.id} value={v.version}>
            {`${label(v, index)} · ${formatDate(v.created_time)}`}
          </option>
        ))}
      </select>
    </label>
  );
}

/** Puts `?version=N` in the address (a new history entry, so Back returns to the previous version). */
export function versionSetter(setParams: SetURLSearchParams): (version: number) => void {
  return (version) =>
    setParams(
      (previous) => {
        const next = new URLSearchParams(previous);
        next.set('version', String(version));
        return next;
      },
      { replace: false },
    );
}

export interface ViewTab {
  id: string;
  label: string;
  to: string;
}

/** The tabs of a page's views, each keeping the address's `search` (the version). */
export function ViewTabs({
  label,
  tabs,
  base,
  search,
}: {
  label: string;
  tabs: readonly ViewTab[];
  base: string;
  search: string;
}) {
  return (
    <nav className="tabs" aria-label={label}>
      {tabs.map((tab) => (
        <NavLink
          key={tab.id}
          to={`${tab.to ? `${base}/${tab.to}` : base}${search}`}
          end={tab.to === ''}
          className={({ isActive }) => `tab${isActive ? ' active' : ''}`}
          data-testid={`tab-${tab.id}`}
        >
          {tab.label}
        </NavLink>
      ))}
    </nav>
  );
}

/** The page of an asset whose versions could not be loaded, or which has none. */
export function NoVersions({
  header,
  what,
  name,
  listPath,
  error,
  onRetry,
}: {
  header: ReactNode;
  /** "dataset", "model" */
  what: string;
  name: string;
  listPath: string;
  error: unknown;
  onRetry: () => void;
}) {
  return (
    <div className="page">
      {header}
      {error ? (
        <ErrorBanner error={error} title={`Could not load the ${what}`} onRetry={onRetry} />
      ) : (
        <section className="card">
          <EmptyState title={`No such ${what}`}>
            No {what} is registered as <code>{name}</code>. <Link to={listPath}>See every {what}</Link>.
          </EmptyState>
        </section>
      )}
    </div>
  );
}
