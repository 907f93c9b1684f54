/**
 * The web side of the chat: a Hono app serving the page, its script and style, and the browser
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
  '/status.js': { file: 'status.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
} as const;

// Everything the page loads comes from this origin; user text is only ever inserted as text, and
// this is the second line of defence should that ever change. The one exception: a page opened
// through the simulated network talks to the network panel's API on the chat's direct port.
function pageCsp(host: string | undefined, directPort: number): string {
  let hostname = 'localhost';
  try {
    if (host) hostname = new URL(`http://${host}`).hostname;
  } catch {
    // a malformed Host header: the page still works, only the network panel's API is out of reach
  }
  const direct = `http://${hostname.includes(':') ? `[${hostname}]` : hostname}:${directPort}`;
  return [
    "default-src 'self'",
    `connect-src 'self' ${direct}`,
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Builds the app; `clientJs` is the bundle from {@link clientBundle}, `directPort` the chat's own port. */
export async function createWebApp(clientJs: string, directPort: () => number): Promise<Hono> {
  const app = new Hono();
  const assets = await Promise.all(
    Object.entries(FILES).map(async ([path, { file, type }]) => ({
      path,
      type,
      body: await readFile(new URL(file, PUBLIC_DIR), 'utf8'),
    })),
  );
  for (const { path, type, body } of assets) {
    app.get(path, (c) => {
      c.header('Content-Type', type);
      c.header('Cache-Control', 'no-cache');
      c.header('X-Content-Type-Options', 'nosniff');
      if (path === '/') c.header('Content-Security-Policy', pageCsp(c.req.header('host'), directPort()));
      return c.body(body);
    });
  }
  app.get('/favicon.ico', (c) => c.body(null, 204)); // browsers ask; a 404 would only be console noise
  app.get('/client.js', (c) => {
    c.header('Content-Type', 'text/javascript; charset=utf-8');
    c.header('Cache-Control', 'no-cache');
    c.header('X-Content-Type-Options', 'nosniff');
    return c.body(clientJs);
  });
  return app;
}
