/**
 * Pure helpers of the endpoint pages (pages/Endpoints.tsx, pages/EndpointDetail.tsx, pages/endpoint/*):
 * links, deployment statuses, the traffic editor's checks, request and answer bodies, and live
 * telemetry — rates from two samples of cumulative counters and latency percentiles from the deltas of
 * cumulative histogram buckets (what Prometheus' `rate()` and `histogram_quantile()` do).
 */

// -- links and times -------------------------------------------------------------------------

/** The tabs of the endpoint page, as sub-routes (`''` is the overview). */
export type EndpointTab = '' | 'test' | 'telemetry' | 'logs' | 'keys';

/** The studio link to an endpoint, or one of its tabs. */
export function endpointUrl(name: string, tab: EndpointTab = ''): string {
  return `/endpoints/${encodeURIComponent(name)}${tab ? `/${tab}` : ''}`;
}

/** The studio link to the model version a deployment serves. */
export function deploymentModelUrl(model: { name: string; version: number }): string {
  return `/models/${encodeURIComponent(model.name)}?version=${model.version}`;
}

/** A time the serving API gives in seconds since the epoch, as the ISO string `RelativeTime` takes. */
export function epochToIso(seconds: number | null | undefined): string | null {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return null;
  return new Date(seconds * 1000).toISOString();
}

// -- deployments -----------------------------------------------------------------------------

export type DeploymentStatusName = 'Creating' | 'Updating' | 'Healthy' | 'Degraded' | 'Failed';
export type Tone = 'neutral' | 'active' | 'ok' | 'bad' | 'warn';

/** Every deployment status, its tone and whether it is still changing (a pulsing badge, faster polling). */
export const DEPLOYMENT_STATUSES: Record<DeploymentStatusName, { tone: Tone; live: boolean }> = {
  Creating: { tone: 'active', live: true },
  Updating: { tone: 'active', live: true },
  Healthy: { tone: 'ok', live: false },
  Degraded: { tone: 'warn', live: false },
  Failed: { tone: 'bad', live: false },
};

/** How a deployment status reads as a badge (an unknown one is neutral). */
export function deploymentStatus(status: string | undefined): { tone: Tone; live: boolean; label: string } {
  const known = DEPLOYMENT_STATUSES[status as DeploymentStatusName] as
    | (typeof DEPLOYMENT_STATUSES)[DeploymentStatusName]
    | undefined;
  return { ...(known ?? { tone: 'neutral', live: false }), label: status ?? 'Unknown' };
}

/** Whether any deployment is still being created or updated (the page polls faster then). */
export function anyDeploymentChanging(deployments: readonly { status?: string }[]): boolean {
  return deployments.some((d) => deploymentStatus(d.status).live);
}

/** An autoscale setting in a line: `1–4 replicas, 8 in flight each`. */
export function autoscaleLabel(
  autoscale: { min_replicas?: number; max_replicas?: number; target_concurrency?: number } | null | undefined,
): string | null {
  if (!autoscale) return null;
  const min = autoscale.min_replicas ?? 1;
  const max = autoscale.max_replicas ?? 4;
  const target = autoscale.target_concurrency ?? 8;
  return `${min}–${max} replicas, ${Number(target.toPrecision(4))} in flight each`;
}

/** An environment reference as `name:version` (`name` alone when the latest is meant). */
export function environmentLabel(environment: { name: string; version?: number | null } | null | undefined): string | null {
  if (!environment) return null;
  return environment.version ? `${environment.name}:${environment.version}` : environment.name;
}

// -- traffic ---------------------------------------------------------------------------------

/** The traffic editor's inputs: per deployment, the live and the mirrored percentage as typed. */
export interface TrafficDraft {
  traffic: Record<string, string>;
  mirror: Record<string, string>;
}

/** What `checkTraffic` finds: field errors, the form's message, and the update to send when it is valid. */
export interface TrafficCheck {
  /** Errors of single inputs, keyed `traffic:NAME` or `mirror:NAME`. */
  fieldErrors: Record<string, string>;
  /** What is wrong with the form as a whole (the sum, mirroring), or null. */
  error: string | null;
  /** A valid setting worth a word (every deployment at 0% answers 503), or null. */
  warning: string | null;
  /** The sum of the live percentages that parse. */
  total: number;
  /** The `traffic` and `mirror_traffic` of the PATCH body; null while the form has errors. */
  update: { traffic: Record<string, number>; mirror_traffic: Record<string, number> } | null;
}

export const MAX_MIRROR_PERCENT = 50;

/** The draft that shows an endpoint's current traffic (0 for a deployment it does not name). */
export function trafficDraft(endpoint: {
  traffic?: Record<string, number>;
  mirror_traffic?: Record<string, number>;
  deployments?: readonly { name: string }[];
}): TrafficDraft {
  const traffic: Record<string, string> = {};
  const mirror: Record<string, string> = {};
  for (const { name } of endpoint.deployments ?? []) {
    traffic[name] = String(endpoint.traffic?.[name] ?? 0);
    mirror[name] = String(endpoint.mirror_traffic?.[name] ?? 0);
  }
  return { traffic, mirror };
}

/** A percentage as typed: empty is 0, else a whole number from 0 to `max`; null when it is not one. */
export function parsePercent(text: string | undefined, max = 100): number | null {
  const trimmed = (text ?? '').trim();
  if (trimmed === '') return 0;
  if (!/^\d{1,3}$/.test(trimmed)) return null;
  const value = Number(trimmed);
  return value <= max ? value : null;
}

/**
 * Check the traffic editor the way the server will (so most mistakes show before saving): whole
 * percentages, live traffic summing to 100 (or all 0), and mirroring to at most one deployment, at most
 * 50%, that takes no live traffic. Deployments at 0% are left out of the update's maps.
 */
export function checkTraffic(draft: TrafficDraft, deployments: readonly string[]): TrafficCheck {
  const fieldErrors: Record<string, string> = {};
  const traffic: Record<string, number> = {};
  const mirror: Record<string, number> = {};
  let total = 0;
  for (const name of deployments) {
    const live = parsePercent(draft.traffic[name]);
    if (live === null) fieldErrors[`traffic:${name}`] = 'a whole number from 0 to 100';
    else {
      total += live;
      if (live > 0) traffic[name] = live;
    }
    const copied = parsePercent(draft.mirror[name], MAX_MIRROR_PERCENT);
    if (copied === null) fieldErrors[`mirror:${name}`] = `a whole number from 0 to ${MAX_MIRROR_PERCENT}`;
    else if (copied > 0) mirror[name] = copied;
  }

  let error: string | null = null;
  const mirrored = Object.keys(mirror);
  const mirroredLive = mirrored.find((name) => (traffic[name] ?? 0) > 0);
  if (Object.keys(fieldErrors).length > 0) error = 'Fix the highlighted percentages.';
  else if (total !== 100 && total !== 0) error = `Live traffic adds up to ${total}%; it must be 100%.`;
  else if (mirrored.length > 1) error = `Mirror to one deployment at a time (${mirrored.join(', ')} are set).`;
  else if (mirroredLive !== undefined)
    error = `${mirroredLive} takes live traffic: mirror only to a deployment at 0% live traffic.`;

  const warning =
    error === null && total === 0 && deployments.length > 0
      ? 'With every deployment at 0%, the endpoint answers 503 to every request.'
      : null;
  return { fieldErrors, error, warning, total, update: error === null ? { traffic, mirror_traffic: mirror } : null };
}

/** Whether an update would change nothing (zeros and missing names are the same). */
export function sameTraffic(
  update: { traffic: Record<string, number>; mirror_traffic: Record<string, number> },
  endpoint: { traffic?: Record<string, number>; mirror_traffic?: Record<string, number> },
): boolean {
  const same = (a: Record<string, number>, b: Record<string, number>) => {
    const names = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...names].every((name) => (a[name] ?? 0) === (b[name] ?? 0));
  };
  return same(update.traffic, endpoint.traffic ?? {}) && same(update.mirror_traffic, endpoint.mirror_traffic ?? {});
}

/** The endpoint's split in a line, largest first: `blue 90% · green 10% · mirror → green 5%`. */
export function trafficSummary(endpoint: {
  traffic?: Record<string, number>;
  mirror_traffic?: Record<string, number>;
}): string {
  const live = Object.entries(endpoint.traffic ?? {})
    .filter(([, percent]) => percent > 0)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .map(([name, percent]) => `${name} ${percent}%`);
  const mirrored = Object.entries(endpoint.mirror_traffic ?? {})
    .filter(([, percent]) => percent > 0)
    .map(([name, percent]) => `mirror → ${name} ${percent}%`);
  if (live.length === 0) return mirrored.length ? ['no live traffic', ...mirrored].join(' · ') : 'no live traffic';
  return [...live, ...mirrored].join(' · ');
}

// -- the test tab ----------------------------------------------------------------------------

export const SAMPLE_REQUEST = '{"data": [[5.1, 3.5, 1.4, 0.2]]}';

/** Why a request body is not JSON (the parser's message), or null when it is. */
export function jsonError(text: string): string | null {
  if (text.trim() === '') return 'The request body is empty: write the JSON to score.';
  try {
    JSON.parse(text);
    return null;
  } catch (exc) {
    return `Not valid JSON: ${exc instanceof Error ? exc.message : String(exc)}`;
  }
}

/** An answer's body, indented when it is JSON; `json` says which. */
export function prettyBody(body: string): { text: string; json: boolean } {
  const trimmed = body.trim();
  if (trimmed === '') return { text: '', json: false };
  try {
    return { text: JSON.stringify(JSON.parse(trimmed), null, 2), json: true };
  } catch {
    return { text: body, json: false };
  }
}

/** The `message` (or `error.message`, `detail`) of a JSON error answer, to show above the body. */
export function answerMessage(body: string): string | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null;
  const record = parsed as Record<string, unknown>;
  const error = record['error'];
  if (typeof error === 'object' && error !== null && typeof (error as Record<string, unknown>)['message'] === 'string')
    return (error as Record<string, string>)['message'] ?? null;
  for (const key of ['message', 'detail', 'error']) {
    const value = record[key];
    if (typeof value === 'string' && value !== '') return value;
  }
  return null;
}

/** The tone of an HTTP status: 2xx ok, 4xx warn, 5xx (and anything else) bad. */
export function httpStatusTone(status: number): Tone {
  if (status >= 200 && status < 300) return 'ok';
  if (status >= 400 && status < 500) return 'warn';
  return 'bad';
}

const HTTP_STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  204: 'No Content',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** The reason phrase of an HTTP status (`503` → `Service Unavailable`), empty when it is not a common one. */
export function httpStatusText(status: number): string {
  return HTTP_STATUS_TEXT[status] ?? '';
}

/** How to call an endpoint from a shell, with the credential its auth mode takes. */
export function curlSnippet(scoringUri: string, authMode: string): string {
  const credential = authMode === 'token' ? '$EMBER_TOKEN' : '$EMBER_KEY';
  return `curl -X POST ${scoringUri} \\
  -H "Authorization: Bearer ${credential}" \\
  -H "Content-Type: application/json" \\
  -d '${SAMPLE_REQUEST}'`;
}

/** How to call an endpoint from Python with the SDK. */
export function sdkSnippet(name: string): string {
  return `import ember

ws = ember.Workspace.from_config()
endpoint = ember.Endpoint(ws, ${JSON.stringify(name)})
print(endpoint.run(${SAMPLE_REQUEST}))`;
}

// -- secrets ---------------------------------------------------------------------------------

/** A secret not revealed yet: a fixed row of dots (its length tells nothing). */
export const MASKED_SECRET = '•'.repeat(24);

/** How long until a token expires, in words: `in 59 min`, `in 45 s`, `expired`. */
export function expiresIn(expirySeconds: number, nowMillis: number = Date.now()): string {
  const left = expirySeconds - nowMillis / 1000;
  if (!Number.isFinite(left) || left <= 0) return 'expired';
  if (left < 60) return `in ${Math.floor(left)} s`;
  if (left < 3600) return `in ${Math.round(left / 60)} min`;
  const hours = Math.floor(left / 3600);
  const minutes = Math.round((left % 3600) / 60);
  return minutes > 0 ? `in ${hours} h ${minutes} min` : `in ${hours} h`;
}

// -- telemetry -------------------------------------------------------------------------------

/**
 * A histogram bucket as the API sends it: [upper bound in seconds, cumulative count] (typed loosely: the
 * generated client reads the pair as an array).
 */
export type Bucket = readonly (number | string | null)[];

/** What the telemetry helpers need of a deployment's counters (a subset of `DeploymentTelemetry`). */
export interface CountersLike {
  deployment: string;
  requests?: number;
  errors?: number;
  client_errors?: number;
  mirrored?: number;
  latency_buckets?: readonly Bucket[];
  latency_sum?: number;
}

/** What they need of an endpoint's sample (a subset of `EndpointTelemetry`). */
export interface SampleLike {
  time: number;
  deployments?: readonly CountersLike[];
}

/** Bounds from here up are +∞: JSON has no ∞, and the serving host sends the +Inf bucket as 1e308. */
const INFINITE_BOUND = 1e300;

/** An upper bound as a number: `1e308`, `null`, `"inf"`, `"+Inf"`, `"Infinity"` are +∞. */
export function upperBound(value: number | string | null): number {
  if (value === null) return Infinity;
  const number = typeof value === 'number' ? value : Number(value.replace(/^\+?inf$/i, 'Infinity'));
  return Number.isNaN(number) || number >= INFINITE_BOUND ? Infinity : number;
}

/** Buckets with numeric bounds, sorted by bound. */
function normalizeBuckets(buckets: readonly Bucket[]): [number, number][] {
  return buckets
    .map(([bound, count]): [number, number] => [upperBound(bound ?? null), Number(count ?? 0) || 0])
    .sort((a, b) => a[0] - b[0]);
}

/**
 * The change of cumulative histogram buckets between two samples, bucket by bucket (matched on their
 * upper bounds). When a count went down the counters were reset (the serving host restarted), and the
 * newer buckets are the change, as Prometheus' `rate()` assumes.
 */
export function bucketDelta(previous: readonly Bucket[], current: readonly Bucket[]): [number, number][] {
  const before = new Map(normalizeBuckets(previous));
  const after = normalizeBuckets(current);
  const delta = after.map(([bound, count]): [number, number] => [bound, count - (before.get(bound) ?? 0)]);
  return delta.some(([, count]) => count < 0) ? after : delta;
}

/**
 * The `q`-quantile (0–1) of the observations in cumulative buckets, in the buckets' unit, interpolated
 * linearly inside the bucket it falls in (Prometheus' `histogram_quantile`). Observations above the last
 * finite bound — a +∞ bucket, or `total` beyond the last count — answer that bound. Null without
 * observations.
 */
export function histogramQuantile(q: number, buckets: readonly Bucket[], total?: number): number | null {
  const sorted = normalizeBuckets(buckets);
  const last = sorted[sorted.length - 1];
  const counted = last ? last[1] : 0;
  const count = Math.max(counted, total ?? 0);
  if (!(count > 0) || !Number.isFinite(q)) return null;
  if (count > counted || (last && last[0] !== Infinity)) sorted.push([Infinity, count]);
  const rank = Math.min(Math.max(q, 0), 1) * count;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [bound, cumulative] of sorted) {
    if (cumulative >= rank && cumulative > lowerCount) {
      if (bound === Infinity) return lowerBound;
      const start = lowerBound > bound ? bound : lowerBound;
      return start + (bound - start) * ((rank - lowerCount) / (cumulative - lowerCount));
    }
    if (bound !== Infinity) lowerBound = bound;
    lowerCount = Math.max(lowerCount, cumulative);
  }
  return lowerBound;
}

/** One deployment's activity between two samples. Latencies are in milliseconds, null without requests. */
export interface DeploymentRates {
  deployment: string;
  requestsPerSecond: number;
  errorsPerSecond: number;
  clientErrorsPerSecond: number;
  mirroredPerSecond: number;
  p50Ms: number | null;
  p99Ms: number | null;
  meanMs: number | null;
}

/** The growth of a counter, or its value when it went down (a reset). */
function counterDelta(previous: number | undefined, current: number | undefined): number {
  const before = previous ?? 0;
  const after = current ?? 0;
  return after >= before ? after - before : after;
}

/**
 * Per deployment of the newer sample: requests, errors (5xx), client errors (4xx) and mirrored copies
 * per second, and the latency percentiles and mean of the requests in between. A deployment the older
 * sample lacks counts from zero. Empty when the samples are not in time order.
 */
export function telemetryRates(previous: SampleLike, current: SampleLike): DeploymentRates[] {
  const seconds = current.time - previous.time;
  if (!(seconds > 0)) return [];
  const before = new Map((previous.deployments ?? []).map((d) => [d.deployment, d]));
  return (current.deployments ?? []).map((now) => {
    const then: CountersLike = before.get(now.deployment) ?? { deployment: now.deployment };
    // A host restart resets every counter of the deployment at once: then all of `now` is new.
    const reset = (now.requests ?? 0) < (then.requests ?? 0);
    const base: CountersLike = reset ? { deployment: now.deployment } : then;
    const requests = counterDelta(base.requests, now.requests);
    const buckets = bucketDelta(base.latency_buckets ?? [], now.latency_buckets ?? []);
    const observed = buckets.length ? (buckets[buckets.length - 1] as [number, number])[1] : 0;
    const latencySum = counterDelta(base.latency_sum, now.latency_sum);
    const toMs = (value: number | null) => (value === null ? null : value * 1000);
    return {
      deployment: now.deployment,
      requestsPerSecond: requests / seconds,
      errorsPerSecond: counterDelta(base.errors, now.errors) / seconds,
      clientErrorsPerSecond: counterDelta(base.client_errors, now.client_errors) / seconds,
      mirroredPerSecond: counterDelta(base.mirrored, now.mirrored) / seconds,
      p50Ms: toMs(histogramQuantile(0.5, buckets)),
      p99Ms: toMs(histogramQuantile(0.99, buckets)),
      meanMs: observed > 0 ? (latencySum / observed) * 1000 : null,
    };
  });
}

/** One point of a live chart per deployment: the rates between consecutive samples, at the newer's time. */
export interface RatePoint {
  time: number;
  rates: DeploymentRates[];
}

/** The rate points of a run of samples (oldest first). */
export function ratePoints(samples: readonly SampleLike[]): RatePoint[] {
  const points: RatePoint[] = [];
  for (let i = 1; i < samples.length; i++) {
    const previous = samples[i - 1] as SampleLike;
    const current = samples[i] as SampleLike;
    const rates = telemetryRates(previous, current);
    if (rates.length > 0 || (current.deployments ?? []).length === 0) points.push({ time: current.time, rates });
  }
  return points;
}

/**
 * Add a sample to the kept history: samples at or before the last one's time are ignored (a repeated
 * answer), and only the newest `keep` stay.
 */
export function appendSample<T extends SampleLike>(history: readonly T[], sample: T, keep: number): T[] {
  const last = history[history.length - 1];
  if (last && sample.time <= last.time) return history as T[];
  const next = [...history, sample];
  return next.length > keep ? next.slice(next.length - keep) : next;
}

/** The chart series of one measure: per deployment, x = sample times and y = that measure (NaN = a gap). */
export function rateSeries(
  points: readonly RatePoint[],
  deployments: readonly string[],
  measure: (rates: DeploymentRates) => number | null,
): { label: string; x: number[]; y: number[] }[] {
  return deployments.map((name) => {
    const x: number[] = [];
    const y: number[] = [];
    for (const point of points) {
      const rates = point.rates.find((r) => r.deployment === name);
      x.push(point.time);
      const value = rates ? measure(rates) : null;
      y.push(value === null ? NaN : value);
    }
    return { label: name, x, y };
  });
}

/** A rate for reading: `0`, `0.25/s`, `12.5/s`, `1,204/s`. */
export function formatRate(perSecond: number | null | undefined): string {
  if (perSecond === null || perSecond === undefined || !Number.isFinite(perSecond)) return '—';
  if (perSecond === 0) return '0/s';
  if (perSecond >= 100) return `${Math.round(perSecond).toLocaleString()}/s`;
  return `${Number(perSecond.toPrecision(3))}/s`;
}

/** A latency in milliseconds for reading: `0.42 ms`, `12.3 ms`, `240 ms`, `1.52 s`. */
export function formatLatency(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms >= 1000) return `${Number((ms / 1000).toPrecision(3))} s`;
  if (ms >= 100) return `${Math.round(ms)} ms`;
  return `${Number(ms.toPrecision(3))} ms`;
}

/** A clock time (seconds since the epoch) for a chart's axis: `14:03:07`. */
export function clockTime(seconds: number): string {
  const date = new Date(seconds * 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}
