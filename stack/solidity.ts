import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import solc from 'solc';
import { z } from 'zod';

/**
 * The local stack's one way to compile a contract offline with solc-js (the npm `solc`), for the
 * test token, Multicall3 and the ERC-8004 IdentityRegistry alike. Their JSON artifacts are
 * committed; tests recompile and compare.
 */

/** Cancun runs on every hardfork anvil defaults to; pinned so the bytecode does not drift. */
export const EVM_VERSION = 'cancun';

export class SolidityCompileError extends Error {
  readonly reason = 'solc_compile_failed';
  constructor(message: string) {
    super(message);
    this.name = 'SolidityCompileError';
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

export interface CompiledSolidity {
  readonly compiler: string;
  readonly evmVersion: string;
  readonly sourceSha256: string;
  readonly abi: readonly unknown[];
  readonly bytecode: `0x${string}`;
  readonly deployedBytecode: `0x${string}`;
}

/** Hex SHA-256 of a source file, recorded in its artifact so a stale artifact is caught. */
export function sourceFileSha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Compile `contract` from the source at `path`; warnings are fine, any error throws. */
export function compileSolidity(path: string, contract: string): CompiledSolidity {
  const file = basename(path);
  const input = {
    language: 'Solidity',
    sources: { [file]: { content: readFileSync(path, 'utf8') } },
    settings: {
      evmVersion: EVM_VERSION,
      optimizer: { enabled: true, runs: 200 },
      outputSelection: { [file]: { [contract]: ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
    },
  };
  const compile: (input: string) => string = solc.compile;
  const output = SolcOutput.parse(JSON.parse(compile(JSON.stringify(input))));
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length > 0) throw new SolidityCompileError(errors.map((e) => e.formattedMessage).join('\n'));
  const compiled = output.contracts?.[file]?.[contract];
  if (!compiled) throw new SolidityCompileError(`solc produced no output for ${contract}`);
  const compiler: unknown = solc.version();
  return {
    compiler: String(compiler),
    evmVersion: EVM_VERSION,
    sourceSha256: sourceFileSha256(path),
    abi: compiled.abi,
    bytecode: `0x${compiled.evm.bytecode.object}`,
    deployedBytecode: `0x${compiled.evm.deployedBytecode.object}`,
  };
}
