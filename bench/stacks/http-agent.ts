/**
 * One undici Agent per client process for the HTTP stacks (SSE + POST). Node's global fetch shares
 * a dispatcher whose limits are not ours to tune; hundreds of long-lived SSE responses plus POSTs
 * from one process need a pool that allows that many sockets to one origin, and no body timeout
 * (an idle SSE stream is not a stalled one).
 */
import { Agent, fetch as undiciFetch } from 'undici';

export interface HttpAgent {
  /** A WHATWG fetch that goes through this agent. */
  fetch: typeof fetch;
  close(): Promise<void>;
}

/** `connections`: most sockets to one origin (SSE streams + in-flight POSTs). */
export function httpAgent(connections = 8192): HttpAgent {
  const agent = new Agent({ connections, pipelining: 1, bodyTimeout: 0, headersTimeout: 30_000, keepAliveTimeout: 30_000, connect: { timeout: 10_000 } });
  const f = (input: Parameters<typeof fetch>[0], init?: RequestInit) =>
    undiciFetch(input as Parameters<typeof undiciFetch>[0], { ...(init as Parameters<typeof undiciFetch>[1]), dispatcher: agent });
  return {
    fetch: f as unknown as typeof fetch,
    close: () => agent.destroy(),
  };
}
