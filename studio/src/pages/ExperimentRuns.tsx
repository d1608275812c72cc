/**
 * The experiment page (`/experiments/:experimentId`): the experiment's header and its runs table.
 *
 * The table stays fast at 100,000 runs: the server pages (`POST /runs/search`, 100 runs a page, loaded as
 * the user scrolls), only the rows in view are rendered, and while runs are live only those runs are asked
 * for again. Filter, order and columns live in the query string (`?filter=&order=&cols=`), so a reload or a
 * shared link shows the same view.
 */
import './ExperimentRuns.css';

import {
  type InfiniteData,
  keepPreviousData,
  useInfiniteQuery,
  useQuery,
  useQueryClient,
} from '@tanstack/react-query';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Link, useParams, useSearchParams } from 'react-router-dom';

import { api, ApiError, type RunDetails, unwrap } from '../api/client';
import type { RunSearchBody } from '../api/types';
import { EmptyState } from '../components/EmptyState';
import { ErrorBanner } from '../components/ErrorBanner';
import { PageHeader } from '../components/PageHeader';
import { RunsColumnChooser } from '../components/RunsColumnChooser';
import { RunsExperimentHeader } from '../components/RunsExperimentHeader';
import { RunsFilterBox } from '../components/RunsFilterBox';
import { MAX_SELECT_ALL, RunsVirtualTable } from '../components/RunsVirtualTable';
import { Spinner } from '../components/Spinner';
import { RUN_STATUSES } from '../components/StatusBadge';
import { plural } from '../lib/format';
import {
  availableColumns,
  decodeView,
  defaultColumns,
  encodeView,
  nextOrder,
  orderByFor,
  runIdFilter,
  toggleColumn,
  type ViewState,
} from '../lib/runsTable';
import { useTitle } from '../lib/useTitle';

const PAGE_SIZE = 100;
const LIVE_REFRESH_MS = 3000;
/** Live runs refreshed by id in one request (the filter text stays well under the server's 10,000 characters). */
const MAX_LIVE_IDS = 200;

type RunPage = {
  runs: RunDetails[];
  next_page_token?: string | null;
  total_count?: number | null;
  total_count_capped?: boolean;
};
type Pages = InfiniteData<RunPage, unknown>;

function isLive(run: RunDetails): boolean {
  return RUN_STATUSES[run.info.status]?.live ?? false;
}

function searchRuns(body: RunSearchBody, signal: AbortSignal) {
  return unwrap(api.POST('/api/v1/runs/search', { body: { ...body, count: body.count ?? false }, signal }));
}

const SDK_SNIPPET = (name: string) => `import ember

ws = ember.Workspace.from_config()
exp = ember.Experiment(ws, ${JSON.stringify(name)})
with exp.start_logging(display_name="baseline") as run:
    run.log_params({"lr": 0.01})
    run.log("loss", 0.25)`;

function NoRunsYet({ name }: { name: string }) {
  const cli = `ember run submit train.py --experiment ${/^[\w.-]+$/.test(name) ? name : JSON.stringify(name)}`;
  return (
    <EmptyState
      title="No runs yet"
      actions={
        <>
          <div className="snippet-label">Log a run from Python</div>
          <pre className="snippet">
            <code>{SDK_SNIPPET(name)}</code>
          </pre>
          <div className="snippet-label">or submit a script from the command line</div>
          <pre className="snippet">
            <code>{cli}</code>
          </pre>
        </>
      }
    >
      Runs you log or submit to this experiment show up here as they happen.
    </EmptyState>
  );
}

export default function ExperimentRuns() {
  const { experimentId = '' } = useParams();
  const experiment = useQuery({
    queryKey: ['experiments', experimentId],
    queryFn: ({ signal }) =>
      unwrap(api.GET('/api/v1/experiments/{experiment_id}', { params: { path: { experiment_id: experimentId } }, signal })),
  });
  useTitle(experiment.data?.name ?? 'Experiment');

  if (experiment.isPending) return <Spinner label="Loading the experiment…" />;
  if (experiment.isError) {
    return (
      <div className="page">
        <PageHeader title="Experiment" breadcrumbs={<Link to="/experiments">Experiments</Link>} />
        <ErrorBanner error={experiment.error} title="Could not load the experiment" />
      </div>
    );
  }
  return (
    <div className="page runs-page">
      <RunsExperimentHeader experiment={experiment.data} />
      <RunsSection experimentId={experimentId} experimentName={experiment.data.name} />
    </div>
  );
}

function RunsSection({ experimentId, experimentName }: { experimentId: string; experimentName: string }) {
  const queryClient = useQueryClient();
  const [searchParams, setSearchParams] = useSearchParams();
  // The view is state mirrored into the URL: router navigations commit in a transition, and a checkbox
  // or the filter box must follow a click at once. A URL changed from outside (back, a link) wins.
  const urlView = useMemo(() => decodeView(searchParams), [searchParams]);
  const [view, setLocalView] = useState<ViewState>(urlView);
  useEffect(() => setLocalView(urlView), [urlView]);
  const [selected, setSelected] = useState<Set<string>>(() => new Set());

  const setView = useCallback(
    (patch: Partial<ViewState>, options: { replace?: boolean } = {}) => {
      setLocalView((old) => ({ ...old, ...patch }));
      setSearchParams((current) => encodeView({ ...decodeView(current), ...patch }, current), options);
    },
    [setSearchParams],
  );

  const keys = useQuery({
    queryKey: ['experiments', experimentId, 'keys'],
    queryFn: ({ signal }) =>
      unwrap(api.GET('/api/v1/experiments/{experiment_id}/keys', { params: { path: { experiment_id: experimentId } }, signal })),
    staleTime: 30_000,
  });
  const columns = view.columns ?? defaultColumns(keys.data);
  const available = useMemo(() => {
    const all = availableColumns(keys.data);
    // Columns named by a link but unknown to this experiment stay choosable (so they can be hidden).
    return [...all, ...columns.filter((c) => !all.includes(c))];
  }, [keys.data, columns]);

  const orderBy = useMemo(() => orderByFor(view.order), [view.order]);
  const queryKey = useMemo(
    () => ['runs', 'search', 'experiment', experimentId, { filter: view.filter, orderBy }] as const,
    [experimentId, view.filter, orderBy],
  );
  const search = useInfiniteQuery({
    queryKey,
    queryFn: ({ pageParam, signal }) =>
      searchRuns(
        {
          experiment_ids: [experimentId],
          filter: view.filter || null,
          order_by: orderBy,
          max_results: PAGE_SIZE,
          page_token: pageParam,
          lifecycle: 'active',
          count: pageParam === null, // the first page also says how many runs match (capped server-side)
        },
        signal,
      ),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_page_token ?? null,
    placeholderData: keepPreviousData,
    // Refetching an infinite query asks again for every loaded page: never on focus, and on a timer only
    // while one page is loaded (more pages: the live runs alone are refreshed, below).
    refetchOnWindowFocus: false,
    refetchInterval: (query) => {
      const pages = query.state.data?.pages;
      return pages && pages.length === 1 && pages[0]?.runs.some(isLive) ? LIVE_REFRESH_MS : false;
    },
  });

  // Leaving the page (or the view) keeps only the first page in the cache, so coming back costs one request.
  useEffect(
    () => () => {
      queryClient.setQueryData<Pages>(queryKey, (old) =>
        old && old.pages.length > 1 ? { pages: old.pages.slice(0, 1), pageParams: old.pageParams.slice(0, 1) } : old,
      );
    },
    [queryClient, queryKey],
  );

  // A refused filter keeps the last results on screen, under the server's message.
  const lastGood = useRef<Pages | undefined>(undefined);
  if (search.data && !search.isPlaceholderData) lastGood.current = search.data;
  const pages = search.data ?? (search.isError ? lastGood.current : undefined);
  const runs = useMemo(() => pages?.pages.flatMap((p) => p.runs) ?? [], [pages]);
  const failedFirstPage = search.isError && !search.isFetchNextPageError;
  const refused = failedFirstPage && search.error instanceof ApiError && search.error.status === 400;

  // More than one page loaded and some runs live: ask for those runs by id and patch them in place.
  const liveIds = useMemo(
    () =>
      runs
        .filter(isLive)
        .slice(0, MAX_LIVE_IDS)
        .map((r) => r.info.id),
    [runs],
  );
  const live = useQuery({
    queryKey: ['runs', 'search', 'live', experimentId, liveIds],
    queryFn: ({ signal }) =>
      searchRuns(
        { experiment_ids: [experimentId], filter: runIdFilter(liveIds), max_results: liveIds.length, lifecycle: 'all' },
        signal,
      ),
    enabled: (search.data?.pages.length ?? 0) > 1 && liveIds.length > 0 && !search.isPlaceholderData,
    refetchInterval: LIVE_REFRESH_MS,
    staleTime: 0,
    gcTime: 0,
  });
  useEffect(() => {
    if (!live.data) return;
    const fresh = new Map(live.data.runs.map((r) => [r.info.id, r]));
    queryClient.setQueryData<Pages>(queryKey, (old) =>
      old
        ? { ...old, pages: old.pages.map((p) => ({ ...p, runs: p.runs.map((r) => fresh.get(r.info.id) ?? r) })) }
        : old,
    );
  }, [live.data, queryClient, queryKey]);

  const onSort = useCallback((column: string) => setView({ order: nextOrder(view.order, column) }), [setView, view.order]);
  const onSelect = useCallback((runId: string, checked: boolean) => {
    setSelected((old) => {
      const next = new Set(old);
      if (checked) next.add(runId);
      else next.delete(runId);
      return next;
    });
  }, []);
  const onSelectAll = useCallback(
    (checked: boolean) =>
      setSelected(checked ? new Set(runs.slice(0, MAX_SELECT_ALL).map((r) => r.info.id)) : new Set()),
    [runs],
  );
  const fetchNextPage = useCallback(() => void search.fetchNextPage(), [search]);

  const loaded = pages !== undefined;
  // With the default columns, the metric columns come from the keys: "ready" waits for them too, so the
  // first complete view is what counts as rendered (no columns popping in afterwards).
  const columnsKnown = view.columns !== undefined || !keys.isPending;
  const ready = search.isSuccess && !search.isPlaceholderData && columnsKnown;
  const compareIds = [...selected];
  const first = search.data?.pages[0];
  const total = first?.total_count;
  const countText =
    total !== undefined && total !== null
      ? `${plural(total, 'run')}${first?.total_count_capped ? '+' : ''}`
      : `${plural(runs.length, 'run')}${search.hasNextPage ? '+' : ''}`;
  const noRunsAtAll = ready && runs.length === 0 && !view.filter;

  return (
    <section className="card runs-card" aria-labelledby="runs-heading">
      <header>
        <h2 id="runs-heading">Runs</h2>
        <div className="runs-toolbar">
          {loaded && !noRunsAtAll && (
            <span className="muted" data-testid="runs-count" aria-live="polite">
              {view.filter ? `${countText} match` : countText}
              {search.hasNextPage ? ` (${runs.length.toLocaleString()} loaded; scroll for more)` : ''}
            </span>
          )}
          {!noRunsAtAll && selected.size > 0 && (
            <button type="button" className="button" onClick={() => setSelected(new Set())}>
              Clear selection
            </button>
          )}
          {noRunsAtAll ? null : compareIds.length >= 2 ? (
            <Link
              className="button primary"
              to={`/compare?runs=${compareIds.map(encodeURIComponent).join(',')}`}
              data-testid="runs-compare"
            >
              Compare ({compareIds.length})
            </Link>
          ) : (
            <button
              type="button"
              className="button"
              disabled
              title="Select two runs or more to compare them"
              data-testid="runs-compare"
            >
              Compare ({compareIds.length})
            </button>
          )}
          {!noRunsAtAll && (
            <RunsColumnChooser
              available={available}
              chosen={columns}
              onChange={(id, shown) => setView({ columns: toggleColumn(columns, id, shown) }, { replace: true })}
              onReset={() => setView({ columns: null }, { replace: true })}
            />
          )}
        </div>
      </header>
      <div className="card-body" hidden={noRunsAtAll}>
        <RunsFilterBox
          applied={view.filter}
          onApply={(filter) => {
            if (filter === view.filter) void search.refetch();
            else setView({ filter });
          }}
          error={refused ? search.error.message : null}
          keys={keys.data}
        />
      </div>
      {failedFirstPage && !refused ? (
        <div className="card-body">
          <ErrorBanner error={search.error} title="Could not load runs" onRetry={() => void search.refetch()} />
        </div>
      ) : !loaded ? (
        search.isPending ? (
          <Spinner label="Loading runs…" />
        ) : null
      ) : noRunsAtAll ? (
        <NoRunsYet name={experimentName} />
      ) : (
        <>
          <RunsVirtualTable
            runs={runs}
            columns={columns}
            order={view.order}
            onSort={onSort}
            selected={selected}
            onSelect={onSelect}
            onSelectAll={onSelectAll}
            hasNextPage={search.hasNextPage && !refused}
            isFetchingNextPage={search.isFetchingNextPage}
            fetchNextPage={fetchNextPage}
            nextPageError={search.isFetchNextPageError ? search.error.message : null}
            ready={ready}
            stale={search.isPlaceholderData}
            caption={`Runs of ${experimentName}`}
          />
          {ready && runs.length === 0 && (
            <div className="runs-no-match" data-testid="runs-no-match">
              <p>No run matches this filter.</p>
              <button type="button" className="button" onClick={() => setView({ filter: '' })}>
                Clear the filter
              </button>
            </div>
          )}
        </>
      )}
    </section>
  );
}
