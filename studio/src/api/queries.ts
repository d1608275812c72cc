/**
 * Shared react-query hooks for data several pages show. Query keys start with the API area
 * (`['workspace']`, `['experiments', ...]`, `['runs', ...]`) so a page can invalidate an area.
 */
import { useQuery } from '@tanstack/react-query';

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
    queryFn: ({ signal }) => unwrap(api.POST('/api/v1/runs/search', { body, signal })),
    ...options,
  });
}
