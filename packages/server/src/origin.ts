/**
 * Origin allow-list and CORS. Browsers send Origin on WebSocket upgrades and cross-origin fetches,
 * so checking it stops other sites from driving a user's session (cross-site WebSocket hijacking).
 * Requests without Origin come from non-browser clients (or same-origin GETs) and pass: the header
 * proves nothing about them either way.
 */
import { Headers as WirehopHeaders } from '@wirehop/protocol';
import type { OriginPolicy, ResolvedOptions } from './options.js';

/** True if a request with this Origin (and Host) may use wirehop. `request` is built only if the policy is a function. */
export function originAllowed(policy: OriginPolicy, origin: string | undefined, host: string | undefined, request: () => Request): boolean {
  if (origin === undefined) return true;
  if (policy === '*') return true;
  if (typeof policy === 'function') return policy(origin, request()) === true;
  if (policy === 'same-origin') {
    if (host === undefined) return false;
    try {
      return new URL(origin).host === host.toLowerCase();
    } catch {
      return false; // 'null' (sandboxed iframes, file://) or garbage: never same-origin
    }
  }
  return policy.has(origin.toLowerCase());
}

/** Headers that let the browser read an answer to an allowed cross-origin request. */
export function corsHeaders(options: Pick<ResolvedOptions, 'cors' | 'origins'>, origin: string | undefined): Record<string, string> {
  const cors = options.cors;
  if (!cors || origin === undefined) return {};
  // '*' cannot carry credentials, so with credentials the origin is reflected (it passed the allow-list).
  if (options.origins === '*' && !cors.credentials) return { 'access-control-allow-origin': '*' };
  const headers: Record<string, string> = { 'access-control-allow-origin': origin, vary: 'Origin' };
  if (cors.credentials) headers['access-control-allow-credentials'] = 'true';
  return headers;
}

/** The request headers wirehop clients send; preflights that do not list theirs get these. */
const ALLOWED_HEADERS = ['content-type', WirehopHeaders.session, WirehopHeaders.token, WirehopHeaders.lastEventId].join(', ');

/** Headers of a CORS preflight answer (OPTIONS). */
export function preflightHeaders(
  options: Pick<ResolvedOptions, 'cors' | 'origins'>,
  origin: string | undefined,
  requestedHeaders: string | undefined,
): Record<string, string> {
  const cors = options.cors;
  if (!cors || origin === undefined) return {};
  return {
    ...corsHeaders(options, origin),
    'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
    // Reflecting what the browser asks for lets applications add their own headers (ClientOptions.headers).
    'access-control-allow-headers': requestedHeaders && requestedHeaders.length <= 2048 ? requestedHeaders : ALLOWED_HEADERS,
    'access-control-max-age': String(cors.maxAgeS),
  };
}
