import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../test/support/edge-bundle.js';
import { formatFigures } from '../figures.js';
import { runAgentBench } from './index.js';

/**
 * `tsx bench/agent/run.ts [--no-live-heap] [--unbounded]`: run the agent bench, print its figures,
 * write bench/agent-results.json.
 */
async function main(): Promise<void> {
  const results = await runAgentBench({ skipLiveHeap: process.argv.includes('--no-live-heap'), unboundedRun: process.argv.includes('--unbounded') });
  console.log(`\nCluster agent\n${formatFigures(results.figures)}`);
  for (const u of results.unavailable) console.log(`not available: ${u.case}: ${u.reason}`);
  writeFileSync(join(ROOT, 'bench', 'agent-results.json'), `${JSON.stringify(results, null, 2)}\n`);
  console.log('\nwrote bench/agent-results.json');
  if (results.unavailable.length) process.exitCode = 1;
}

main().then(
  // Exit explicitly: a stopped wrangler or informer can leave a handle that keeps node alive.
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
