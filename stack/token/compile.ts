/**
 * `npm run token:compile`: compiles the local stack's contracts offline with solc-js and writes
 * `<Contract>.json` (abi + deployedBytecode + the source's sha256) beside each source. The JSON
 * files are committed, so tests and the dev stack never compile.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileSolidity, sourceFileSha256 } from '../solidity.js';

const HERE = dirname(fileURLToPath(import.meta.url));
export const CONTRACTS = ['EIP3009Token', 'Multicall3'] as const;
export type ContractName = (typeof CONTRACTS)[number];

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
  return sourceFileSha256(sourcePath(name));
}

/** Compile one contract (anvil deploys these at fixed addresses, so only the runtime code is kept). */
export function compileContract(name: ContractName): CompiledContract {
  const { compiler, evmVersion, sourceSha256: sha, abi, deployedBytecode } = compileSolidity(sourcePath(name), name);
  return { contractName: name, compiler, evmVersion, sourceSha256: sha, abi, deployedBytecode };
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
