import { describe, expect, it } from 'vitest';
import { median, sampleMany } from '../src/harness.js';
import { evaluate, formatFigure, formatTable, formatTarget, type Row, report } from '../src/table.js';

const row = (over: Partial<Row> = {}): Row => ({
  key: 'x.y',
  measure: 'thing',
  value: { value: 30, unit: 'ms' },
  ...over,
});

describe('median and rounds', () => {
  it('takes the middle sample, or the mean of the two middle ones', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow('median of no samples');
  });

  it('drops the warm-up rounds and takes each figure’s median', async () => {
    const seen: number[] = [];
    const m = await sampleMany({ rounds: 3, warmup: 2 }, (i) => {
      seen.push(i);
      return { a: i * 10, b: 100 - i };
    });
    expect(seen).toEqual([0, 1, 2, 3, 4]);
    expect(m).toEqual({ a: 30, b: 97 });
  });
});

describe('evaluate', () => {
  it('gives ratio = value / baseline and no verdict without a target', () => {
    const r = evaluate(row({ baseline: { value: 12, unit: 'ms', label: 'b' } }));
    expect(r.ratio).toBe(2.5);
    expect(r.pass).toBeNull();
    expect(evaluate(row()).ratio).toBeNull();
  });

  it('judges value targets with <, <= and >=', () => {
    const t = (cmp: '<' | '<=' | '>=', limit: number) =>
      evaluate(row({ target: { of: 'value', cmp, limit, source: 's' } })).pass;
    expect([t('<', 30), t('<', 30.5), t('<=', 30), t('<=', 29.9), t('>=', 30), t('>=', 30.1)]).toEqual([
      false,
      true,
      true,
      false,
      true,
      false,
    ]);
  });

  it('judges ratio targets against the baseline', () => {
    const target = { of: 'ratio', cmp: '<=', limit: 1.5, source: 'issue 6' } as const;
    expect(evaluate(row({ baseline: { value: 20, unit: 'ms', label: 'b' }, target })).pass).toBe(true);
    expect(evaluate(row({ baseline: { value: 19.9, unit: 'ms', label: 'b' }, target })).pass).toBe(false);
    expect(() => evaluate(row({ target }))).toThrow('a ratio target needs a baseline');
  });

  it('refuses a baseline in another unit', () => {
    expect(() => evaluate(row({ baseline: { value: 1, unit: 'ns', label: 'b' } }))).toThrow(
      'x.y: value in ms, baseline in ns',
    );
  });
});

describe('formatting', () => {
  it('prints figures with their units', () => {
    expect(formatFigure({ value: 65536, unit: 'B' })).toBe('64 KiB');
    expect(formatFigure({ value: 38297, unit: 'B' })).toBe('37.4 KiB');
    expect(formatFigure({ value: 500, unit: 'B' })).toBe('500 B');
    expect(formatFigure({ value: 3 * 2 ** 20, unit: 'B' })).toBe('3 MiB');
    expect(formatFigure({ value: 173.74, unit: 'ns' })).toBe('173.7 ns');
    expect(formatFigure({ value: 1.0865, unit: 'ns' })).toBe('1.09 ns');
    expect(formatFigure({ value: 6.194, unit: 'GiB/s' })).toBe('6.19 GiB/s');
  });

  it('prints targets', () => {
    expect(formatTarget({ of: 'value', cmp: '<', limit: 400, source: 's' }, 'ms')).toBe('< 400.0 ms');
    expect(formatTarget({ of: 'ratio', cmp: '>=', limit: 0.8, source: 's' }, 'GiB/s')).toBe('ratio ≥ 0.8');
    expect(formatTarget({ of: 'value', cmp: '<=', limit: 65536, source: 's' }, 'B')).toBe('≤ 64 KiB');
  });

  it('prints one Markdown table with a pass column', () => {
    const results = [
      evaluate(
        row({
          measure: 'cold start',
          value: { value: 228.84, unit: 'ms' },
          baseline: { value: 26.36, unit: 'ms', label: 'node -e ""' },
          target: { of: 'value', cmp: '<', limit: 400, source: 'issue 5' },
        }),
      ),
      evaluate(
        row({
          measure: 'lifetime',
          value: { value: 3000, unit: 'ns' },
          baseline: { value: 1000, unit: 'ns', label: '1k live' },
          target: { of: 'ratio', cmp: '<=', limit: 1.5, source: 'issue 6' },
        }),
      ),
      evaluate(row({ measure: 'plain', value: { value: 5, unit: 'µs' } })),
    ];
    expect(formatTable(results).split('\n')).toEqual([
      '| measure | value | baseline (same run) | ratio | target | pass |',
      '|---|---|---|---|---|---|',
      '| cold start | 228.8 ms | 26.36 ms (node -e "") | 8.68x | < 400.0 ms | pass |',
      '| lifetime | 3000.0 ns | 1000.0 ns (1k live) | 3.00x | ratio ≤ 1.5 | **MISS** |',
      '| plain | 5.00 µs | — | — | — | — |',
    ]);
  });

  it('reports the machine and every result as JSON', () => {
    const results = [evaluate(row())];
    const r = JSON.parse(JSON.stringify(report(results, 1234.4, true)));
    expect(r).toMatchObject({ node: process.version, gcExposed: true, durationMs: 1234, results });
    expect(r.cpus).toBeGreaterThan(0);
  });
});
