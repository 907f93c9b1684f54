/**
 * Serving an example's page: a fixed list of files read once at startup (no request path ever
 * reaches the file system), the examples' shared `/base.css`, the browser bundle of
 * @wirehop/client at `/client.js`, and a strict
 * Content-Security-Policy on the page itself.
 */
import { readFile } from 'node:fs/promises';
import { Hono, type Context } from 'hono';

export interface PageFiles {
  /** The example's public/ folder. */
  dir: URL;
  /** URL path → file in `dir`; `/` is the page. Content types come from the extension. */
  files: Record<string, string>;
  /** The bundle from clientBundle(), served at `/client.js`. */
  clientJs: string;
  /** Extra `connect-src` sources for the page, computed per request. Default: none. */
  connectSrc?: (c: Context) => string;
}

/** The look both examples share, served at `/base.css` before each page's own style.css. */
const BASE_CSS = new URL('../public/base.css', import.meta.url);

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};

/** The page may load from its own origin only; user text is inserted as text, and this is the second line of defence. */
function pageCsp(extraConnect: string): string {
  return [
    "default-src 'self'",
    `connect-src 'self'${extraConnect ? ' ' + extraConnect : ''}`,
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** A Hono app serving the page files and `/client.js`. */
export async function pageApp({ dir, files, clientJs, connectSrc }: PageFiles): Promise<Hono> {
  const app = new Hono();
  const assets = await Promise.all(
    Object.entries(files).map(async ([path, file]) => ({
      path,
      type: TYPES[file.slice(file.lastIndexOf('.') + 1)] ?? 'application/octet-stream',
      body: await readFile(new URL(file, dir), 'utf8'),
    })),
  );
  const base = { path: '/base.css', type: TYPES.css!, body: await readFile(BASE_CSS, 'utf8') };
  for (const { path, type, body } of [...assets, base, { path: '/client.js', type: TYPES.js!, body: clientJs }]) {
    app.get(path, (c) => {
      c.header('Content-Type', type);
      c.header('Cache-Control', 'no-cache');
      c.header('X-Content-Type-Options', 'nosniff');
      if (path === '/') c.header('Content-Security-Policy', pageCsp(connectSrc?.(c) ?? ''));
      return c.body(body);
    });
  }
  app.get('/favicon.ico', (c) => c.body(null, 204)); // browsers ask; a 404 would only be console noise
  return app;
}

/** A URL a browser on this machine can open, whatever interface the server listens on. */
export function pageUrl(hostname: string | undefined, port: number): string {
  const wildcard = hostname === undefined || hostname === '0.0.0.0' || hostname === '::';
  const host = wildcard ? 'localhost' : hostname.includes(':') ? `[${hostname}]` : hostname;
  return `http://${host}:${port}/`;
}
