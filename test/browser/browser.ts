import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';

export const REPO = resolve(__dirname, '..', '..');
export const SCREENSHOT_DIR = join(REPO, 'test-artifacts', 'screenshots');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Builds the page once if `npm run build:frontend` has not run (npm test builds first). */
export function ensureFrontendBuilt(): void {
  if (existsSync(join(REPO, 'dist', 'frontend', 'index.html'))) return;
  execFileSync(process.execPath, [join(REPO, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'frontend/vite.config.mts', '--logLevel', 'warn'], {
    cwd: REPO,
    stdio: 'inherit',
  });
}

export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  /** Uncaught exceptions in the page: a test expects none. */
  pageErrors: string[];
  close(): Promise<void>;
}

export interface OpenOptions {
  viewport?: { width: number; height: number };
  timezoneId?: string;
  hasTouch?: boolean;
  isMobile?: boolean;
}

/** Headless Debian Chromium with a fresh profile in a temporary folder, removed on close. */
export async function openBrowser(options: OpenOptions = {}): Promise<BrowserSession> {
  const profile = mkdtempSync(join(tmpdir(), 'timesync-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: options.viewport ?? { width: 800, height: 480 },
    timezoneId: options.timezoneId ?? 'Europe/Berlin',
    locale: 'en-GB',
    hasTouch: options.hasTouch,
    isMobile: options.isMobile,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  return {
    context,
    page,
    pageErrors,
    close: async () => {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export function screenshotPath(name: string): string {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return join(SCREENSHOT_DIR, `${name}.png`);
}

/** Polls `probe` until it returns a truthy value or the time is up (then throws with the last value). */
export async function eventually<T>(probe: () => Promise<T>, what: string, timeoutMs = 15_000, everyMs = 100): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      last = await probe();
      if (last) return last as NonNullable<T>;
    } catch (e) {
      lastError = e;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`Timed out waiting for ${what}; last value ${JSON.stringify(last)}${lastError ? `, last error ${String(lastError)}` : ''}`);
}

/**
 * The Pi's clock minus the browser's, measured in the page: the lowest-round-trip of a few GETs of
 * /api/system/time, against the browser's Date.now() at the middle of each request.
 */
export function piMinusBrowser(page: Page): Promise<{ diffMs: number; rttMs: number }> {
  return page.evaluate(async () => {
    let best: { diffMs: number; rttMs: number } | null = null;
    for (let i = 0; i < 7; i++) {
      const t0 = Date.now();
      const res = await fetch('/api/system/time', { headers: { 'Cache-Control': 'no-store' } });
      const body = (await res.json()) as { epochMs: number };
      const t1 = Date.now();
      const sample = { diffMs: body.epochMs - (t0 + t1) / 2, rttMs: t1 - t0 };
      if (!best || sample.rttMs < best.rttMs) best = sample;
    }
    return best!;
  });
}

/** Fails at once, with the server's answer, when the app does not serve the built page at `/`. */
export async function assertServesPage(url: string): Promise<void> {
  const res = await fetch(`${url}/`);
  const text = await res.text();
  if (res.status !== 200 || !text.includes('id="root"')) {
    throw new Error(`The app does not serve dist/frontend at / (HTTP ${res.status}: ${text.slice(0, 200)})`);
  }
}

/** The items (name, locator) not wholly inside the page's viewport: each with where it is, or "not shown". */
export async function outside(page: Page, items: Array<[string, Locator]>): Promise<string[]> {
  const { width, height } = page.viewportSize()!;
  const out: string[] = [];
  for (const [name, locator] of items) {
    const box = await locator.boundingBox();
    if (!box) out.push(`${name}: not shown`);
    else if (box.x < 0 || box.y < 0 || box.x + box.width > width + 0.5 || box.y + box.height > height + 0.5) {
      out.push(`${name}: ${Math.round(box.x)},${Math.round(box.y)} ${Math.round(box.width)}x${Math.round(box.height)} in ${width}x${height}`);
    }
  }
  return out;
}
