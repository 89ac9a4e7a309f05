import { REGISTRATION_PATH } from '../../../core/render/skill-md.js';

/**
 * The agentURI an edge registers: `<public base URL>/.well-known/agent-registration.json`, the
 * registration file the edge serves at its root. An on-chain agentURI that points at this file is
 * what lets a scorer treat the edge's domain as verified (EIP-8004, endpoint domain verification).
 */

export class AgentUriError extends Error {
  readonly reason = 'invalid_public_url';
  constructor(message: string) {
    super(message);
    this.name = 'AgentUriError';
  }
}

/** The public base URL as an origin (`https://edge.example.com`); a path, query or credentials are refused. */
export function publicOrigin(publicBaseUrl: string): string {
  let url: URL;
  try {
    url = new URL(publicBaseUrl);
  } catch {
    throw new AgentUriError(`the public URL must be an http(s) URL such as https://edge.example.com, got "${publicBaseUrl}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new AgentUriError(`the public URL must be http(s), got "${publicBaseUrl}"`);
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new AgentUriError(`the public URL must be the edge's origin (scheme, host, port) with nothing after it, got "${publicBaseUrl}"`);
  }
  return url.origin;
}

export function agentUriFor(publicBaseUrl: string): string {
  return `${publicOrigin(publicBaseUrl)}${REGISTRATION_PATH}`;
}

/** True when `agentURI` is this edge's registration file (compared as parsed URLs). */
export function pointsAtEdge(agentURI: string, publicBaseUrl: string): boolean {
  try {
    return new URL(agentURI).href === new URL(agentUriFor(publicBaseUrl)).href;
  } catch {
    return false;
  }
}
