/**
 * `npm run registry:compile`: compiles `IdentityRegistry.sol` offline with solc-js and writes
 * `IdentityRegistry.json` (abi, creation and runtime bytecode, the source's sha256) beside it.
 * The JSON is committed: tests and the dev stack deploy it without compiling.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { compileSolidity, sourceFileSha256 } from '../solidity.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const CONTRACT = 'IdentityRegistry';

export const REGISTRY_SOURCE = join(HERE, `${CONTRACT}.sol`);
export const REGISTRY_ARTIFACT = join(HERE, `${CONTRACT}.json`);

/** What `IdentityRegistry.json` holds. */
export const RegistryArtifact = z.object({
  contractName: z.literal(CONTRACT),
  compiler: z.string(),
  evmVersion: z.string(),
  sourceSha256: z.string().regex(/^[0-9a-f]{64}$/),
  abi: z.array(z.unknown()),
  bytecode: z.string().regex(/^0x[0-9a-f]+$/),
  deployedBytecode: z.string().regex(/^0x[0-9a-f]+$/),
});
export type RegistryArtifact = z.infer<typeof RegistryArtifact>;

export function registrySourceSha256(): string {
  return sourceFileSha256(REGISTRY_SOURCE);
}

/** Compile the registry (deployed by a transaction, so its creation code is kept too). */
export function compileRegistry(): RegistryArtifact {
  const compiled = compileSolidity(REGISTRY_SOURCE, CONTRACT);
  return { contractName: CONTRACT, compiler: compiled.compiler, evmVersion: compiled.evmVersion, sourceSha256: compiled.sourceSha256, abi: [...compiled.abi], bytecode: compiled.bytecode, deployedBytecode: compiled.deployedBytecode };
}

/** The committed artifact, validated. */
export function loadRegistryArtifact(): RegistryArtifact {
  return RegistryArtifact.parse(JSON.parse(readFileSync(REGISTRY_ARTIFACT, 'utf8')));
}

function main(): void {
  const compiled = compileRegistry();
  writeFileSync(REGISTRY_ARTIFACT, `${JSON.stringify(compiled, null, 2)}\n`);
  const bytes = (compiled.deployedBytecode.length - 2) / 2;
  console.log(JSON.stringify({ level: 'info', msg: 'compiled', contract: CONTRACT, bytes, compiler: compiled.compiler }));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
