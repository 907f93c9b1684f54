/** The web side of the demo: the page, its scripts and style, and the browser client, through the shared example kit. */
import { pageApp } from '@wirehop/example-kit';
import type { Hono } from 'hono';

/** Builds the app; `clientJs` is the bundle from clientBundle(). */
export function createWebApp(clientJs: string): Promise<Hono> {
  return pageApp({
    dir: new URL('../public/', import.meta.url),
    files: { '/': 'index.html', '/app.js': 'app.js', '/network.js': 'network.js', '/style.css': 'style.css' },
    clientJs,
  });
}
