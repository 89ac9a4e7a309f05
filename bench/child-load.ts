import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../test/support/edge-bundle.js';
import type { LoadConfig, LoadResult } from './load.js';

/** Run one load case in a separate node process (bench/load.ts) and read its one-line JSON result. */
export function runLoad(config: LoadConfig): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'load.ts'), JSON.stringify(config)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { err += chunk.toString(); });
    // Bounded: the longest case is warmup + duration + signing; anything beyond is a hang.
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || line === '') return reject(new Error(`load process exited ${code}: ${err.trim().slice(0, 500)}`));
      try {
        resolve(JSON.parse(line) as LoadResult);
      } catch (error) {
        reject(new Error(`load process printed no result: ${String(error)}`));
      }
    });
  });
}
