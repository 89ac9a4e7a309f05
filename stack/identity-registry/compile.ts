/**
 * `npm run registry:compile`: compiles `IdentityRegistry.sol` offline with solc-js and writes
 * `IdentityRegistry.json` (abi, creation and runtime bytecode, the source's sha256) beside it.
 * The JSON is committed: tests and the dev stack deploy it without compiling.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import solc from 'solc';
import { z } from 'zod';

const HERE = dirname(fileURLToPath(import.meta.url));
const CONTRACT = 'IdentityRegistry';
/** Pinned so the bytecode does not drift with solc's default; anvil's default hardfork runs it. */
const EVM_VERSION = 'cancun';

export const REGISTRY_SOURCE = join(HERE, `${CONTRACT}.sol`);
export const REGISTRY_ARTIFACT = join(HERE, `${CONTRACT}.json`);

export class RegistryCompileError extends Error {
  readonly reason = 'solc_compile_failed';
  constructor(message: string) {
    super(message);
    this.name = 'RegistryCompileError';
  }
}

const hex = z.string().regex(/^[0-9a-f]+$/);
const SolcOutput = z.object({
  errors: z.array(z.object({ severity: z.string(), formattedMessage: z.string() })).optional(),
  contracts: z.record(z.string(), z.record(z.string(), z.object({
    abi: z.array(z.unknown()),
    evm: z.object({ bytecode: z.object({ object: hex }), deployedBytecode: z.object({ object: hex }) }),
  }))).optional(),
});

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
  return createHash('sha256').update(readFileSync(REGISTRY_SOURCE)).digest('hex');
}

/** Compile the registry; warnings are fine, any error throws `RegistryCompileError`. */
export function compileRegistry(): RegistryArtifact {
  const file = `${CONTRACT}.sol`;
  const input = {
    language: 'Solidity',
    sources: { [file]: { content: readFileSync(REGISTRY_SOURCE, 'utf8') } },
    settings: {
      evmVersion: EVM_VERSION,
      optimizer: { enabled: true, runs: 200 },
      outputSelection: { [file]: { [CONTRACT]: ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
    },
  };
  const compile: (input: string) => string = solc.compile;
  const output = SolcOutput.parse(JSON.parse(compile(JSON.stringify(input))));
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length > 0) throw new RegistryCompileError(errors.map((e) => e.formattedMessage).join('\n'));
  const contract = output.contracts?.[file]?.[CONTRACT];
  if (!contract) throw new RegistryCompileError(`solc produced no output for ${CONTRACT}`);
  const compiler: unknown = solc.version();
  return {
    contractName: CONTRACT,
    compiler: String(compiler),
    evmVersion: EVM_VERSION,
    sourceSha256: registrySourceSha256(),
    abi: contract.abi,
    bytecode: `0x${contract.evm.bytecode.object}`,
    deployedBytecode: `0x${contract.evm.deployedBytecode.object}`,
  };
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
