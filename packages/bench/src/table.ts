/**
 * The bench's one output: rows of (measure, value, baseline measured in the same run, ratio, target, pass),
 * printed as a Markdown table and written as JSON.
 */
import { cpus } from 'node:os';

/** Units a figure may carry. Ratios are only taken between figures of the same unit. */
export type Unit = 'ns' | 'µs' | 'ms' | 'B' | 'GiB/s';

/** A number with its unit. */
export interface Figure {
  value: number;
  unit: Unit;
}

/** What a baseline is: a figure and a few words saying what was measured. */
export interface Baseline extends Figure {
  label: string;
}

/**
 * A target set by an issue: the row's value (or its ratio to the baseline) must be below, at most or at
 * least `limit`. `source` says where it was set.
 */
export interface Target {
  of: 'value' | 'ratio';
  cmp: '<' | '<=' | '>=';
  limit: number;
  source: string;
}

/** One line of the table as a measurement reports it. */
export interface Row {
  /** Stable identifier, e.g. "mapping.read". */
  key: string;
  measure: string;
  value: Figure;
  baseline?: Baseline;
  target?: Target;
}

/** A row with its ratio (value / baseline, null without a baseline) and verdict (null without a target). */
export interface Result extends Row {
  ratio: number | null;
  pass: boolean | null;
}

/** The JSON document the bench writes. */
export interface Report {
  generated: string;
  node: string;
  platform: string;
  cpus: number;
  cpuModel: string;
  gcExposed: boolean;
  durationMs: number;
  results: Result[];
}

/** Ratio and verdict of a row. Throws when value and baseline have different units. */
export function evaluate(row: Row): Result {
  let ratio: number | null = null;
  if (row.baseline !== undefined) {
    if (row.baseline.unit !== row.value.unit)
      throw new Error(`${row.key}: value in ${row.value.unit}, baseline in ${row.baseline.unit}`);
    ratio = row.value.value / row.baseline.value;
  }
  let pass: boolean | null = null;
  if (row.target !== undefined) {
    const t = row.target;
    const x = t.of === 'value' ? row.value.value : ratio;
    if (x === null) throw new Error(`${row.key}: a ratio target needs a baseline`);
    pass = t.cmp === '<' ? x < t.limit : t.cmp === '<=' ? x <= t.limit : x >= t.limit;
  }
  return { ...row, ratio, pass };
}

/** A figure for people: "154.4 ms", "0.55 µs", "64 KiB", "7.50 GiB/s". */
export function formatFigure(f: Figure): string {
  const v = f.value;
  switch (f.unit) {
    case 'B':
      return formatBytes(v);
    case 'GiB/s':
      return `${v.toFixed(2)} GiB/s`;
    default:
      return `${v >= 100 ? v.toFixed(1) : v.toFixed(2)} ${f.unit}`;
  }
}

function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${Math.round(v)} B` : `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[u]}`;
}

/** A population for people: "100k", "1k", "500". */
export function formatCount(n: number): string {
  return n >= 1000 ? `${n / 1000}k` : String(n);
}

/** A target for people: "ratio ≥ 0.8", "< 400 ms". */
export function formatTarget(t: Target, unit: Unit): string {
  const cmp = { '<': '<', '<=': '≤', '>=': '≥' }[t.cmp];
  return t.of === 'ratio' ? `ratio ${cmp} ${t.limit}` : `${cmp} ${formatFigure({ value: t.limit, unit })}`;
}

/** The results as a Markdown table: measure | value | baseline | ratio | target | pass. */
export function formatTable(results: readonly Result[]): string {
  const lines = [
    '| measure | value | baseline (same run) | ratio | target | pass |',
    '|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    const cells = [
      r.measure,
      formatFigure(r.value),
      r.baseline === undefined ? '—' : `${formatFigure(r.baseline)} (${r.baseline.label})`,
      r.ratio === null ? '—' : `${r.ratio.toFixed(2)}x`,
      r.target === undefined ? '—' : formatTarget(r.target, r.value.unit),
      r.pass === null ? '—' : r.pass ? 'pass' : '**MISS**',
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** The JSON document for a run that took `durationMs`. */
export function report(results: readonly Result[], durationMs: number, gcExposed: boolean): Report {
  return {
    generated: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    gcExposed,
    durationMs: Math.round(durationMs),
    results: [...results],
  };
}
