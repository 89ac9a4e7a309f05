import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { readOfferManifests } from '../publish/manifests.js';
import { errorMessage, type Logger } from '../agent/log.js';
import { SourceConfigError, type OfferRecord, type OfferSource } from './source.js';

/**
 * `--source dir:<path>`: a directory of ServiceOffer manifests, watched with `fs.watch` plus a slow
 * rescan (watch events can be coalesced or lost on some filesystems). A change re-reads the whole
 * directory and reports the keys whose parsed content changed or disappeared.
 */
export interface DirSourceOptions {
  readonly dir: string;
  readonly log: Logger;
  /** Safety-net rescan interval; default 5 s. */
  readonly rescanMs?: number;
  /** Quiet time after a file event before re-reading; default 50 ms. */
  readonly settleMs?: number;
}

export async function assertDirectory(dir: string): Promise<void> {
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) throw new SourceConfigError(`--source dir:${dir}: not a readable directory`);
}

export function createDirSource(options: DirSourceOptions): OfferSource {
  let records = new Map<string, { record: OfferRecord; fingerprint: string }>();
  let watcher: FSWatcher | undefined;
  let rescan: NodeJS.Timeout | undefined;
  let settle: NodeJS.Timeout | undefined;
  let synced = false;
  let onChange: (key: string) => void = () => undefined;
  let reading: Promise<void> = Promise.resolve();

  async function read(): Promise<void> {
    let set;
    try {
      set = await readOfferManifests(options.dir);
    } catch (error) {
      options.log.error('cannot read the offers directory', { dir: options.dir, error: errorMessage(error) });
      return;
    }
    const next = new Map<string, { record: OfferRecord; fingerprint: string }>();
    for (const input of set.inputs) next.set(input.key, { record: { key: input.key, input }, fingerprint: JSON.stringify(input.parsed) });
    const changed = [...next].filter(([key, v]) => records.get(key)?.fingerprint !== v.fingerprint).map(([key]) => key);
    const removed = [...records.keys()].filter((key) => !next.has(key));
    records = next;
    for (const key of [...changed, ...removed]) onChange(key);
  }

  // Reads run one after another so an old listing never overwrites a newer one.
  const schedule = () => {
    reading = reading.then(read);
    return reading;
  };

  return {
    kind: 'dir',
    get synced() {
      return synced;
    },
    async start(callback) {
      onChange = callback;
      await assertDirectory(options.dir);
      await schedule();
      synced = true;
      watcher = watch(options.dir, () => {
        if (settle) clearTimeout(settle);
        settle = setTimeout(() => void schedule(), options.settleMs ?? 50);
      });
      watcher.on('error', (error) => options.log.warn('offers directory watch failed; relying on rescans', { error: errorMessage(error) }));
      rescan = setInterval(() => void schedule(), options.rescanMs ?? 5000);
    },
    records: () => [...records.values()].map((v) => v.record),
    get: (key) => records.get(key)?.record,
    async stop() {
      watcher?.close();
      if (rescan) clearInterval(rescan);
      if (settle) clearTimeout(settle);
      await reading;
    },
  };
}
