/**
 * The browser build of @wirehop/client, made in memory when the server starts. Bundling from source
 * (the `@wirehop/source` condition) means an example starts on a fresh checkout with no build step.
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

// esbuild resolves `@wirehop/client` from here, through this package's own dependencies.
const EXAMPLE_DIR = fileURLToPath(new URL('..', import.meta.url));

let cached: Promise<string> | undefined;

/**
 * The ES module served at `/client.js`: everything `@wirehop/client` exports, bundled for browsers.
 * Built once per process and shared by every server started in it.
 */
export function clientBundle(): Promise<string> {
  cached ??= buildClient().catch((error: unknown) => {
    cached = undefined; // let a later start try again rather than caching the failure
    throw error;
  });
  return cached;
}

async function buildClient(): Promise<string> {
  const result = await build({
    stdin: {
      contents: "export * from '@wirehop/client';",
      resolveDir: EXAMPLE_DIR,
      sourcefile: 'wirehop-client.js',
      loader: 'js',
    },
    bundle: true,
    format: 'esm',
    // `browser` leaves out the client's Node entry (and with it `ws` and `node:` modules).
    platform: 'browser',
    conditions: ['@wirehop/source'],
    target: 'es2022',
    write: false,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const output = result.outputFiles[0];
  if (!output) throw new Error('esbuild produced no output for @wirehop/client');
  return output.text;
}
