import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../test/support/edge-bundle.js';
import { signerVars, TEST_PAY_TO } from '../test/support/snapshots.js';
import { benchOffers, benchSnapshot, pushCatalog } from './catalog.js';
import { discoveryCase } from './cases/discovery.js';
import { challengeCase, paidCase } from './cases/gate.js';
import { acceptCase, renderCase } from './cases/render.js';
import { formatFigures, formatRuns, type BenchResults } from './figures.js';
import { startFacilitatorStub, startOrigin, type TimedServer } from './servers.js';
import { bundleWorkers, startOfficialWorker, startOurEdge, type RunningWorker } from './workers.js';
import { withWorkerdPid } from './workerd-cpu.js';

/**
 * `npm run bench`: every case side by side in one sitting (ratios drift ±25 % between sittings on
 * two cores), workers in workerd via Miniflare, load from a separate process, loopback only.
 * Prints a table and writes bench/results.json. A case whose part is missing is reported as
 * "not available" instead of failing the run.
 */
const FACILITATOR_DELAY_MS = 20;

type Cleanup = () => Promise<void>;

async function guarded(name: string, results: BenchResults, fn: () => Promise<void>): Promise<void> {
  const started = performance.now();
  try {
    await fn();
  } catch (error) {
    const cause = error instanceof Error && error.cause !== undefined ? ` (cause: ${String(error.cause)})` : '';
    results.unavailable.push({ case: name, reason: `${String(error)}${cause}`.slice(0, 400) });
  }
  console.error(JSON.stringify({ level: 'info', msg: 'bench case done', case: name, seconds: Math.round((performance.now() - started) / 100) / 10 }));
}

async function gateCases(bundles: { edge: string; official: string }, catalogs: { one: ReturnType<typeof benchSnapshot>; three: ReturnType<typeof benchSnapshot> }, results: BenchResults, cleanups: Cleanup[], paid = true) {
  const origin: TimedServer = await startOrigin();
  const facilitator: TimedServer = await startFacilitatorStub(FACILITATOR_DELAY_MS);
  cleanups.push(origin.close, facilitator.close);
  const vars = { ...signerVars(), ORIGIN_URL: origin.url, FACILITATOR_URL: facilitator.url };
  const start = async (w: () => Promise<RunningWorker>) => { const r = await withWorkerdPid(w); cleanups.push(r.dispose); return r; };
  const ourFacilitator = await start(() => startOurEdge(bundles.edge, { ...vars, VERIFY_MODE: 'facilitator' }));
  const ourLocal = await start(() => startOurEdge(bundles.edge, { ...vars, VERIFY_MODE: 'local' }));
  const ourThreeOptions = await start(() => startOurEdge(bundles.edge, { ...vars, VERIFY_MODE: 'facilitator' }));
  const official = await start(() => startOfficialWorker(bundles.official, { FACILITATOR_URL: facilitator.url, ORIGIN_URL: origin.url, PAY_TO: TEST_PAY_TO, PRICE: '$0.001' }));
  await pushCatalog(ourFacilitator.url, catalogs.one);
  await pushCatalog(ourLocal.url, catalogs.one);
  await pushCatalog(ourThreeOptions.url, catalogs.three);
  await guarded('402 challenge', results, () => challengeCase(ourFacilitator, results));
  await guarded('402 challenge (3 options)', results, () => challengeCase(ourThreeOptions, results, ' (3 options)'));
  if (paid) await guarded('paid requests', results, () => paidCase({ official, ourFacilitator, ourLocal, ourThreeOptions, origin, facilitator }, results));
}

/** `tsx bench/run.ts [discovery|render|accept|gate|challenge]...`: only the named cases (all by default; `challenge` is gate's 402 cases alone). */
const only = new Set(process.argv.slice(2));
const wanted = (name: string) => only.size === 0 || only.has(name);

async function main(): Promise<void> {
  const results: BenchResults = { measuredAt: new Date().toISOString(), machine: { cpus: cpus().length, node: process.version, loadAverage: { start: loadavg()[0] ?? 0 } }, runs: {}, figures: [], unavailable: [] };
  const cleanups: Cleanup[] = [];
  try {
    const bundles = await bundleWorkers();
    const thousand = benchOffers(1_000);
    const catalog = benchSnapshot(thousand, 1);
    if (wanted('discovery')) {
      const discoveryEdge = await startOurEdge(bundles.edge, signerVars());
      cleanups.push(discoveryEdge.dispose);
      await pushCatalog(discoveryEdge.url, catalog);
      await guarded('discovery', results, () => discoveryCase(discoveryEdge, results));
    }
    const tenThousand = benchOffers(10_000);
    if (wanted('render')) await guarded('render', results, () => renderCase(tenThousand, results));
    if (wanted('accept')) {
      const acceptEdge = await withWorkerdPid(() => startOurEdge(bundles.edge, signerVars()));
      cleanups.push(acceptEdge.dispose);
      await guarded('accept', results, () => acceptCase(acceptEdge, tenThousand, results));
    }
    if (wanted('gate') || only.has('challenge')) {
      const three = benchSnapshot(benchOffers(1_000, 3), 1);
      await guarded('gate', results, () => gateCases(bundles, { one: catalog, three }, results, cleanups, wanted('gate')));
    }
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  }
  if (results.machine.loadAverage) results.machine.loadAverage.end = loadavg()[0] ?? 0;
  console.log(`\nLoad average ${results.machine.loadAverage?.start.toFixed(2)} at the start, ${results.machine.loadAverage?.end?.toFixed(2)} at the end (${results.machine.cpus} cores)`);
  console.log(`\nLoad runs (autocannon in a separate process, loopback)\n${formatRuns(results.runs)}`);
  console.log(`\nFigures\n${formatFigures(results.figures)}`);
  for (const u of results.unavailable) console.log(`not available: ${u.case}: ${u.reason}`);
  if (only.size > 0) return; // a partial run never overwrites the full figures
  writeFileSync(join(ROOT, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  console.log('\nwrote bench/results.json');
}

main().then(
  // Exit explicitly: a disposed workerd can leave a handle that would keep node alive.
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
