import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The compiled secp256k1 WebAssembly module under Node (tests, benches, CLI): read from the
 * installed `tiny-secp256k1` package (its CommonJS entry is lib/cjs/, the binary sits in lib/).
 * Workers get the same binary through `module.workerd.ts`; package.json `imports` picks the file.
 */
let compiled: WebAssembly.Module | undefined;

// The project's types are the Workers' ones, where WebAssembly.Module cannot be constructed; Node can.
const NodeWasmModule = WebAssembly.Module as unknown as new (bytes: Uint8Array) => WebAssembly.Module;

export function secp256k1Module(): WebAssembly.Module {
  if (!compiled) {
    const entry = createRequire(import.meta.url).resolve('tiny-secp256k1');
    compiled = new NodeWasmModule(readFileSync(join(dirname(entry), '..', 'secp256k1.wasm')));
  }
  return compiled;
}
