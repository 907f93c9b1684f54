/**
 * A real Chromium for the browser suites (test/browser/): Debian's /usr/bin/chromium driven by
 * playwright-core, which downloads nothing. {@link useBrowser} launches one browser per test file,
 * gives each page a fresh context (its own profile, storage and network emulation, so one page can
 * go offline while another stays up), closes the contexts after each test and the browser after
 * the file. Screenshots land in test-artifacts/ (gitignored), kept as artifacts of the run.
 */
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { findExecutable } from './bin.js';
import { selfSignedCertificate, type TestCertificate } from './tls.js';

/** Where screenshots go: test-artifacts/ at the repository root. */
export const ARTIFACTS_DIR = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

/**
 * Headless and quiet: no GPU, no QUIC (every request goes over the TCP connections a test can see
 * and cut), and none of the background traffic (updates, sync, component downloads) that a fresh
 * profile would otherwise start. Playwright gives every launch and context a fresh temp profile.
 */
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Starts Debian's Chromium; a clear error, saying what to install, if it is missing. */
export async function launchChromium(): Promise<Browser> {
  const executablePath = findExecutable('chromium', ['/usr/bin/chromium'], 'apt-get install -y chromium');
  return chromium.launch({ executablePath, args: ARGS });
}

/** A page in its own context, with what it threw collected. */
export interface TestPage {
  page: Page;
  context: BrowserContext;
  /**
   * Uncaught exceptions of the page's scripts. (Not `console.error`: Chromium logs every request
   * refused while offline there, which is what these tests do on purpose.)
   */
  errors: string[];
}

export interface BrowserSuite {
  /** A new context with one page in it; closed after the test. */
  newPage(): Promise<TestPage>;
}

/**
 * Registers the hooks of a browser suite: launch in beforeAll, close each test's contexts in
 * afterEach, close the browser in afterAll. Call it at the top of a test file.
 */
export function useBrowser(): BrowserSuite {
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  beforeAll(async () => {
    browser = await launchChromium();
  }, 60_000);
  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close();
  });
  afterAll(async () => {
    await browser?.close();
  });
  return {
    async newPage() {
      if (!browser) throw new Error('useBrowser(): the browser is not launched yet; call newPage() inside a test');
      const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
      contexts.push(context);
      // Generous: these waits end on a condition, the deadline only matters when something is broken.
      context.setDefaultTimeout(30_000);
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.stack ?? error.message));
      return { page, context, errors };
    },
  };
}

/** What {@link useTlsBrowser} gives a test file. */
export interface TlsBrowserSuite {
  /** The launched Chromium (inside tests). */
  readonly browser: Browser;
  /** A self-signed certificate for 127.0.0.1, made for this file (inside tests). */
  readonly certificate: TestCertificate;
  /** Runs `undo` after the current test, latest first (servers, contexts). */
  cleanup(undo: () => unknown): void;
}

/**
 * The hooks of a browser suite that serves HTTPS itself (HTTP/2, many tabs): Chromium and a
 * certificate made in beforeAll, both gone in afterAll, and what a test registered with cleanup()
 * undone after it. Call it at the top of a test file.
 */
export function useTlsBrowser(): TlsBrowserSuite {
  let browser: Browser | undefined;
  let certificate: TestCertificate | undefined;
  let undo: Array<() => unknown> = [];
  beforeAll(async () => {
    [certificate, browser] = await Promise.all([selfSignedCertificate(), launchChromium()]);
  }, 60_000);
  afterEach(async () => {
    for (const u of undo.reverse()) await u();
    undo = [];
  });
  afterAll(async () => {
    await browser?.close();
    await certificate?.remove();
  });
  const launched = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`useTlsBrowser(): the ${what} is not ready yet; use it inside a test`);
    return value;
  };
  return {
    get browser() {
      return launched(browser, 'browser');
    },
    get certificate() {
      return launched(certificate, 'certificate');
    },
    cleanup: (u) => void undo.push(u),
  };
}

/**
 * `expect.poll` with a deadline fit for a browser under a loaded test run (vitest's default is 1 s):
 * polls every 50 ms for up to 30 s. The deadline only matters when something is broken.
 * @example await eventually(() => page.locator('#status').getAttribute('data-state')).toBe('connected');
 */
export function eventually<T>(read: () => T | Promise<T>): ReturnType<typeof expect.poll<T>> {
  return expect.poll(read, { timeout: 30_000, interval: 50 });
}

/**
 * Saves a full-page screenshot as test-artifacts/<current test name>[-<suffix>].png and returns the
 * path. The name is the test's full name, made file-system safe.
 */
export async function screenshot(page: Page, suffix?: string): Promise<string> {
  const testName = expect.getState().currentTestName ?? 'screenshot';
  const name = [testName, suffix]
    .filter(Boolean)
    .join('-')
    .replace(/[^A-Za-z0-9._]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 180);
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  const path = `${ARTIFACTS_DIR}${name}.png`;
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * A test page as the browser tests serve it: a `#status` line, then `script` as a module that has
 * `createClient` (imported from the bundle served at /client.js) and `status` (that line) in scope.
 */
export function clientPage(title: string, script: string): string {
  return `<!doctype html>
<meta charset="utf-8">
<title>${title}</title>
<body style="font: 14px system-ui; margin: 24px">
<p id="status">loading…</p>
<script type="module">
  import { createClient } from '/client.js';
  const status = document.getElementById('status');
${script}
</script>
`;
}
