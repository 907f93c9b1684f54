/**
 * The parts of an incoming request that authenticate() sees (AuthContext), from either a WHATWG
 * Request (Hono routes) or a Node IncomingMessage (WebSocket upgrades).
 */
import type { IncomingHttpHeaders } from 'node:http';

/** WHATWG Headers from Node's header object. HTTP/2 pseudo-headers (':path') are left out. */
export function headersFromNode(raw: IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined || name.startsWith(':')) continue;
    try {
      if (Array.isArray(value)) for (const v of value) headers.append(name, v);
      else headers.append(name, value);
    } catch {
      // A value Node accepted but WHATWG Headers rejects: not something authenticate needs.
    }
  }
  return headers;
}

/** Parses a Cookie header. Later duplicates do not override earlier ones (RFC 6265 §5.4 order). */
export function parseCookies(header: string | null | undefined): Record<string, string> {
  const cookies: Record<string, string> = Object.create(null) as Record<string, string>;
  if (!header) return cookies;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    if (!name || name in cookies) continue;
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    try {
      cookies[name] = decodeURIComponent(value);
    } catch {
      cookies[name] = value;
    }
  }
  return cookies;
}
