#!/usr/bin/env node
// The client's size as a browser app pays for it: the whole browser entry (both transports, probe,
// outbox, switching) bundled by esbuild for the browser, minified, then gzip -9. The same method
// gave the peer figures in the README, so the numbers compare. Fails above the budget (8 KiB).
//   node scripts/size.mjs            prints the figure
//   node scripts/size.mjs --modules  also the minified bytes each source file contributes
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

export const BUDGET_BYTES = 8 * 1024;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ENTRY = fileURLToPath(new URL('../packages/client/src/index.ts', import.meta.url));

/** Bundles the client's browser entry: the gzip -9 and minified sizes, the minified bytes per input file, and the code. */
export async function measure() {
  const result = await build({
    entryPoints: [ENTRY],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['@wirehop/source'],
    write: false,
    metafile: true,
    logLevel: 'silent',
    absWorkingDir: ROOT, // input files are named relative to the repository
  });
  const code = result.outputFiles[0].contents;
  const output = Object.values(result.metafile.outputs)[0];
  const modules = Object.entries(output.inputs)
    .map(([file, { bytesInOutput }]) => [file, bytesInOutput])
    .sort((a, b) => b[1] - a[1]);
  return { minified: code.length, gzip: gzipSync(code, { level: 9 }).length, modules, code: result.outputFiles[0].text };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { minified, gzip, modules } = await measure();
  if (process.argv.includes('--modules')) for (const [file, bytes] of modules) console.log(String(bytes).padStart(7), file);
  const kb = (n) => (n / 1024).toFixed(1);
  console.log(`@wirehop/client: ${gzip} bytes (${kb(gzip)} KB) gzip -9, ${minified} bytes minified; budget ${BUDGET_BYTES} bytes`);
  if (gzip > BUDGET_BYTES) {
    console.error(`over budget by ${gzip - BUDGET_BYTES} bytes`);
    process.exit(1);
  }
}
