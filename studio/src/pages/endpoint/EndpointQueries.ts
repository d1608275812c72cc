/**
 * The endpoint pages' API calls: react-query hooks and the schema's names for what they answer. Keys
 * start with `['endpoints']` (a change to an endpoint invalidates them all) and `['serving-host']`.
 */
import { useQuery } from '@tanstack/react-query';

import { api, unwrap, type Schemas } from '../../api/client';
import { anyDeploymentChanging } from '../../lib/endpoints';

export type EndpointInfo = Schemas['EndpointInfo'];
export type DeploymentInfo = Schemas['DeploymentInfo'];
export type EndpointKeys = Schemas['EndpointKeys'];
export type EndpointToken = Schemas['EndpointToken'];
export type EndpointTelemetry = Schemas['EndpointTelemetry'];
export type EndpointInvokeResult = Schemas['EndpointInvokeResult'];
export type EndpointUpdate = Schemas['EndpointUpdate'];
export type ServingHostInfo = Schemas['ServingHostInfo'];

/** How often an endpoint is asked again: often while a deployment is created or updated, else now and then. */
const CHANGING_POLL_MS = 2000;
const SETTLED_POLL_MS = 10_000;

export const endpointKey = (name: string) => ['endpoints', name] as const;

/** Every endpoint, by name, polled while a deployment changes. */
export function useEndpoints() {
  return useQuery({
    queryKey: ['endpoints', 'list'],
    queryFn: ({ signal }) => unwrap(api.GET('/api/v1/endpoints', { signal })),
    refetchInterval: (query) =>
      (query.state.data ?? []).some((e) => anyDeploymentChanging(e.deployments ?? [])) ? CHANGING_POLL_MS : SETTLED_POLL_MS,
  });
}

/** One endpoint with its deployments, polled (faster while a deployment changes). */
export function useEndpoint(name: string) {
  return useQuery({
    queryKey: endpointKey(name),
    queryFn: ({ signal }) => unwrap(api.GET('/api/v1/endpoints/{name}', { params: { path: { name } }, signal })),
    refetchInterval: (query) =>
      anyDeploymentChanging(query.state.data?.deployments ?? []) ? CHANGING_POLL_MS : SETTLED_POLL_MS,
  });
}

/** The process that serves this workspace's endpoints, and whether it is alive. */
export function useServingHost() {
  return useQuery({
    queryKey: ['serving-host'],
    queryFn: ({ signal }) => unwrap(api.GET('/api/v1/serving-host', { signal })),
    refetchInterval: SETTLED_POLL_MS,
  });
}

/** The endpoint's cumulative counters, asked every `pollMs` (the telemetry tab turns them into rates). */
export function useEndpointTelemetry(name: string, pollMs: number) {
  return useQuery({
    queryKey: [...endpointKey(name), 'telemetry'],
    queryFn: ({ signal }) =>
      unwrap(api.GET('/api/v1/endpoints/{name}/telemetry', { params: { path: { name } }, signal })),
    refetchInterval: pollMs,
    refetchIntervalInBackground: false,
  });
}

/** The last `tail` lines of a deployment's replica logs; `pollMs` false asks only on demand. */
export function useDeploymentLogs(name: string, deployment: string, tail: number, pollMs: number | false) {
  return useQuery({
    queryKey: [...endpointKey(name), 'deployments', deployment, 'logs', { tail }],
    queryFn: ({ signal }) =>
      unwrap(
        api.GET('/api/v1/endpoints/{name}/deployments/{deployment}/logs', {
          params: { path: { name, deployment }, query: { tail } },
          signal,
        }),
      ),
    enabled: deployment !== '',
    refetchInterval: pollMs,
  });
}
