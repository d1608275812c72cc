/**
 * A line chart of one or more metric series (uPlot), shared by the run page and Compare.
 *
 * - `series` are overlaid; each has its own x values (they are aligned with `uPlot.join`, and the
 *   gaps that alignment makes are bridged, while NaN/±Infinity points stay real gaps).
 * - `smoothing` (0–0.99) draws a debiased EMA (TensorBoard's) over a faint raw line.
 * - A series of more than ~4 points per pixel is decimated here (min/max per bucket, to ~2 per
 *   pixel); ask the server for ~2000 points (`max_points`) so this rarely has to.
 * - Colours come from CSS variables (`--chart-1`…`--chart-8`, axis and grid colours) and the
 *   chart is rebuilt when `<html data-theme>` changes; it follows its container's width.
 * - Test hooks: `data-testid="metric-chart"`, `data-points` (points drawn, all series, raw lines
 *   only) and `data-ready="true"` once drawn.
 */
import 'uplot/dist/uPlot.min.css';
import './MetricChart.css';

import { useEffect, useMemo, useRef, useState } from 'react';
import uPlot from 'uplot';

import { decimateIndices } from '../lib/decimate';
import { formatNumber } from '../lib/format';
import { clampSmoothing, smooth } from '../lib/smoothing';

export interface ChartSeries {
  label: string;
  x: number[];
  y: number[];
  color?: string;
}

export interface MetricChartProps {
  series: ChartSeries[];
  xLabel: string;
  yLabel?: string;
  logScale?: boolean;
  /** 0 (raw) to 0.99 (very smooth). */
  smoothing?: number;
  height?: number;
  /** Formats x values in the axis and tooltip (default: numbers). */
  formatX?: (value: number) => string;
}

const PALETTE_SIZE = 8;
const FALLBACK_PALETTE = ['#d9480f', '#1c7ed6', '#2f9e44', '#ae3ec9', '#f08c00', '#0c8599', '#e64980', '#5c7cfa'];

interface ThemeColors {
  axis: string;
  grid: string;
  text: string;
  palette: string[];
}

function readThemeColors(): ThemeColors {
  const style = getComputedStyle(document.documentElement);
  const read = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  return {
    axis: read('--text-muted', '#5b6470'),
    grid: read('--chart-grid', read('--border', '#dde1e6')),
    text: read('--text', '#1b1f24'),
    palette: Array.from({ length: PALETTE_SIZE }, (_, i) => read(`--chart-${i + 1}`, FALLBACK_PALETTE[i] as string)),
  };
}

/** A counter that changes whenever `<html data-theme>` does, so charts rebuild with the new colours. */
function useThemeVersion(): number {
  const [version, setVersion] = useState(0);
  useEffect(() => {
    const observer = new MutationObserver(() => setVersion((v) => v + 1));
    observer.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
    return () => observer.disconnect();
  }, []);
  return version;
}

/** The container's content width in CSS pixels, following resizes. */
function useWidth(ref: React.RefObject<HTMLElement | null>): number {
  const [width, setWidth] = useState(0);
  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    setWidth(element.clientWidth);
    const observer = new ResizeObserver((entries) => {
      const entry = entries[0];
      if (entry) setWidth(Math.floor(entry.contentRect.width));
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, [ref]);
  return width;
}

interface Prepared {
  data: uPlot.AlignedData;
  /** Points of the raw lines drawn, all series together. */
  points: number;
  smoothed: boolean;
}

/** Finite x sorted ascending (uPlot needs sorted x), y as given. */
function sortedByX(series: ChartSeries): { x: number[]; y: number[] } {
  const n = Math.min(series.x.length, series.y.length);
  let sorted = true;
  let finite = true;
  for (let i = 0; i < n; i++) {
    const x = series.x[i] as number;
    if (!Number.isFinite(x)) finite = false;
    if (i > 0 && x < (series.x[i - 1] as number)) sorted = false;
  }
  if (sorted && finite && n === series.x.length && n === series.y.length) return series;
  const order = Array.from({ length: n }, (_, i) => i).filter((i) => Number.isFinite(series.x[i]));
  if (!sorted) order.sort((a, b) => (series.x[a] as number) - (series.x[b] as number) || a - b);
  return { x: order.map((i) => series.x[i] as number), y: order.map((i) => series.y[i] as number) };
}

/** A value as uPlot draws it: null (a gap) for NaN/±Infinity, and for values ≤ 0 on a log scale. */
function plotValue(value: number, logScale: boolean): number | null {
  if (!Number.isFinite(value)) return null;
  if (logScale && value <= 0) return null;
  return value;
}

function prepare(series: ChartSeries[], options: { smoothing: number; logScale: boolean; maxPoints: number }): Prepared {
  const smoothed = options.smoothing > 0;
  const tables: uPlot.AlignedData[] = [];
  let points = 0;
  for (const one of series) {
    const { x, y } = sortedByX(one);
    const ySmooth = smoothed ? smooth(y, options.smoothing) : null;
    // Leave alone what the server already cut to ~2 points per pixel; cut only series far longer.
    const keep = y.length > 2 * options.maxPoints ? decimateIndices(y, options.maxPoints) : null;
    const pick = (values: number[]) =>
      (keep ? keep.map((i) => values[i] as number) : values).map((v) => plotValue(v, options.logScale));
    const xs = keep ? keep.map((i) => x[i] as number) : x;
    points += xs.length;
    tables.push(ySmooth ? [xs, pick(y), pick(ySmooth)] : [xs, pick(y)]);
  }
  if (tables.length === 0) return { data: [[]], points: 0, smoothed };
  const data = tables.length === 1 ? (tables[0] as uPlot.AlignedData) : uPlot.join(tables);
  return { data, points, smoothed };
}

/** A short x value: integers as is, others to 4 significant digits. */
function defaultFormatX(value: number): string {
  return Number.isInteger(value) ? value.toLocaleString() : formatNumber(value);
}

export function MetricChart({
  series,
  xLabel,
  yLabel,
  logScale = false,
  smoothing = 0,
  height = 240,
  formatX = defaultFormatX,
}: MetricChartProps) {
  const wrapRef = useRef<HTMLDivElement>(null);
  const plotRef = useRef<HTMLDivElement>(null);
  const tooltipRef = useRef<HTMLDivElement>(null);
  const chartRef = useRef<uPlot | null>(null);
  const [ready, setReady] = useState(false);
  const width = useWidth(wrapRef);
  const themeVersion = useThemeVersion();
  const weight = clampSmoothing(smoothing);

  // Decimate to ~2 points per pixel; the width is rounded so that resizing does not recompute each frame.
  const maxPoints = Math.max(1000, 2 * Math.ceil(Math.max(width, 1) / 250) * 250);
  const prepared = useMemo(
    () => prepare(series, { smoothing: weight, logScale, maxPoints }),
    [series, weight, logScale, maxPoints],
  );
  const preparedRef = useRef(prepared);
  preparedRef.current = prepared;
  const formatXRef = useRef(formatX);
  formatXRef.current = formatX;

  const colors = useMemo(() => {
    void themeVersion;
    return readThemeColors();
  }, [themeVersion]);
  const seriesColors = series.map((one, i) => one.color ?? (colors.palette[i % colors.palette.length] as string));
  // What forces a new uPlot (anything but the data itself and the size).
  const structure = JSON.stringify({
    labels: series.map((one) => one.label),
    seriesColors,
    smoothed: prepared.smoothed,
    logScale,
    height,
    xLabel,
    yLabel,
    themeVersion,
  });

  useEffect(() => {
    const target = plotRef.current;
    const wrap = wrapRef.current;
    if (!target || !wrap) return;
    const { smoothed } = preparedRef.current;
    const uSeries: uPlot.Series[] = [{ label: xLabel }];
    series.forEach((one, i) => {
      const stroke = seriesColors[i] as string;
      // A line needs two points: a series with one finite value is drawn as a dot instead of nothing.
      let finite = 0;
      for (const y of one.y) if (Number.isFinite(y) && ++finite > 1) break;
      const marks = finite <= 1 ? { show: true, size: 7, fill: stroke, stroke } : { show: false };
      if (smoothed) {
        uSeries.push({ label: `${one.label} (raw)`, stroke, width: 1, alpha: 0.25, points: { show: false } });
        uSeries.push({ label: one.label, stroke, width: 1.75, points: marks });
      } else {
        uSeries.push({ label: one.label, stroke, width: 1.5, points: marks });
      }
    });
    const axis = (label: string | undefined): uPlot.Axis => ({
      stroke: colors.axis,
      grid: { stroke: colors.grid, width: 1 },
      ticks: { stroke: colors.grid, width: 1 },
      ...(label ? { label, labelSize: 20, labelFont: '12px system-ui, sans-serif' } : {}),
      font: '11px system-ui, sans-serif',
    });
    const xAxis = axis(xLabel);
    xAxis.values = (_self, splits) => splits.map((v) => (v === null || v === undefined ? '' : formatXRef.current(v)));
    const yAxis = axis(yLabel);
    yAxis.values = (_self, splits) => splits.map((v) => (v === null || v === undefined ? '' : formatNumber(v)));
    yAxis.size = 56;

    const updateTooltip = (u: uPlot) => {
      const tooltip = tooltipRef.current;
      if (!tooltip) return;
      const idx = u.cursor.idx;
      if (idx === null || idx === undefined || u.cursor.left === undefined || u.cursor.left < 0) {
        tooltip.hidden = true;
        return;
      }
      const xValue = u.data[0][idx];
      tooltip.replaceChildren();
      const head = document.createElement('div');
      head.className = 'metric-chart-tooltip-x';
      head.textContent = `${xLabel} ${xValue === undefined ? '' : formatXRef.current(xValue)}`;
      tooltip.append(head);
      const perSeries = smoothed ? 2 : 1;
      series.forEach((one, i) => {
        const column = 1 + i * perSeries + (smoothed ? 1 : 0);
        const value = u.data[column]?.[idx];
        const raw = smoothed ? u.data[column - 1]?.[idx] : undefined;
        if (value === undefined && raw === undefined) return;
        const row = document.createElement('div');
        row.className = 'metric-chart-tooltip-row';
        const swatch = document.createElement('span');
        swatch.className = 'metric-chart-swatch';
        swatch.style.background = seriesColors[i] as string;
        const name = document.createElement('span');
        name.className = 'metric-chart-tooltip-label';
        name.textContent = one.label;
        const shown = document.createElement('span');
        shown.className = 'metric-chart-tooltip-value';
        shown.textContent =
          value === null || value === undefined ? '—' : formatNumber(value);
        row.append(swatch, name, shown);
        if (smoothed && raw !== undefined) {
          const rawText = document.createElement('span');
          rawText.className = 'metric-chart-tooltip-raw';
          rawText.textContent = raw === null ? '(—)' : `(${formatNumber(raw)})`;
          row.append(rawText);
        }
        tooltip.append(row);
      });
      tooltip.hidden = false;
      const overWidth = u.over.clientWidth;
      const left = u.cursor.left + u.over.offsetLeft;
      const top = (u.cursor.top ?? 0) + u.over.offsetTop;
      const tipWidth = tooltip.offsetWidth;
      const x = left + 14 + tipWidth > overWidth + u.over.offsetLeft ? left - 14 - tipWidth : left + 14;
      tooltip.style.transform = `translate(${Math.max(0, x)}px, ${Math.max(0, top - 10)}px)`;
    };

    const options: uPlot.Options = {
      width: Math.max(wrap.clientWidth, 100),
      height,
      series: uSeries,
      legend: { show: false },
      scales: { x: { time: false }, y: logScale ? { distr: 3, log: 10 } : { auto: true } },
      axes: [xAxis, yAxis],
      cursor: { drag: { x: true, y: false }, points: { size: 6 } },
      hooks: {
        setCursor: [updateTooltip],
        draw: [
          () => {
            setReady(true);
          },
        ],
      },
    };
    setReady(false);
    const chart = new uPlot(options, preparedRef.current.data, target);
    chartRef.current = chart;
    return () => {
      chart.destroy();
      chartRef.current = null;
    };
    // `structure` stands for every option read above; data and size are applied by the effects below.
  }, [structure]);

  useEffect(() => {
    const chart = chartRef.current;
    if (chart && chart.data !== prepared.data) chart.setData(prepared.data);
  }, [prepared]);

  useEffect(() => {
    const chart = chartRef.current;
    if (chart && width > 0 && chart.width !== width) chart.setSize({ width, height });
  }, [width, height]);

  return (
    <div
      className="metric-chart"
      ref={wrapRef}
      data-testid="metric-chart"
      data-points={prepared.points}
      data-ready={ready ? 'true' : 'false'}
    >
      <div ref={plotRef} className="metric-chart-plot" />
      <div ref={tooltipRef} className="metric-chart-tooltip" hidden role="presentation" />
      {series.length > 1 && (
        <ul className="metric-chart-legend">
          {series.map((one, i) => (
            <li key={`${one.label}-${i}`}>
              <span className="metric-chart-swatch" style={{ background: seriesColors[i] }} aria-hidden="true" />
              {one.label}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
