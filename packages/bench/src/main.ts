/**
 * The bench command: runs every measurement in this one process (cold start spawns its children), prints one
 * Markdown table (measure | value | baseline | ratio | target | pass) and writes the same as JSON.
 *
 *   bench [--only NAME[,NAME...]] [--json FILE]
 *
 * NAMEs: srcu, ida, dax_inode, mapping, faults, probe, sparse, cold_start. The JSON goes to
 * bench-results.json in the package folder unless --json says otherwise. Run it with node's --expose-gc (the
 * package's bench script does) so that heap figures are read after a full collection.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { coldStart } from './cold_start.js';
import { daxInode } from './dax_inode.js';
import { faults } from './faults.js';
import { gcExposed, msSince, nowNs } from './harness.js';
import { ida } from './ida.js';
import { mapping } from './mapping.js';
import { probe } from './probe.js';
import { sparse } from './sparse.js';
import { srcu } from './srcu.js';
import { evaluate, formatTable, type Result, type Row, report } from './table.js';

/** Every measurement, in the order the bench runs them. */
const MEASUREMENTS: Record<string, () => Row[] | Promise<Row[]>> = {
  srcu: () => srcu(),
  ida: () => ida(),
  dax_inode: () => daxInode(),
  mapping: () => mapping(),
  faults: () => faults(),
  probe: () => probe(),
  sparse: () => sparse(),
  cold_start: () => coldStart(),
};

const DEFAULT_JSON = join(import.meta.dirname, '..', 'bench-results.json');

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { only: { type: 'string', multiple: true }, json: { type: 'string' } },
  });
  const only = (values.only ?? []).flatMap((s) => s.split(',')).filter((s) => s !== '');
  const unknown = only.filter((n) => !(n in MEASUREMENTS));
  if (unknown.length > 0)
    throw new Error(
      `unknown measurement ${unknown.join(', ')}; known: ${Object.keys(MEASUREMENTS).join(', ')}`,
    );
  const names = only.length > 0 ? only : Object.keys(MEASUREMENTS);
  if (!gcExposed())
    console.error('bench: run node with --expose-gc for heap figures after a full collection');

  const t0 = nowNs();
  const results: Result[] = [];
  for (const name of names) {
    const t = nowNs();
    const rows = await MEASUREMENTS[name]!();
    results.push(...rows.map(evaluate));
    console.error(`bench: ${name} done in ${(msSince(t) / 1000).toFixed(1)} s`);
  }
  const durationMs = msSince(t0);

  console.log(formatTable(results));
  const judged = results.filter((r) => r.pass !== null);
  const missed = judged.filter((r) => r.pass === false).map((r) => r.measure);
  console.log(
    `\n${judged.length - missed.length} of ${judged.length} targets met${missed.length > 0 ? `; missed: ${missed.join('; ')}` : ''}` +
      ` (${(durationMs / 1000).toFixed(1)} s, node ${process.version})`,
  );
  const file = values.json === undefined ? DEFAULT_JSON : resolve(values.json);
  writeFileSync(file, `${JSON.stringify(report(results, durationMs, gcExposed()), null, 2)}\n`);
  console.log(`JSON: ${file}`);
}

await main();
