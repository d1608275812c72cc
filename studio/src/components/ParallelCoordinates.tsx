/**
 * A parallel-coordinates plot in plain SVG: one vertical axis per dimension (params, then the metric
 * last), one polyline per run coloured by its metric value. Hovering a line, or a run in the list
 * under the plot, highlights it and shows its values. Scales and paths live in `lib/parallel.ts`.
 *
 * Test hooks: `data-testid="parallel-coordinates"`, each run's line `data-testid="pc-line"` with
 * `data-run-id`.
 */
import { useEffect, useMemo, useRef, useState } from 'react';

import type { CellValue } from '../lib/diff';
import { formatNumbers } from '../lib/diff';
import { COLOR_STOPS, axisPosition, axisTicks, buildAxis, colorAt, linePath, type Axis } from '../lib/parallel';

export interface ParallelRun {
  id: string;
  label: string;
  values: Record<string, CellValue>;
}

export interface Dimension {
  key: string;
  label: string;
}

const HEIGHT = 320;
const MARGIN = { top: 40, right: 56, bottom: 20, left: 72 };
const NO_VALUE_COLOR = '#8a94a3';

function useWidth(ref: React.RefObject<HTMLElement | null>, fallback: number): number {
  const [width, setWidth] = useState(fallback);
  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    if (element.clientWidth > 0) setWidth(element.clientWidth);
    const observer = new ResizeObserver((entries) => {
      const entry = entries[0];
      if (entry && entry.contentRect.width > 0) setWidth(Math.floor(entry.contentRect.width));
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, [ref]);
  return width;
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, Math.max(1, max - 1))}…` : text;
}

export function ParallelCoordinates({
  runs,
  dimensions,
  colorKey,
}: {
  runs: ParallelRun[];
  dimensions: Dimension[];
  /** The dimension that colours the lines (the metric). */
  colorKey: string;
}) {
  const wrapRef = useRef<HTMLDivElement>(null);
  const width = Math.max(320, useWidth(wrapRef, 900));
  const [active, setActive] = useState<string | null>(null);

  const axes = useMemo(
    () =>
      dimensions.flatMap((dimension) => {
        const axis = buildAxis({ ...dimension, values: runs.map((run) => run.values[dimension.key] ?? null) });
        return axis ? [axis] : [];
      }),
    [dimensions, runs],
  );
  const colorAxis = axes.find((axis) => axis.key === colorKey);

  const plotWidth = width - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const xs = axes.map(
    (_, i) => MARGIN.left + (axes.length === 1 ? plotWidth / 2 : (i * plotWidth) / (axes.length - 1)),
  );
  const spacing = axes.length > 1 ? plotWidth / (axes.length - 1) : plotWidth;
  const labelChars = Math.max(6, Math.floor(spacing / 7));

  const lines = runs.map((run) => {
    const positions = axes.map((axis) => axisPosition(axis, run.values[axis.key] ?? null));
    const colorPosition = colorAxis ? axisPosition(colorAxis, run.values[colorAxis.key] ?? null) : null;
    return {
      run,
      d: linePath(positions, { xs, top: MARGIN.top, height: plotHeight }),
      color: colorPosition === null ? NO_VALUE_COLOR : colorAt(colorPosition),
    };
  });
  // The highlighted line is drawn last, on top.
  const ordered = active
    ? [...lines.filter((l) => l.run.id !== active), ...lines.filter((l) => l.run.id === active)]
    : lines;
  const colorTexts = formatNumbers(
    runs.map((run) => {
      const value = run.values[colorKey];
      return typeof value === 'number' ? value : null;
    }),
  );

  if (axes.length < 2) {
    return (
      <p className="muted compare-empty-note" data-testid="parallel-coordinates" data-empty="true">
        Not enough params to draw: the runs need at least one param and the chosen metric.
      </p>
    );
  }

  return (
    <div className="parallel" ref={wrapRef} data-testid="parallel-coordinates">
      <svg
        width={width}
        height={HEIGHT}
        viewBox={`0 0 ${width} ${HEIGHT}`}
        role="img"
        aria-label={`Parallel coordinates of ${axes.map((a) => a.label).join(', ')} for ${runs.length} runs`}
        onMouseLeave={() => setActive(null)}
      >
        {axes.map((axis, i) => (
          <AxisView
            key={axis.key}
            part="line"
            axis={axis}
            x={xs[i] ?? 0}
            labelChars={labelChars}
            isColor={axis.key === colorKey}
          />
        ))}
        <g className={`pc-lines${active ? ' has-active' : ''}`}>
          {ordered.map(({ run, d, color }) => (
            <g key={run.id}>
              <path
                className={`pc-line${run.id === active ? ' active' : ''}`}
                d={d}
                stroke={color}
                data-testid="pc-line"
                data-run-id={run.id}
              />
              <path
                className="pc-hit"
                d={d}
                onMouseEnter={() => setActive(run.id)}
                onMouseLeave={() => setActive((current) => (current === run.id ? null : current))}
              >
                <title>{run.label}</title>
              </path>
            </g>
          ))}
        </g>
        {/* Labels over the lines, with a halo, so crossing lines do not hide them. */}
        {axes.map((axis, i) => (
          <AxisView
            key={axis.key}
            part="text"
            axis={axis}
            x={xs[i] ?? 0}
            labelChars={labelChars}
            isColor={axis.key === colorKey}
          />
        ))}
      </svg>
      <div className="pc-footer">
        <div className="pc-scale" aria-hidden="true">
          <span>{colorAxis && colorAxis.kind === 'numeric' ? formatNumbers([colorAxis.min])[0] : ''}</span>
          <span
            className="pc-gradient"
            style={{ background: `linear-gradient(to right, ${COLOR_STOPS.join(', ')})` }}
          />
          <span>{colorAxis && colorAxis.kind === 'numeric' ? formatNumbers([colorAxis.max])[0] : ''}</span>
          <span className="muted">{colorAxis?.label ?? ''}</span>
        </div>
        <ul className="pc-runs" aria-label="Runs in the plot">
          {lines.map(({ run, color }, index) => (
            <li
              key={run.id}
              className={run.id === active ? 'active' : undefined}
              tabIndex={0}
              onMouseEnter={() => setActive(run.id)}
              onMouseLeave={() => setActive(null)}
              onFocus={() => setActive(run.id)}
              onBlur={() => setActive(null)}
            >
              <span className="pc-swatch" style={{ background: color }} aria-hidden="true" />
              <span className="pc-run-label">{run.label}</span>
              <span className="mono">{colorTexts[index]}</span>
            </li>
          ))}
        </ul>
      </div>
      {active && (
        <p className="pc-readout" aria-live="polite">
          <strong>{runs.find((r) => r.id === active)?.label}</strong>
          {axes.map((axis) => {
            const value = runs.find((r) => r.id === active)?.values[axis.key] ?? null;
            const text = value === null ? '—' : typeof value === 'number' ? formatNumbers([value])[0] : value;
            return (
              <span key={axis.key}>
                {' · '}
                {axis.label} <span className="mono">{text}</span>
              </span>
            );
          })}
        </p>
      )}
    </div>
  );
}

function AxisView({
  part,
  axis,
  x,
  labelChars,
  isColor,
}: {
  part: 'line' | 'text';
  axis: Axis;
  x: number;
  labelChars: number;
  isColor: boolean;
}) {
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const ticks = axisTicks(axis);
  if (part === 'line') {
    return (
      <g className={`pc-axis${isColor ? ' pc-axis-color' : ''}`}>
        <line x1={x} x2={x} y1={MARGIN.top} y2={MARGIN.top + plotHeight} />
        {ticks.map((tick) => {
          const y = MARGIN.top + (1 - tick.position) * plotHeight;
          return <line key={`${tick.label}-${tick.position}`} x1={x - 4} x2={x} y1={y} y2={y} />;
        })}
      </g>
    );
  }
  return (
    <g className="pc-axis pc-axis-text" data-axis={axis.key}>
      <text className="pc-axis-label" x={x} y={MARGIN.top - 22} textAnchor="middle">
        <title>{axis.label}</title>
        {clip(axis.label, labelChars)}
      </text>
      {axis.kind === 'numeric' && axis.log && (
        <text className="pc-axis-note" x={x} y={MARGIN.top - 9} textAnchor="middle">
          log
        </text>
      )}
      {ticks.map((tick) => {
        const y = MARGIN.top + (1 - tick.position) * plotHeight;
        return (
          <text key={`${tick.label}-${tick.position}`} className="pc-tick" x={x - 7} y={y} dy="0.32em" textAnchor="end">
            <title>{tick.label}</title>
            {clip(tick.label, 10)}
          </text>
        );
      })}
    </g>
  );
}
