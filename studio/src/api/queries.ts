/**
 * Shared react-query hooks for data several pages show. Query keys start with the API area
 * (`['workspace']`, `['experiments', ...]`, `['runs', ...]`) so a page can invalidate an area.
 */
import { keepPreviousData, useQuery } from '@tanstack/react-query';

import { api, unwrap } from './client';
import type { RunSearchBody } from './types';

export function useWorkspace() {
  return useQuery({
    queryKey: ['workspace'],
    queryFn: ({ signal }) => unwrap(api.GET('/api/v1/workspace', { signal })),
    staleTime: 5 * 60_000,
  });
}

export type ExperimentLifecycle = 'active' | 'archived' | 'deleted' | 'all';

export function useExperiments(lifecycle: ExperimentLifecycle = 'active') {
  return useQuery({
    queryKey: ['experiments', { lifecycle }],
    queryFn: ({ signal }) =>
      unwrap(api.GET('/api/v1/experiments', { params: { query: { lifecycle, max_results: 1000 } }, signal })),
  });
}

export function useRunSearch(body: RunSearchBody, options: { refetchInterval?: number } = {}) {
  return useQuery({
    queryKey: ['runs', 'search', body],
    queryFn: ({ signal }) =>
      unwrap(api.POST('/api/v1/runs/search', { body: { ...body, count: body.count ?? false }, signal })),
    ...options,
  });
}

// -- Compare page ------------------------------------------------------------------------------
// Options (not hooks) so a page can load a variable number of them with useQueries.

/** One run with its params, tags and latest metrics (`GET /runs/{id}`). */
export function runQueryOptions(runId: string) {
  return {
    queryKey: ['runs', runId] as const,
    queryFn: ({ signal }: { signal: AbortSignal }) =>
      unwrap(api.GET('/api/v1/runs/{run_id}', { params: { path: { run_id: runId } }, signal })),
  };
}

/**
 * One metric series of a run, decimated by the server to about `maxPoints` points; NaN/±Infinity
 * arrive as strings in JSON and become numbers again (charts draw them as gaps).
 */
export function metricHistoryQueryOptions(runId: string, key: string, maxPoints = 2000) {
  return {
    queryKey: ['runs', runId, 'metrics', key, 'history', { maxPoints }] as const,
    queryFn: async ({ signal }: { signal: AbortSignal }) => {
      const history = await unwrap(
        api.GET('/api/v1/runs/{run_id}/metrics/{key}/history', {
          params: { path: { run_id: runId, key }, query: { max_points: maxPoints } },
          signal,
        }),
      );
      return { ...history, values: history.values.map(Number), timestamps: history.timestamps.map(Number) };
    },
  };
}

// -- the run page (RunDetail and src/pages/run/*) ------------------------------------------------

const RUN_ENDED = new Set(['Completed', 'Failed', 'Canceled']);

/** A run with its params, tags, properties and latest metrics; with `pollMs`, polled until it ends. */
export function useRun(runId: string, options: { pollMs?: number } = {}) {
  const { pollMs } = options;
  return useQuery({
    queryKey: ['runs', runId],
    queryFn: ({ signal }) => unwrap(api.GET('/api/v1/runs/{run_id}', { params: { path: { run_id: runId } }, signal })),
    refetchInterval: (query) => {
      const status = query.state.data?.info.status;
      return pollMs !== undefined && status !== undefined && !RUN_ENDED.has(status) ? pollMs : false;
    },
  });
}

/**
 * The configuration a run was submitted with, or null for a run that was not submitted (the server
 * answers 404 for interactive runs).
 */
export function useRunConfiguration(runId: string) {
  return useQuery({
    queryKey: ['runs', runId, 'configuration'],
    queryFn: async ({ signal }) => {
      try {
        return await unwrap(
          api.GET('/api/v1/runs/{run_id}/configuration', { params: { path: { run_id: runId } }, signal }),
        );
      } catch (exc) {
        // An ApiError (not imported here to keep this block an append): 404 = not a submitted run.
        if (exc instanceof Error && 'status' in exc && exc.status === 404) return null;
        throw exc;
      }
    },
    staleTime: 5 * 60_000,
  });
}

/**
 * One metric series, decimated by the server to about `maxPoints` points (ask ~2× the chart's
 * width). NaN/±Infinity arrive as strings in JSON and are turned back into numbers here.
 */
export function useMetricHistory(
  runId: string,
  key: string,
  options: { maxPoints?: number; refetchInterval?: number | false } = {},
) {
  const maxPoints = options.maxPoints ?? 2000;
  return useQuery({
    queryKey: ['runs', runId, 'metrics', key, { maxPoints }],
    queryFn: async ({ signal }) => {
      const history = await unwrap(
        api.GET('/api/v1/runs/{run_id}/metrics/{key}/history', {
          params: { path: { run_id: runId, key }, query: { max_points: maxPoints } },
          signal,
        }),
      );
      return { ...history, values: history.values.map(Number), timestamps: history.timestamps.map(Number) };
    },
    refetchInterval: options.refetchInterval ?? false,
  });
}

// -- data: datastores and datasets (pages/Datastore*.tsx, pages/Dataset*.tsx, pages/dataset/*) ----

export function useDatastores() {
  return useQuery({
    queryKey: ['datastores'],
    queryFn: ({ signal }) => unwrap(api.GET('/api/v1/datastores', { signal })),
  });
}

export function useDatastore(name: string) {
  return useQuery({
    queryKey: ['datastores', name],
    queryFn: ({ signal }) => unwrap(api.GET('/api/v1/datastores/{name}', { params: { path: { name } }, signal })),
  });
}

/** One folder of a datastore (`path` = `` for its root): folders first, then files. */
export function useDatastoreFiles(name: string, path: string, limit = 1000) {
  return useQuery({
    queryKey: ['datastores', name, 'files', path, { limit }],
    queryFn: ({ signal }) =>
      unwrap(api.GET('/api/v1/datastores/{name}/files', { params: { path: { name }, query: { path, limit } }, signal })),
  });
}

/** The latest version of every dataset (archived versions left out unless `includeArchived`). */
export function useDatasets(includeArchived = false) {
  return useQuery({
    queryKey: ['datasets', { includeArchived }],
    placeholderData: keepPreviousData, // ticking "Show archived" keeps the table while the other list loads
    queryFn: ({ signal }) =>
      unwrap(api.GET('/api/v1/datasets', { params: { query: { include_archived: includeArchived } }, signal })),
  });
}

/** Every version of one dataset, newest first, archived ones included (the page marks them). */
export function useDatasetVersions(name: string) {
  return useQuery({
    queryKey: ['datasets', name, 'versions'],
    queryFn: ({ signal }) =>
      unwrap(api.GET('/api/v1/datasets', { params: { query: { name, include_archived: true } }, signal })),
  });
}

export function useDatasetFiles(datasetId: string) {
  return useQuery({
    queryKey: ['dataset-versions', datasetId, 'files'],
    queryFn: ({ signal }) =>
      unwrap(api.GET('/api/v1/dataset-versions/{dataset_id}/files', { params: { path: { dataset_id: datasetId } }, signal })),
    staleTime: 5 * 60_000, // a version's files never change
  });
}

export function useDatasetPreview(datasetId: string, rows = 100) {
  return useQuery({
    queryKey: ['dataset-versions', datasetId, 'preview', { rows }],
    queryFn: ({ signal }) =>
      unwrap(
        api.GET('/api/v1/dataset-versions/{dataset_id}/preview', {
          params: { path: { dataset_id: datasetId }, query: { rows } },
          signal,
        }),
      ),
    staleTime: 5 * 60_000,
  });
}

/** Query key of a version's profile, which the Recompute button replaces. */
export const datasetProfileKey = (datasetId: string) => ['dataset-versions', datasetId, 'profile'] as const;

/** A version's profile: the server computes it on the first call (seconds on large data), then caches it. */
export function useDatasetProfile(datasetId: string, options: { enabled?: boolean } = {}) {
  return useQuery({
    queryKey: datasetProfileKey(datasetId),
    queryFn: ({ signal }) =>
      unwrap(api.GET('/api/v1/dataset-versions/{dataset_id}/profile', { params: { path: { dataset_id: datasetId } }, signal })),
    staleTime: Infinity, // cached by the server until recomputed
    enabled: options.enabled ?? true,
  });
}

/** The runs that consumed or produced a dataset version, newest first. */
export function useDatasetRuns(datasetId: string) {
  return useQuery({
    queryKey: ['dataset-versions', datasetId, 'runs'],
    queryFn: ({ signal }) =>
      unwrap(api.GET('/api/v1/dataset-versions/{dataset_id}/runs', { params: { path: { dataset_id: datasetId } }, signal })),
  });
}

/** The datasets a run consumed and produced. */
export function useRunDatasets(runId: string, options: { refetchInterval?: number | false } = {}) {
  return useQuery({
    queryKey: ['runs', runId, 'datasets'],
    queryFn: ({ signal }) => unwrap(api.GET('/api/v1/runs/{run_id}/datasets', { params: { path: { run_id: runId } }, signal })),
    refetchInterval: options.refetchInterval ?? false,
  });
}

// -- models: the registry (pages/Models.tsx, pages/ModelDetail.tsx, pages/model/*) ---------------
// Keys: ['models', ...] for lists (a change to any version invalidates them all), ['model-versions', id, ...]
// for what belongs to one version and never changes (its files).

/** Model versions matching `tags` (`KEY` or `KEY=VALUE`, all must hold): the latest of each model, or every version. */
export function useModels(options: { latest: boolean; tags?: readonly string[] }) {
  const tags = [...(options.tags ?? [])];
  return useQuery({
    queryKey: ['models', 'list', { latest: options.latest, tags }],
    queryFn: ({ signal }) =>
      unwrap(api.GET('/api/v1/models', { params: { query: { latest: options.latest, tag: tags } }, signal })),
    placeholderData: keepPreviousData, // the table stays while a new search is asked
  });
}

/** Every version of one model, newest first (an unknown name is an empty list). */
export function useModelVersions(name: string) {
  return useQuery({
    queryKey: ['models', name, 'versions'],
    queryFn: ({ signal }) => unwrap(api.GET('/api/v1/models', { params: { query: { name } }, signal })),
  });
}

/** The models registered from a run's outputs. */
export function useRunModels(runId: string, options: { refetchInterval?: number | false } = {}) {
  return useQuery({
    queryKey: ['models', 'list', { runId }],
    queryFn: ({ signal }) => unwrap(api.GET('/api/v1/models', { params: { query: { run_id: runId } }, signal })),
    refetchInterval: options.refetchInterval ?? false,
  });
}

export function useModelFiles(modelId: string) {
  return useQuery({
    queryKey: ['model-versions', modelId, 'files'],
    queryFn: ({ signal }) =>
      unwrap(api.GET('/api/v1/model-versions/{model_id}/files', { params: { path: { model_id: modelId } }, signal })),
    staleTime: 5 * 60_000, // a version's files never change
  });
}
