/**
 * `npm run token:compile`: compiles the local stack's contracts offline with solc-js and writes
 * `<Contract>.json` (abi + deployedBytecode + the source's sha256) beside each source. The JSON
 * files are committed, so tests and the dev stack never compile.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import solc from 'solc';
import { z } from 'zod';

const HERE = dirname(fileURLToPath(import.meta.url));
/** Cancun runs on every hardfork anvil defaults to; pinned so the bytecode does not drift. */
export const EVM_VERSION = 'cancun';
export const CONTRACTS = ['EIP3009Token', 'Multicall3'] as const;
export type ContractName = (typeof CONTRACTS)[number];

export class TokenCompileError extends Error {
  readonly reason = 'solc_compile_failed';
  constructor(message: string) {
    super(message);
    this.name = 'TokenCompileError';
  }
}

const SolcOutput = z.object({
  errors: z.array(z.object({ severity: z.string(), formattedMessage: z.string() })).optional(),
  contracts: z
    .record(
      z.string(),
      z.record(
        z.string(),
        z.object({
          abi: z.array(z.unknown()),
          evm: z.object({ deployedBytecode: z.object({ object: z.string().regex(/^[0-9a-f]+$/) }) }),
        }),
      ),
    )
    .optional(),
});

export interface CompiledContract {
  readonly contractName: ContractName;
  readonly compiler: string;
  readonly evmVersion: string;
  readonly sourceSha256: string;
  readonly abi: readonly unknown[];
  readonly deployedBytecode: `0x${string}`;
}

export function sourcePath(name: ContractName): string {
  return join(HERE, `${name}.sol`);
}

export function artifactPath(name: ContractName): string {
  return join(HERE, `${name}.json`);
}

export function sourceSha256(name: ContractName): string {
  return createHash('sha256').update(readFileSync(sourcePath(name))).digest('hex');
}

/** Compile one contract; warnings are fine, any error throws `TokenCompileError`. */
export function compileContract(name: ContractName): CompiledContract {
  const file = `${name}.sol`;
  const input = {
    language: 'Solidity',
    sources: { [file]: { content: readFileSync(sourcePath(name), 'utf8') } },
    settings: {
      evmVersion: EVM_VERSION,
      optimizer: { enabled: true, runs: 200 },
      outputSelection: { [file]: { [name]: ['abi', 'evm.deployedBytecode.object'] } },
    },
  };
  const compile: (input: string) => string = solc.compile;
  const output = SolcOutput.parse(JSON.parse(compile(JSON.stringify(input))));
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length > 0) throw new TokenCompileError(errors.map((e) => e.formattedMessage).join('\n'));
  const contract = output.contracts?.[file]?.[name];
  if (!contract) throw new TokenCompileError(`solc produced no output for ${name}`);
  const compiler: unknown = solc.version();
  return {
    contractName: name,
    compiler: String(compiler),
    evmVersion: EVM_VERSION,
    sourceSha256: sourceSha256(name),
    abi: contract.abi,
    deployedBytecode: `0x${contract.evm.deployedBytecode.object}`,
  };
}

function main(): void {
  for (const name of CONTRACTS) {
    const compiled = compileContract(name);
    writeFileSync(artifactPath(name), `${JSON.stringify(compiled, null, 2)}\n`);
    const bytes = (compiled.deployedBytecode.length - 2) / 2;
    console.log(JSON.stringify({ level: 'info', msg: 'compiled', contract: name, bytes, compiler: compiled.compiler }));
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
