// Workers may not compile WebAssembly at run time: the bundler ships the binary as a compiled
// module (wrangler's default rule for `*.wasm`; test/support/edge-bundle.ts does the same for
// Miniflare). The package's `exports` do not list the file, hence the path into node_modules.
import compiled from '../../../node_modules/tiny-secp256k1/lib/secp256k1.wasm';

/** The compiled secp256k1 WebAssembly module in workerd. */
export function secp256k1Module(): WebAssembly.Module {
  return compiled;
}
