import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

/**
 * The `obol-edge` command line: `obol-edge <command> [options]`. Each command lives in
 * `commands/<name>.ts` and exports `run(argv): Promise<number>` (the exit code); it is loaded only
 * when used. Exit codes: 0 ok, 1 the command failed, 2 usage error.
 */

export const COMMANDS: Readonly<Record<string, string>> = {
  publish: 'sign and push the offers in a directory to an edge, once',
  agent: 'run the cluster agent (watch offers, push snapshots)',
  sell: 'list, stop (drain) and resume offers',
  identity: "the agent's ERC-8004 identity on chain (register, update, show)",
};

export const USAGE = `Usage: obol-edge <command> [options]

Commands:
${Object.entries(COMMANDS).map(([name, what]) => `  ${name.padEnd(9)}${what}`).join('\n')}

Run "obol-edge <command> --help" for a command's options.
`;

type CommandModule = { run: (argv: string[]) => Promise<number> };

function isCommandModule(value: unknown): value is CommandModule {
  return typeof value === 'object' && value !== null && typeof (value as { run?: unknown }).run === 'function';
}

async function loadCommand(name: string): Promise<CommandModule | undefined> {
  let loaded: unknown;
  try {
    loaded = await import(`./commands/${name}.js`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') return undefined;
    throw error;
  }
  return isCommandModule(loaded) ? loaded : undefined;
}

/** Split global options from the command and its own arguments. */
function splitCommand(argv: string[]): { help: boolean; command?: string; rest: string[]; unknown?: string } {
  const { tokens } = parseArgs({ args: argv, strict: false, allowPositionals: true, tokens: true, options: { help: { type: 'boolean', short: 'h' } } });
  for (const token of tokens) {
    if (token.kind === 'positional') return { help: false, command: token.value, rest: argv.slice(token.index + 1) };
    if (token.kind === 'option' && token.name === 'help') return { help: true, rest: [] };
    if (token.kind === 'option') return { help: false, rest: [], unknown: token.rawName };
  }
  return { help: false, rest: [] };
}

const defaultIo = {
  out: (s: string) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`),
  err: (s: string) => process.stderr.write(s.endsWith('\n') ? s : `${s}\n`),
};

export async function main(argv: string[], io: { out: (s: string) => void; err: (s: string) => void } = defaultIo): Promise<number> {
  const { help, command, rest, unknown } = splitCommand(argv);
  if (help) {
    io.out(USAGE);
    return 0;
  }
  if (unknown !== undefined || command === undefined) {
    io.err(`${unknown !== undefined ? `obol-edge: unknown option "${unknown}"\n` : 'obol-edge: no command given\n'}${USAGE}`);
    return 2;
  }
  if (!Object.hasOwn(COMMANDS, command)) {
    io.err(`obol-edge: unknown command "${command}"\n${USAGE}`);
    return 2;
  }
  const module = await loadCommand(command);
  if (!module) {
    io.err(`obol-edge: the "${command}" command is not available in this build\n`);
    return 1;
  }
  return module.run(rest);
}

/** Run `argv` and set the exit code; an unexpected error is reported in one line, never a stack dump of secrets. */
export async function runCli(argv: string[]): Promise<void> {
  try {
    process.exitCode = await main(argv);
  } catch (error) {
    process.stderr.write(`obol-edge: ${(error as Error).message ?? String(error)}\n`);
    process.exitCode = 1;
  }
}

// Entry point when run directly (`tsx cluster-agent/src/cli/main.ts`); the bin shim calls runCli itself.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runCli(process.argv.slice(2));
