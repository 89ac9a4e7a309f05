import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { DEV_ORIGIN_URL, DEV_PUBLIC_BASE_URL } from './dev-vars.js';

/**
 * The example offers name the dev stack's fixed URLs (upstream 127.0.0.1:9000, edge
 * 127.0.0.1:8787). A stack on other ports watches a copy in which those two origins are
 * rewritten; other text (comments, order, prices, payTo) is kept byte for byte.
 */

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

export interface OfferUrls {
  readonly upstreamUrl: string;
  readonly edgeUrl: string;
}

/** True when the manifests can be watched in place (the URLs they name are the stack's). */
export function offersMatchStack(urls: OfferUrls): boolean {
  return urls.upstreamUrl === DEV_ORIGIN_URL && urls.edgeUrl === DEV_PUBLIC_BASE_URL;
}

/** Replace whole-origin occurrences only: `…:9000` must not match inside `…:90001`. */
function rewriteOrigin(text: string, from: string, to: string): string {
  const pattern = new RegExp(`${from.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![0-9])`, 'g');
  return text.replace(pattern, to);
}

/** Copy `sourceDir`'s manifests into `targetDir`, pointing them at the stack's upstream and edge. */
export async function copyOffersForStack(sourceDir: string, targetDir: string, urls: OfferUrls): Promise<string> {
  await mkdir(targetDir, { recursive: true });
  for (const entry of await readdir(sourceDir, { withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const from = join(sourceDir, entry.name);
    const to = join(targetDir, entry.name);
    if (!MANIFEST_EXTENSIONS.has(extname(entry.name))) {
      await copyFile(from, to);
      continue;
    }
    const text = await readFile(from, 'utf8');
    const rewritten = rewriteOrigin(rewriteOrigin(text, DEV_ORIGIN_URL, urls.upstreamUrl), DEV_PUBLIC_BASE_URL, urls.edgeUrl);
    await writeFile(to, rewritten);
  }
  return targetDir;
}
