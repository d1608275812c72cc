/**
 * Models (`/models?q=&all=1`): the latest version of every registered model (or, with "All versions",
 * every version), with its aliases, framework, files and tags. The search box takes names and tag
 * filters (`stage=production`, `tag:reviewed`); tag filters are applied by the server.
 */
import './dataset/Dataset.css';
import './model/Model.css';

import { useEffect, useMemo, useRef, useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';

import { useModels } from '../api/queries';
import { EmptyState } from '../components/EmptyState';
import { ErrorBanner } from '../components/ErrorBanner';
import { PageHeader } from '../components/PageHeader';
import { RelativeTime } from '../components/RelativeTime';
import { Spinner } from '../components/Spinner';
import { plural } from '../lib/format';
import { frameworkLabel, matchesWords, modelUrl, parseModelSearch, toggleTerm } from '../lib/models';
import { useTitle } from '../lib/useTitle';
import { Snippet } from './dataset/DataParts';
import { AliasBadges, ModelFormatBadge, ModelTagChips } from './model/ModelParts';
import { formatBytes } from './run/RunFiles';

const SDK_SNIPPET = `import ember

ws = ember.Workspace.from_config()
ember.Model.register(ws, "outputs/model.pkl", "iris-clf", tags={"stage": "candidate"})`;

const RUN_SNIPPET = `# inside a run, from a file it stored (no bytes are copied):
run.upload_file("outputs/model.pkl", "model.pkl")
run.register_model("iris-clf", "outputs/model.pkl")`;

const CLI_SNIPPET = `ember model register outputs/model.pkl --name iris-clf --tag stage=candidate
ember model alias set iris-clf production 1`;

/** How long the search waits for typing to pause before asking the server. */
const SEARCH_DELAY_MS = 250;

function useDebounced<T>(value: T, delayMs: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = window.setTimeout(() => setSettled(value), delayMs);
    return () => window.clearTimeout(timer);
  }, [value, delayMs]);
  return settled;
}

/**
 * A search parameter mirrored in React state (the router applies address changes a render late,
 * which makes inputs stutter): `set` changes both, and a change of the address that this page did not
 * write (a link such as the sidebar's Models, back/forward) replaces the state.
 */
function useAddressParam(name: string): [string, (value: string) => void] {
  const [params, setParams] = useSearchParams();
  const address = params.get(name) ?? '';
  const [value, setValue] = useState(address);
  const seen = useRef(address);
  const pending = useRef<string[]>([]); // written, not yet seen in the address
  useEffect(() => {
    if (address === seen.current) return;
    seen.current = address;
    const ours = pending.current.indexOf(address);
    if (ours >= 0) pending.current.splice(0, ours + 1);
    else {
      pending.current = [];
      setValue(address);
    }
  }, [address]);
  const set = (next: string) => {
    setValue(next);
    const written = next.trim() === '' ? '' : next;
    // Writing what the address already says changes nothing there: no change to wait for.
    if (written !== seen.current || pending.current.length > 0) pending.current.push(written);
    setParams(
      (previous) => {
        const updated = new URLSearchParams(previous);
        if (written) updated.set(name, written);
        else updated.delete(name);
        return updated;
      },
      { replace: true },
    );
  };
  return [value, set];
}

export default function Models() {
  useTitle('Models');
  const [query, setQuery] = useAddressParam('q');
  const [allParam, setAllParam] = useAddressParam('all');
  const all = allParam === '1';
  const settled = useDebounced(query, SEARCH_DELAY_MS);
  const search = useMemo(() => parseModelSearch(settled), [settled]);
  const models = useModels({ latest: !all, tags: search.tags });

  const update = (next: { q?: string; all?: boolean }) => {
    if (next.q !== undefined) setQuery(next.q);
    if (next.all !== undefined) setAllParam(next.all ? '1' : '');
  };

  const shown = useMemo(() => (models.data ?? []).filter((m) => matchesWords(m, search.words)), [models.data, search.words]);
  const modelCount = new Set(shown.map((m) => m.name)).size;
  const searching = query.trim() !== '';
  const nothingRegistered = models.data !== undefined && models.data.length === 0 && search.tags.length === 0 && !searching;

  return (
    <div className="page model-list-page">
      <PageHeader
        title="Models"
        subtitle="Registered models with their versions, aliases and lineage (latest version of each)."
        actions={
          nothingRegistered ? undefined : (
            <>
              <label className="toggle">
                <input
                  type="checkbox"
                  checked={all}
                  onChange={(event) => update({ all: event.target.checked })}
                  data-testid="models-all-versions"
                />
                All versions
              </label>
              <label className="visually-hidden" htmlFor="model-search">
                Search models by name or tag
              </label>
              <input
                id="model-search"
                className="search model-search"
                type="search"
                placeholder="Name, key=value or tag:key"
                title="Words match names (or tag keys); key=value and tag:key filter by tags"
                value={query}
                onChange={(event) => update({ q: event.target.value })}
                data-testid="model-search"
              />
            </>
          )
        }
      />
      {models.isPending ? (
        <Spinner label="Loading models…" />
      ) : models.isError ? (
        <ErrorBanner error={models.error} title="Could not load models" onRetry={() => void models.refetch()} />
      ) : nothingRegistered ? (
        <section className="card">
          <EmptyState
            title="No models registered"
            actions={
              <>
                <Snippet label="Register a file or folder from Python" code={SDK_SNIPPET} />
                <Snippet label="or a file a run stored" code={RUN_SNIPPET} />
                <Snippet label="or from the command line" code={CLI_SNIPPET} />
              </>
            }
          >
            A model is a versioned set of files: each registration under a name is its next version. Aliases such as{' '}
            <code>production</code> point at a version, and a model registered from a run keeps it as lineage.
          </EmptyState>
        </section>
      ) : (
        <section className="card" aria-label="Models">
          <div className="table-wrap">
            <table
              className="data model-table"
              data-testid="models-table"
              data-ready={models.isPlaceholderData || settled !== query ? 'false' : 'true'}
            >
              <caption className="visually-hidden">
                {all ? plural(shown.length, 'model version') : plural(shown.length, 'model')}
              </caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col" className="num">
                    {all ? 'Version' : 'Latest'}
                  </th>
                  <th scope="col">Aliases</th>
                  <th scope="col">Framework</th>
                  <th scope="col" className="num">
                    Files
                  </th>
                  <th scope="col" className="num">
                    Size
                  </th>
                  <th scope="col">Registered</th>
                  <th scope="col">Tags</th>
                </tr>
              </thead>
              <tbody>
                {shown.map((model, index) => {
                  const first = index === 0 || shown[index - 1]?.name !== model.name;
                  const framework = frameworkLabel(model);
                  return (
                    <tr
                      key={model.id}
                      className={all && !first ? 'model-row-older' : undefined}
                      data-testid="model-row"
                      data-name={model.name}
                      data-version={model.version}
                    >
                      <td className="model-name-cell">
                        <Link to={all ? modelUrl(model.name, { version: model.version }) : modelUrl(model.name)}>
                          {model.name}
                        </Link>
                        {model.description && (
                          <div className="muted truncate model-description" title={model.description}>
                            {model.description}
                          </div>
                        )}
                      </td>
                      <td className="num" data-testid="model-version">
                        {all ? <Link to={modelUrl(model.name, { version: model.version })}>{model.version}</Link> : model.version}
                      </td>
                      <td>
                        <AliasBadges aliases={model.aliases} />
                      </td>
                      <td>
                        <span className="model-framework">
                          {framework ?? <span className="muted">—</span>}
                          {model.format === 'mlflow' && <ModelFormatBadge format={model.format} />}
                        </span>
                      </td>
                      <td className="num">{model.file_count.toLocaleString()}</td>
                      <td className="num">{formatBytes(model.total_size)}</td>
                      <td>
                        <RelativeTime value={model.created_time} />
                      </td>
                      <td>
                        <ModelTagChips
                          tags={model.tags}
                          active={search.tags}
                          onPick={(term) => update({ q: toggleTerm(query, term) })}
                        />
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          {shown.length === 0 ? (
            <div className="placeholder-note model-no-match">
              No model matches “{query.trim()}”.{' '}
              <button type="button" className="link-button" onClick={() => update({ q: '' })}>
                Clear the search
              </button>
            </div>
          ) : (
            <p className="placeholder-note" data-testid="models-summary">
              {all
                ? `${plural(shown.length, 'version')} of ${plural(modelCount, 'model')}`
                : plural(modelCount, 'model')}
              {search.tags.length > 0 && ` tagged ${search.tags.join(' and ')}`}
              {search.words.length > 0 && ` matching “${search.words.join(' ')}”`}. Click a tag to filter by it.
            </p>
          )}
        </section>
      )}
    </div>
  );
}
