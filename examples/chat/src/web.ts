/**
 * The web side of the chat: the page, its scripts and style, and the browser client, through the
 * shared example kit. A page opened through the simulated network talks to the network panel's API
 * on the chat's direct port, so that origin is allowed to the page's connections too.
 */
import { pageApp } from '@wirehop/example-kit';
import type { Hono } from 'hono';

/** The chat's direct origin, as seen from the host name the page was opened with. */
function directOrigin(host: string | undefined, directPort: number): string {
  let hostname = 'localhost';
  try {
    if (host) hostname = new URL(`http://${host}`).hostname;
  } catch {
    // a malformed Host header: the page still works, only the network panel's API is out of reach
  }
  return `http://${hostname}:${directPort}`;
}

/** Builds the app; `clientJs` is the bundle from clientBundle(), `directPort` the chat's own port. */
export function createWebApp(clientJs: string, directPort: () => number): Promise<Hono> {
  return pageApp({
    dir: new URL('../public/', import.meta.url),
    files: { '/': 'index.html', '/app.js': 'app.js', '/status.js': 'status.js', '/style.css': 'style.css' },
    clientJs,
    connectSrc: (c) => directOrigin(c.req.header('host'), directPort()),
  });
}
