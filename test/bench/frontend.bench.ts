/**
 * The page's weight and speed: gzipped JS and CSS of dist/frontend, and the time from navigation start to
 * both `TimeSync:` rows on screen in headless Chromium over loopback, against the real app (startApp).
 * `npm run bench` imports measureFrontend; `ts-node test/bench/frontend.bench.ts` prints it alone.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { assertServesPage, CHROMIUM, ensureFrontendBuilt, REPO } from '../browser/browser';
import { startApp } from '../support/app';

export interface FrontendFigures {
  jsGzipBytes: number;
  cssGzipBytes: number;
  totalGzipBytes: number;
  /** Median, navigation start to both TimeSync: rows in the DOM (cold cache, new browser context each run). */
  firstRenderMs: number;
  firstRenderRunsMs: number[];
  /** Median, navigation start to the first status from the server shown (the WebSocket round included). */
  firstStatusMs: number;
}

/** Runs in the page before its own scripts: notes when the rows, then the first status, appear. */
const OBSERVER = `(() => {
  const marks = (window.__timesyncMarks = {});
  const check = () => {
    if (marks.rows === undefined && document.querySelector('[data-testid=camera-timesync]') && document.querySelector('[data-testid=pi-timesync]')) marks.rows = performance.now();
    if (marks.status === undefined && document.querySelector('[data-testid=pi-reliability]')) marks.status = performance.now();
    if (marks.rows !== undefined && marks.status !== undefined) observer.disconnect();
  };
  const observer = new MutationObserver(check);
  observer.observe(document, { childList: true, subtree: true });
})();`;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * What the main page loads: the assets its index.html names (scripts, their preloads, styles). The time slate at
 * /slate/ is a page of its own, with its own entry (its assets are not the kiosk page's weight).
 */
export function measureBundle(dir = join(REPO, 'dist', 'frontend', 'assets')): Pick<FrontendFigures, 'jsGzipBytes' | 'cssGzipBytes' | 'totalGzipBytes'> {
  let js = 0;
  let css = 0;
  const index = join(dir, '..', 'index.html');
  const named = existsSync(index) ? new Set([...readFileSync(index, 'utf8').matchAll(/\/assets\/([^"'?#\s]+)/g)].map((m) => m[1])) : null;
  for (const name of readdirSync(dir)) {
    if (named && !named.has(name)) continue;
    const size = gzipSync(readFileSync(join(dir, name))).length;
    if (name.endsWith('.js')) js += size;
    else if (name.endsWith('.css')) css += size;
  }
  return { jsGzipBytes: js, cssGzipBytes: css, totalGzipBytes: js + css };
}

export async function measureFrontend(runs = 7): Promise<FrontendFigures> {
  ensureFrontendBuilt();
  const bundle = measureBundle();
  const app = await startApp();
  await assertServesPage(app.url).catch(async (e) => {
    await app.close();
    throw e;
  });
  // launch() gives a fresh temporary profile; each run gets its own context, so nothing is cached.
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const render: number[] = [];
  const status: number[] = [];
  try {
    for (let i = 0; i <= runs; i++) {
      const context = await browser.newContext({ viewport: { width: 800, height: 480 } });
      const page = await context.newPage();
      await page.addInitScript(OBSERVER);
      await page.goto(app.url);
      await page.waitForFunction('window.__timesyncMarks && window.__timesyncMarks.rows !== undefined && window.__timesyncMarks.status !== undefined', undefined, { timeout: 20_000 });
      const marks = (await page.evaluate('window.__timesyncMarks')) as { rows: number; status: number };
      await context.close();
      if (i === 0) continue; // warm-up: the server's first page load
      render.push(marks.rows);
      status.push(marks.status);
    }
  } finally {
    await browser.close();
    await app.close();
  }
  return { ...bundle, firstRenderMs: median(render), firstRenderRunsMs: render, firstStatusMs: median(status) };
}

if (require.main === module) {
  measureFrontend()
    .then((f) => {
      console.log(JSON.stringify(f, null, 2));
      process.exit(0);
    })
    .catch((e) => {
      console.error(e);
      process.exit(1);
    });
}
