import { describe, expect, it } from 'vitest';

import {
  answerMessage,
  anyDeploymentChanging,
  appendSample,
  autoscaleLabel,
  bucketDelta,
  checkTraffic,
  clockTime,
  curlSnippet,
  deploymentModelUrl,
  deploymentStatus,
  endpointUrl,
  environmentLabel,
  epochToIso,
  expiresIn,
  formatLatency,
  formatRate,
  histogramQuantile,
  httpStatusTone,
  jsonError,
  parsePercent,
  prettyBody,
  ratePoints,
  rateSeries,
  sameTraffic,
  sdkSnippet,
  telemetryRates,
  trafficDraft,
  trafficSummary,
  upperBound,
  type Bucket,
  type SampleLike,
} from './endpoints';

describe('links and times', () => {
  it('links an endpoint, its tabs and the models it serves', () => {
    expect(endpointUrl('iris')).toBe('/endpoints/iris');
    expect(endpointUrl('iris', 'telemetry')).toBe('/endpoints/iris/telemetry');
    expect(deploymentModelUrl({ name: 'iris clf', version: 3 })).toBe('/models/iris%20clf?version=3');
  });

  it('turns seconds since the epoch into ISO times', () => {
    expect(epochToIso(0)).toBe('1970-01-01T00:00:00.000Z');
    expect(epochToIso(1_700_000_000.5)).toBe('2023-11-14T22:13:20.500Z');
    expect(epochToIso(null)).toBeNull();
    expect(epochToIso(Number.NaN)).toBeNull();
  });
});

describe('deployments', () => {
  it('gives each status a tone, and pulses while it changes', () => {
    expect(deploymentStatus('Healthy')).toEqual({ tone: 'ok', live: false, label: 'Healthy' });
    expect(deploymentStatus('Creating')).toMatchObject({ tone: 'active', live: true });
    expect(deploymentStatus('Failed').tone).toBe('bad');
    expect(deploymentStatus('Degraded').tone).toBe('warn');
    expect(deploymentStatus('Sleeping')).toEqual({ tone: 'neutral', live: false, label: 'Sleeping' });
    expect(anyDeploymentChanging([{ status: 'Healthy' }, { status: 'Updating' }])).toBe(true);
    expect(anyDeploymentChanging([{ status: 'Healthy' }, { status: 'Failed' }])).toBe(false);
  });

  it('writes autoscale settings and environments in a line', () => {
    expect(autoscaleLabel(null)).toBeNull();
    expect(autoscaleLabel({ min_replicas: 2, max_replicas: 6, target_concurrency: 4 })).toBe(
      '2–6 replicas, 4 in flight each',
    );
    expect(environmentLabel({ name: 'sklearn', version: 3 })).toBe('sklearn:3');
    expect(environmentLabel({ name: 'sklearn', version: null })).toBe('sklearn');
    expect(environmentLabel(null)).toBeNull();
  });
});

describe('the traffic editor', () => {
  const deployments = ['blue', 'green'];
  const draft = (traffic: Record<string, string>, mirror: Record<string, string> = {}) => ({ traffic, mirror });

  it('starts from the endpoint, with 0 for what it does not name', () => {
    const endpoint = {
      traffic: { blue: 100 },
      mirror_traffic: { green: 10 },
      deployments: [{ name: 'blue' }, { name: 'green' }],
    };
    expect(trafficDraft(endpoint)).toEqual({ traffic: { blue: '100', green: '0' }, mirror: { blue: '0', green: '10' } });
  });

  it('reads percentages as whole numbers within their bounds', () => {
    expect(parsePercent('')).toBe(0);
    expect(parsePercent(' 40 ')).toBe(40);
    expect(parsePercent('100')).toBe(100);
    expect(parsePercent('101')).toBeNull();
    expect(parsePercent('12.5')).toBeNull();
    expect(parsePercent('-5')).toBeNull();
    expect(parsePercent('abc')).toBeNull();
    expect(parsePercent('60', 50)).toBeNull();
  });

  it('accepts a split that sums to 100 and sends only what is not 0', () => {
    const check = checkTraffic(draft({ blue: '90', green: '10' }), deployments);
    expect(check.error).toBeNull();
    expect(check.total).toBe(100);
    expect(check.update).toEqual({ traffic: { blue: 90, green: 10 }, mirror_traffic: {} });
  });

  it('refuses a sum other than 100 and says what it adds up to', () => {
    const check = checkTraffic(draft({ blue: '90', green: '20' }), deployments);
    expect(check.error).toBe('Live traffic adds up to 110%; it must be 100%.');
    expect(check.total).toBe(110);
    expect(check.update).toBeNull();
    expect(checkTraffic(draft({ blue: '50', green: '' }), deployments).error).toContain('adds up to 50%');
  });

  it('accepts all 0 with a warning that the endpoint answers 503', () => {
    const check = checkTraffic(draft({ blue: '0', green: '0' }), deployments);
    expect(check.error).toBeNull();
    expect(check.warning).toContain('503');
    expect(check.update).toEqual({ traffic: {}, mirror_traffic: {} });
  });

  it('marks the inputs that are not percentages', () => {
    const check = checkTraffic(draft({ blue: '99.5', green: '0.5' }, { green: '70' }), deployments);
    expect(check.fieldErrors).toEqual({
      'traffic:blue': 'a whole number from 0 to 100',
      'traffic:green': 'a whole number from 0 to 100',
      'mirror:green': 'a whole number from 0 to 50',
    });
    expect(check.error).toBe('Fix the highlighted percentages.');
    expect(check.update).toBeNull();
  });

  it('mirrors to one deployment without live traffic, at most 50%', () => {
    const ok = checkTraffic(draft({ blue: '100', green: '0' }, { green: '20' }), deployments);
    expect(ok.error).toBeNull();
    expect(ok.update).toEqual({ traffic: { blue: 100 }, mirror_traffic: { green: 20 } });

    const live = checkTraffic(draft({ blue: '50', green: '50' }, { green: '20' }), deployments);
    expect(live.error).toBe('green takes live traffic: mirror only to a deployment at 0% live traffic.');

    const two = checkTraffic(draft({ blue: '100', green: '0', red: '0' }, { green: '5', red: '5' }), [
      'blue',
      'green',
      'red',
    ]);
    expect(two.error).toBe('Mirror to one deployment at a time (green, red are set).');
  });

  it('knows when an update changes nothing', () => {
    const endpoint = { traffic: { blue: 100, green: 0 }, mirror_traffic: {} };
    expect(sameTraffic({ traffic: { blue: 100 }, mirror_traffic: {} }, endpoint)).toBe(true);
    expect(sameTraffic({ traffic: { blue: 90, green: 10 }, mirror_traffic: {} }, endpoint)).toBe(false);
    expect(sameTraffic({ traffic: { blue: 100 }, mirror_traffic: { green: 5 } }, endpoint)).toBe(false);
  });

  it('sums the split up in a line, largest first', () => {
    expect(trafficSummary({ traffic: { green: 10, blue: 90 } })).toBe('blue 90% · green 10%');
    expect(trafficSummary({ traffic: { blue: 100, green: 0 }, mirror_traffic: { green: 5 } })).toBe(
      'blue 100% · mirror → green 5%',
    );
    expect(trafficSummary({ traffic: {} })).toBe('no live traffic');
  });
});

describe('the test tab', () => {
  it('says why a body is not JSON', () => {
    expect(jsonError('{"data": [[1, 2]]}')).toBeNull();
    expect(jsonError('  ')).toContain('empty');
    expect(jsonError('{"data": [1, 2}')).toMatch(/^Not valid JSON: /);
  });

  it('indents JSON answers and leaves other text alone', () => {
    expect(prettyBody('{"predictions":[0, 1]}')).toEqual({
      text: '{\n  "predictions": [\n    0,\n    1\n  ]\n}',
      json: true,
    });
    expect(prettyBody('plain text')).toEqual({ text: 'plain text', json: false });
    expect(prettyBody('')).toEqual({ text: '', json: false });
  });

  it('finds the message of an error answer', () => {
    expect(answerMessage('{"error": {"code": "unavailable", "message": "no deployment takes traffic"}}')).toBe(
      'no deployment takes traffic',
    );
    expect(answerMessage('{"message": "score.py failed: ValueError"}')).toBe('score.py failed: ValueError');
    expect(answerMessage('{"detail": "Not Found"}')).toBe('Not Found');
    expect(answerMessage('{"predictions": [0]}')).toBeNull();
    expect(answerMessage('[1, 2]')).toBeNull();
    expect(answerMessage('oops')).toBeNull();
  });

  it('colours HTTP statuses', () => {
    expect(httpStatusTone(200)).toBe('ok');
    expect(httpStatusTone(422)).toBe('warn');
    expect(httpStatusTone(503)).toBe('bad');
  });

  it('writes how to call the endpoint from a shell and from Python', () => {
    expect(sdkSnippet('iris')).toContain('ember.Endpoint(ws, "iris")');
    expect(sdkSnippet('iris')).toContain('endpoint.run({"data": [[5.1, 3.5, 1.4, 0.2]]})');
    expect(curlSnippet('http://127.0.0.1:5001/endpoints/iris/score', 'key')).toContain('Bearer $EMBER_KEY');
    expect(curlSnippet('http://h/score', 'token')).toContain('Bearer $EMBER_TOKEN');
  });

  it('says when a token expires', () => {
    const now = 1_700_000_000_000;
    expect(expiresIn(now / 1000 + 3600, now)).toBe('in 1 h');
    expect(expiresIn(now / 1000 + 3599, now)).toBe('in 60 min');
    expect(expiresIn(now / 1000 + 30.5, now)).toBe('in 30 s');
    expect(expiresIn(now / 1000 + 5400, now)).toBe('in 1 h 30 min');
    expect(expiresIn(now / 1000 - 1, now)).toBe('expired');
  });
});

describe('histogram percentiles', () => {
  // 100 requests: 50 under 10 ms, 40 more under 50 ms, 9 more under 100 ms, 1 slower.
  const buckets: Bucket[] = [
    [0.01, 50],
    [0.05, 90],
    [0.1, 99],
    [1e308, 100],
  ];

  it('reads infinite bounds from what JSON can carry', () => {
    expect(upperBound(0.5)).toBe(0.5);
    expect(upperBound(null)).toBe(Infinity);
    expect(upperBound(1e308)).toBe(Infinity); // how the serving host sends +Inf
    expect(upperBound('+Inf')).toBe(Infinity);
    expect(upperBound('inf')).toBe(Infinity);
    expect(upperBound('Infinity')).toBe(Infinity);
    expect(upperBound('0.25')).toBe(0.25);
  });

  it('interpolates inside the bucket the rank falls in', () => {
    expect(histogramQuantile(0.5, buckets)).toBeCloseTo(0.01);
    expect(histogramQuantile(0.25, buckets)).toBeCloseTo(0.005);
    expect(histogramQuantile(0.7, buckets)).toBeCloseTo(0.03); // 20 of the 40 between 10 and 50 ms
    expect(histogramQuantile(0.99, buckets)).toBeCloseTo(0.1);
  });

  it('answers the last finite bound for ranks in the +∞ bucket', () => {
    expect(histogramQuantile(0.999, buckets)).toBeCloseTo(0.1);
    expect(histogramQuantile(1, buckets)).toBeCloseTo(0.1);
  });

  it('counts a total beyond the last bucket as slower than its bound', () => {
    const finite: Bucket[] = [
      [0.1, 5],
      [1, 8],
    ];
    expect(histogramQuantile(0.5, finite, 10)).toBeCloseTo(0.1); // rank 5 is the first bucket's last
    expect(histogramQuantile(0.9, finite, 10)).toBeCloseTo(1); // rank 9 is past the last bucket
    expect(histogramQuantile(0.7, finite, 10)).toBeCloseTo(0.1 + 0.9 * (2 / 3));
  });

  it('skips empty buckets and sorts bounds', () => {
    const sparse: Bucket[] = [
      [0.5, 4],
      [0.1, 0],
      [0.2, 0],
    ];
    expect(histogramQuantile(0.5, sparse)).toBeCloseTo(0.35);
  });

  it('has no percentile without observations', () => {
    expect(histogramQuantile(0.5, [])).toBeNull();
    expect(histogramQuantile(0.5, [[0.1, 0], [null, 0]])).toBeNull();
  });

  it('subtracts cumulative buckets bound by bound, and takes the newer ones after a reset', () => {
    const before: Bucket[] = [
      [0.01, 10],
      [0.1, 20],
      [null, 20],
    ];
    const after: Bucket[] = [
      [0.01, 12],
      [0.1, 30],
      ['+Inf', 31],
    ];
    expect(bucketDelta(before, after)).toEqual([
      [0.01, 2],
      [0.1, 10],
      [Infinity, 11],
    ]);
    const restarted: Bucket[] = [
      [0.01, 1],
      [0.1, 1],
      [null, 1],
    ];
    expect(bucketDelta(before, restarted)).toEqual([
      [0.01, 1],
      [0.1, 1],
      [Infinity, 1],
    ]);
  });
});

describe('telemetry rates', () => {
  const first = {
    time: 100,
    deployments: [
      {
        deployment: 'blue',
        requests: 100,
        errors: 2,
        client_errors: 1,
        mirrored: 0,
        latency_buckets: [
          [0.01, 80],
          [0.1, 100],
          [null, 100],
        ] as Bucket[],
        latency_sum: 1.5,
      },
    ],
  };
  const second = {
    time: 102,
    deployments: [
      {
        deployment: 'blue',
        requests: 140,
        errors: 6,
        client_errors: 1,
        mirrored: 0,
        latency_buckets: [
          [0.01, 100],
          [0.1, 140],
          [null, 140],
        ] as Bucket[],
        latency_sum: 3.5,
      },
      {
        deployment: 'green',
        requests: 4,
        errors: 0,
        mirrored: 4,
        latency_buckets: [
          [0.01, 4],
          [null, 4],
        ] as Bucket[],
        latency_sum: 0.02,
      },
    ],
  };

  it('divides the growth of each counter by the time between the samples', () => {
    const [blue, green] = telemetryRates(first, second);
    expect(blue).toMatchObject({
      deployment: 'blue',
      requestsPerSecond: 20,
      errorsPerSecond: 2,
      clientErrorsPerSecond: 0,
      mirroredPerSecond: 0,
    });
    // 40 new requests: 20 under 10 ms, 20 between 10 and 100 ms.
    expect(blue?.p50Ms).toBeCloseTo(10);
    expect(blue?.p99Ms).toBeCloseTo(10 + 90 * (19.6 / 20));
    expect(blue?.meanMs).toBeCloseTo(50); // 2 s over 40 requests
    // A deployment new in the second sample counts from zero.
    expect(green).toMatchObject({ deployment: 'green', requestsPerSecond: 2, mirroredPerSecond: 2 });
    expect(green?.meanMs).toBeCloseTo(5);
  });

  it('starts over when the counters went down (the serving host restarted)', () => {
    const restarted = {
      time: 104,
      deployments: [{ deployment: 'blue', requests: 8, errors: 0, latency_buckets: [[0.01, 8], [null, 8]] as Bucket[] }],
    };
    const [blue] = telemetryRates(second, restarted);
    expect(blue?.requestsPerSecond).toBe(4);
    expect(blue?.errorsPerSecond).toBe(0);
    expect(blue?.p50Ms).toBeCloseTo(5);
  });

  it('has no rate for samples out of order, and no latency without requests', () => {
    expect(telemetryRates(second, first)).toEqual([]);
    const idle = telemetryRates(first, { ...first, time: 104 });
    expect(idle[0]).toMatchObject({ requestsPerSecond: 0, p50Ms: null, p99Ms: null, meanMs: null });
  });

  it('keeps a bounded history and turns it into chart series', () => {
    let history: SampleLike[] = appendSample([], first, 3);
    history = appendSample(history, second, 3);
    history = appendSample(history, second, 3); // the same answer twice is one sample
    expect(history).toHaveLength(2);
    const third = { ...second, time: 104 };
    const fourth = { ...second, time: 106 };
    history = appendSample(appendSample(history, third, 3), fourth, 3);
    expect(history.map((s) => s.time)).toEqual([102, 104, 106]);

    const points = ratePoints([first, second, third]);
    expect(points.map((p) => p.time)).toEqual([102, 104]);
    const series = rateSeries(points, ['blue', 'green', 'red'], (r) => r.requestsPerSecond);
    expect(series[0]).toEqual({ label: 'blue', x: [102, 104], y: [20, 0] });
    expect(series[1]?.y).toEqual([2, 0]);
    expect(series[2]?.y.every(Number.isNaN)).toBe(true); // not served: a gap
  });
});

describe('formatting', () => {
  it('writes rates and latencies briefly', () => {
    expect(formatRate(0)).toBe('0/s');
    expect(formatRate(0.25)).toBe('0.25/s');
    expect(formatRate(12.345)).toBe('12.3/s');
    expect(formatRate(1204.4)).toBe('1,204/s');
    expect(formatRate(null)).toBe('—');
    expect(formatLatency(0.4213)).toBe('0.421 ms');
    expect(formatLatency(12.34)).toBe('12.3 ms');
    expect(formatLatency(240.4)).toBe('240 ms');
    expect(formatLatency(1523)).toBe('1.52 s');
    expect(formatLatency(null)).toBe('—');
  });

  it('writes clock times with two digits each', () => {
    const seconds = new Date(2024, 0, 1, 9, 5, 7).getTime() / 1000;
    expect(clockTime(seconds)).toBe('09:05:07');
  });
});
