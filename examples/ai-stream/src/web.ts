/**
 * The web side of the demo: a Hono app serving the page, its scripts and style, and the browser
 * bundle of @wirehop/client. Files are read once at startup; only a fixed list is served, so no
 * request path ever reaches the file system.
 */
import { readFile } from 'node:fs/promises';
import { Hono } from 'hono';

const PUBLIC_DIR = new URL('../public/', import.meta.url);

/** Served files: URL path → file in public/ and its content type. */
const FILES = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/network.js': { file: 'network.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
} as const;

// Everything the page loads comes from this origin; the answer is only ever inserted as text, and
// this is the second line of defence should that ever change.
const PAGE_CSP = [
  "default-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Builds the app; `clientJs` is the bundle from {@link clientBundle}. */
export async function createWebApp(clientJs: string): Promise<Hono> {
  const app = new Hono();
  const assets = await Promise.all(
    Object.entries(FILES).map(async ([path, { file, type }]) => ({
      path,
      type,
      body: await readFile(new URL(file, PUBLIC_DIR), 'utf8'),
    })),
  );
  for (const { path, type, body } of [...assets, { path: '/client.js', type: 'text/javascript; charset=utf-8', body: clientJs }]) {
    app.get(path, (c) => {
      c.header('Content-Type', type);
      c.header('Cache-Control', 'no-cache');
      c.header('X-Content-Type-Options', 'nosniff');
      if (path === '/') c.header('Content-Security-Policy', PAGE_CSP);
      return c.body(body);
    });
  }
  return app;
}
