import { parseArgs } from 'node:util';
import type { ShownAgent, StoredRegistration } from '../../identity/identity-actions.js';

/**
 * `obol-edge identity register|update|show`: the agent's ERC-8004 identity on chain. register and
 * update write the chain's `{agentId, agentRegistry}` into the identity file the agent pushes.
 * Exit codes: 0 ok, 1 failed (or, for show, agentURI does not lead back to this edge), 2 usage.
 */

export const IDENTITY_USAGE = `Usage:
  obol-edge identity register --rpc <url> --public-url <url> --identity <file> [options]
  obol-edge identity update   --rpc <url> --public-url <url> --identity <file> [--agent-id <n>] [options]
  obol-edge identity show     --rpc <url> [--public-url <url>] [--identity <file> | --agent-id <n>] [options]

register  register(agentURI) in the chain's ERC-8004 Identity Registry, with agentURI
          <public-url>/.well-known/agent-registration.json; the agentId is read from the Registered
          event and {agentId, agentRegistry} is stored in the identity file. Refused when the file
          already names an agent in that registry (use update).
update    setAgentURI: point the agent (--agent-id, else the identity file's) at <public-url>, and
          store {agentId, agentRegistry} in the identity file. Sends nothing if it already points there.
show      the agent's owner and agentURI on chain; with --public-url, whether agentURI points back at
          this edge and whether the file served there lists the agent (exit 1 when not).

Before sending, register and update check that the address holds an ERC-8004 registry, simulate
the call and compare the key's balance with the estimated gas cost. Restart the agent (or run
publish) afterwards so the edge serves the stored registration.

The key (register, update) owns the agent and pays gas: OBOL_IDENTITY_KEY (0x + 64 hex digits) or
--key-file. It is never printed.

Options:
  --rpc <url>            the chain's JSON-RPC URL; its chain id picks the registry
  --public-url <url>     the edge's public origin, e.g. https://edge.example.com
  --identity <file>      the identity file the agent pushes (YAML or JSON; created if absent)
  --registry <address>   the Identity Registry (default: the official one on the RPC's chain)
  --chain-id <n>         refuse an RPC that is on another chain
  --agent-id <n>         update, show: the agent (default: the identity file's, for this registry)
  --key-file <file>      read the key from a file instead of OBOL_IDENTITY_KEY
  --json                 print one JSON object
  -h, --help             show this help
`;

const OPTIONS = {
  rpc: { type: 'string' },
  'public-url': { type: 'string' },
  identity: { type: 'string' },
  registry: { type: 'string' },
  'chain-id': { type: 'string' },
  'agent-id': { type: 'string' },
  'key-file': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface IdentityIo {
  out(text: string): void;
  err(text: string): void;
}

export interface IdentityDeps {
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Receipt polling (ms); tests on a local chain use 50. */
  readonly pollingMs?: number;
  readonly fetch?: typeof fetch;
}

class UsageError extends Error {
  readonly reason = 'usage';
}

const defaultIo: IdentityIo = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) };

function wholeNumber(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^(0|[1-9][0-9]{0,15})$/.test(value) || !Number.isSafeInteger(Number(value))) throw new UsageError(`${flag} must be a whole number, got "${value}"`);
  return Number(value);
}

type Action = 'register' | 'update' | 'show';
const isAction = (value: string | undefined): value is Action => value === 'register' || value === 'update' || value === 'show';

function parseIdentityArgs(argv: string[]) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return { help: true as const };
  const [action, ...extra] = positionals;
  if (!isAction(action)) throw new UsageError(action ? `unknown identity command "${action}"` : 'missing identity command (register, update or show)');
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  if (!values.rpc) throw new UsageError('--rpc <url> is required');
  if (action !== 'show' && !values['public-url']) throw new UsageError(`--public-url <url> is required for identity ${action}`);
  if (action !== 'show' && !values.identity) throw new UsageError(`--identity <file> is required for identity ${action}: it receives {agentId, agentRegistry}`);
  if (action === 'register' && values['agent-id'] !== undefined) throw new UsageError('--agent-id does not apply to register (the chain assigns it)');
  if (action === 'show' && values['key-file'] !== undefined) throw new UsageError('show reads only; it takes no key');
  if (values.registry !== undefined && !/^0x[0-9a-fA-F]{40}$/.test(values.registry)) throw new UsageError(`--registry must be a 0x address, got "${values.registry}"`);
  return {
    help: false as const,
    action,
    rpc: values.rpc,
    publicUrl: values['public-url'],
    identityFile: values.identity,
    registry: values.registry as `0x${string}` | undefined,
    chainId: wholeNumber('--chain-id', values['chain-id']),
    agentId: wholeNumber('--agent-id', values['agent-id']),
    keyFile: values['key-file'],
    json: values.json === true,
  };
}

type IdentityArgs = Exclude<ReturnType<typeof parseIdentityArgs>, { help: true }>;

const registrationLine = (r: { agentId: number; agentRegistry: string }) => JSON.stringify({ agentId: r.agentId, agentRegistry: r.agentRegistry });

export function formatStored(action: 'register' | 'update', result: StoredRegistration): string {
  const sent = result.transactionHash ? `transaction ${result.transactionHash}` : 'nothing sent: it already pointed there';
  const verb = action === 'register' ? 'registered' : 'points at this edge';
  return [
    `agent ${result.agentId} ${verb} (${sent})`,
    `  agentRegistry  ${result.agentRegistry}`,
    `  agentURI       ${result.agentURI}`,
    `  owner          ${result.owner}`,
    `  identity file  ${result.identityFile} (${result.identityFileChanged ? 'updated; restart the agent or publish so the edge serves it' : 'already up to date'})`,
    registrationLine(result),
    '',
  ].join('\n');
}

export function formatShown(shown: ShownAgent): string {
  const lines = [
    `agent ${shown.agentId} in ${shown.agentRegistry}`,
    `  owner        ${shown.owner}`,
    `  agentURI     ${shown.agentURI === '' ? '(empty)' : shown.agentURI}`,
    ...(shown.agentWallet ? [`  agentWallet  ${shown.agentWallet}`] : []),
  ];
  if (shown.identityFileAgentId !== undefined) lines.push(`  note: the identity file names agent ${shown.identityFileAgentId} in this registry, not ${shown.agentId}`);
  if (shown.pointsBack === true) lines.push(`agentURI points back at this edge (${shown.expectedAgentURI})`);
  if (shown.pointsBack === false) lines.push(`agentURI points ELSEWHERE: it is "${shown.agentURI}", this edge's would be ${shown.expectedAgentURI} (run identity update)`);
  const file = shown.registrationFile;
  if (file?.state === 'lists_agent') lines.push('the registration file served there lists this agent');
  if (file?.state === 'missing_agent') lines.push(`the registration file served there does NOT list this agent (its registrations: ${JSON.stringify(file.registrations)}); restart the agent or publish with the identity file`);
  if (file?.state === 'unreachable') lines.push(`the registration file could not be read (${file.detail})`);
  lines.push(registrationLine(shown), '');
  return lines.join('\n');
}

/** show fails when the agent does not lead back to this edge's file listing it. */
function showFailed(shown: ShownAgent): boolean {
  return shown.pointsBack === false || (shown.registrationFile !== undefined && shown.registrationFile.state !== 'lists_agent');
}

async function execute(args: IdentityArgs, io: IdentityIo, deps: IdentityDeps): Promise<number> {
  // Loaded after argument parsing so --help and usage errors answer without loading viem.
  const [{ connectIdentityRegistry }, actions, { loadIdentityAccount }] = await Promise.all([
    import('../../identity/registry-client.js'),
    import('../../identity/identity-actions.js'),
    import('../../identity/identity-key.js'),
  ]);
  const env = deps.env ?? process.env;
  // The key is read first: a missing key fails before the chain is asked anything.
  const account = args.action === 'show' ? undefined : await loadIdentityAccount({ env, ...(args.keyFile ? { keyFile: args.keyFile } : {}) });
  const target = await connectIdentityRegistry({
    rpcUrl: args.rpc,
    ...(args.registry ? { registry: args.registry } : {}),
    ...(args.chainId !== undefined ? { expectChainId: args.chainId } : {}),
    ...(deps.pollingMs ? { pollingMs: deps.pollingMs } : {}),
  });
  if (args.action === 'show') {
    const shown = await actions.showIdentity({
      target,
      ...(args.agentId !== undefined ? { agentId: args.agentId } : {}),
      ...(args.identityFile ? { identityFile: args.identityFile } : {}),
      ...(args.publicUrl ? { publicUrl: args.publicUrl } : {}),
      ...(deps.fetch ? { fetch: deps.fetch } : {}),
    });
    io.out(args.json ? `${JSON.stringify(shown)}\n` : formatShown(shown));
    return showFailed(shown) ? 1 : 0;
  }
  const action = args.action;
  if (!account || !args.publicUrl || !args.identityFile) throw new UsageError('internal: register/update arguments missing');
  const common = { target, account, publicUrl: args.publicUrl, identityFile: args.identityFile };
  const result = action === 'register'
    ? await actions.registerIdentity(common)
    : await actions.updateIdentity({ ...common, ...(args.agentId !== undefined ? { agentId: args.agentId } : {}) });
  io.out(args.json ? `${JSON.stringify(result)}\n` : formatStored(action, result));
  return 0;
}

export async function run(argv: string[], io: IdentityIo = defaultIo, deps: IdentityDeps = {}): Promise<number> {
  let args;
  try {
    args = parseIdentityArgs(argv);
  } catch (error) {
    io.err(`obol-edge identity: ${(error as Error).message}\n\n${IDENTITY_USAGE}`);
    return 2;
  }
  if (args.help) {
    io.out(IDENTITY_USAGE);
    return 0;
  }
  try {
    return await execute(args, io, deps);
  } catch (error) {
    const reason = (error as { reason?: unknown }).reason;
    io.err(`obol-edge identity ${args.action}: ${(error as Error).message}${typeof reason === 'string' ? ` [${reason}]` : ''}\n`);
    return 1;
  }
}
