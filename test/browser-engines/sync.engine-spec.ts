import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { By, until } from 'selenium-webdriver';
import * as estimator from '../../backend/sources/phone/estimator';
import type { ActivityEntry, TimeSyncStatus } from '../../backend/protocol/messages';
import { Clock, SimulatedWallClock } from '../../backend/time/clock';
import { assertServesPage, ensureFrontendBuilt, eventually, REPO } from '../browser/browser';
import { startApp, type StartedApp } from '../support/app';
import { dateShiftSource, EngineName, openFirefox, openWebKit, startShimProxy, type FirefoxSession, type ShimProxy, type WebKitSession } from './engines';

jest.setTimeout(120_000);

/** The phone's clock: hours ahead, and off any whole second or coarse-clock grain. */
const SHIFT_MS = 3 * 3_600_000 + 17 * 60_000 + 250;

/** Uncaught errors in the page, collected from before its first script (every engine alike). */
const ERROR_COLLECTOR = `(() => {
  window.__pageErrors = [];
  addEventListener('error', (e) => window.__pageErrors.push(String(e.message || e.error)));
  addEventListener('unhandledrejection', (e) => window.__pageErrors.push('unhandled rejection: ' + String(e.reason && e.reason.message || e.reason)));
})();`;
const PRELOAD = `${ERROR_COLLECTOR}\n${dateShiftSource(SHIFT_MS)}`;

/**
 * In the page: its Date.now() stamps read back to back for 60 ms, reduced to the smallest step between two
 * different stamps: the clock the engine gives the page (resistFingerprinting must really coarsen it).
 * Returns the shift marker and the page's uncaught errors too.
 */
const PAGE_CLOCK_PROBE = `return (async () => {
  const stamps = [Date.now()];
  const end = performance.now() + 60;
  while (performance.now() < end) {
    const t = Date.now();
    if (t !== stamps[stamps.length - 1]) stamps.push(t);
  }
  let minStep = Infinity;
  for (let i = 1; i < stamps.length; i++) minStep = Math.min(minStep, stamps[i] - stamps[i - 1]);
  return { shift: window.__dateShiftMs, distinct: stamps.length, minStep, errors: window.__pageErrors };
})();`;

interface PageClock {
  shift: number | undefined;
  distinct: number;
  minStep: number;
  errors: string[];
}

/** One engine's way to open the page and look into it. */
interface Driven {
  version: string;
  open(app: StartedApp): Promise<void>;
  /** Runs PAGE_CLOCK_PROBE-like code (an async function body that returns a value) in the page. */
  run<T>(body: string): Promise<T>;
  /** Waits for an element matching `css` whose text contains `text`. */
  waitForText(css: string, text: string, timeoutMs: number): Promise<string>;
  close(): Promise<void>;
}

async function driveWebKit(): Promise<Driven> {
  const session: WebKitSession = await openWebKit();
  let proxy: ShimProxy | null = null;
  return {
    version: `WebKitGTK ${session.browserVersion} (MiniBrowser, WebKitWebDriver)`,
    async open(app) {
      // Classic WebDriver runs no script before the page's own: a loopback front inserts it into the page.
      proxy = await startShimProxy(app.port, PRELOAD);
      await session.driver.get(proxy.url);
    },
    run: <T>(body: string) =>
      session.driver.executeAsyncScript<T>(`const done = arguments[arguments.length - 1]; (async () => { ${body} })().then(done, (e) => done({ error: String(e) }));`),
    async waitForText(css, text, timeoutMs) {
      const element = await session.driver.wait(until.elementLocated(By.css(css)), timeoutMs, `no ${css}`);
      await session.driver.wait(async () => (await element.getText()).includes(text), timeoutMs, `${css} never said ${text}`);
      return element.getText();
    },
    async close() {
      await session.close();
      await (proxy as ShimProxy | null)?.close();
    },
  };
}

async function driveFirefox(resistFingerprinting: boolean): Promise<Driven> {
  const session: FirefoxSession = await openFirefox({ resistFingerprinting });
  return {
    version: `Firefox ${session.browserVersion.replace(/^firefox\//, '')} (WebDriver BiDi, puppeteer-core)${resistFingerprinting ? ', privacy.resistFingerprinting' : ''}`,
    async open(app) {
      // BiDi script.addPreloadScript: runs before the page's own scripts.
      await session.page.evaluateOnNewDocument(PRELOAD);
      await session.page.goto(app.url);
    },
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    run: <T>(body: string) => session.page.evaluate(new Function(body) as () => Promise<T>) as Promise<T>,
    async waitForText(css, text, timeoutMs) {
      const probe = `document.querySelector(${JSON.stringify(css)})?.textContent?.includes(${JSON.stringify(text)}) === true`;
      await session.page.waitForFunction(probe, { timeout: timeoutMs });
      return session.page.$eval(css, (e) => e.textContent ?? '');
    },
    async close() {
      await session.close();
      if (session.pageErrors.length) throw new Error(`page errors in Firefox: ${session.pageErrors.join('; ')}`);
    },
  };
}

interface EngineCase {
  name: string;
  engine: EngineName;
  resistFingerprinting: boolean;
  drive(): Promise<Driven>;
}

const CASES: EngineCase[] = [
  { name: 'WebKit', engine: 'webkit', resistFingerprinting: false, drive: driveWebKit },
  { name: 'Firefox ESR', engine: 'firefox', resistFingerprinting: false, drive: () => driveFirefox(false) },
  { name: 'Firefox ESR with resistFingerprinting', engine: 'firefox', resistFingerprinting: true, drive: () => driveFirefox(true) },
];

/**
 * Which engines run here, decided before any test by starting each for real in another process. A missing
 * package or an engine that does not start is skipped, and the reason printed; ENGINES_REQUIRED=1 makes it
 * a failure instead.
 */
function preflight(engines: EngineName[]): Record<string, string | null> {
  try {
    const out = execFileSync(process.execPath, [join(REPO, 'node_modules', 'ts-node', 'dist', 'bin.js'), '--transpile-only', join(__dirname, 'preflight.ts'), ...engines], {
      cwd: REPO,
      encoding: 'utf8',
      timeout: 150_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return JSON.parse(out.trim().split('\n').pop()!) as Record<string, string | null>;
  } catch (e) {
    const why = `the engine check itself failed: ${e instanceof Error ? e.message : String(e)}`.slice(0, 600);
    return Object.fromEntries(engines.map((engine) => [engine, why]));
  }
}

const unavailable = preflight([...new Set(CASES.map((c) => c.engine))]);
const REQUIRED = process.env.ENGINES_REQUIRED === '1';

interface Measured {
  engine: string;
  version: string;
  pageClockStepMs: number;
  detectedResolutionMs: number;
  rounding: string;
  probesUsed: string;
  lowestRoundTripMs: number;
  /** The estimate of the page's clock minus its true value (sub-ms, from the host's clocks): what the bound covers. */
  estimateErrorMs: number;
  /** The Pi's clock minus the page's, as both read (whole ms: the simulated clock is stepped to the ms). */
  errorMs: number;
  errorBoundMs: number;
  within: boolean;
  burst: { samples: estimator.ProbeSample[]; trueClientMinusMonoMs: number };
}
const measured: Measured[] = [];

afterAll(() => {
  if (!measured.length) return;
  const dir = join(REPO, 'test-artifacts');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'browser-engines.json'), `${JSON.stringify(measured, null, 2)}\n`);
  const rows = measured.map(
    (m) =>
      `  ${m.engine.padEnd(40)} error ${m.errorMs.toFixed(3).padStart(8)} ms (estimate ${m.estimateErrorMs.toFixed(3)} ms), bound ${m.errorBoundMs.toFixed(3).padStart(8)} ms` +
      ` (page clock step ${m.pageClockStepMs} ms, detected ${m.detectedResolutionMs} ms ${m.rounding}, probes ${m.probesUsed}, lowest RTT ${m.lowestRoundTripMs.toFixed(2)} ms)`,
  );
  console.log(`Pi clock minus the shifted page clock after the sync:\n${rows.join('\n')}`);
});

for (const c of CASES) {
  const why = unavailable[c.engine];
  if (why && !REQUIRED) {
    console.warn(`browser-engines: SKIPPING ${c.name}: ${why}`);
    describe(`${c.name} phone`, () => {
      it.skip(`NOT RUN HERE (${why.slice(0, 200)})`, () => undefined);
    });
    continue;
  }

  describe(`${c.name} phone`, () => {
    let app: StartedApp | null = null;
    let driven: Driven | null = null;
    let spy: jest.SpyInstance | null = null;

    beforeAll(() => ensureFrontendBuilt());

    afterEach(async () => {
      const d = driven;
      driven = null;
      spy?.mockRestore();
      spy = null;
      try {
        await d?.close();
      } finally {
        await app?.close().catch(() => undefined);
        app = null;
      }
    });

    it(`syncs the Pi to its clock running ${SHIFT_MS} ms ahead, within the error bound the product reports`, async () => {
      if (why) throw new Error(`${c.name} cannot run here (ENGINES_REQUIRED=1): ${why}`);
      app = await startApp({ SIMULATED_CLOCK_OFFSET_MS: '0' });
      await assertServesPage(app.url);
      spy = jest.spyOn(estimator, 'estimateOffset');
      driven = await c.drive();
      await driven.open(app);

      const clock = await driven.run<PageClock>(PAGE_CLOCK_PROBE);
      expect(clock.shift).toBe(SHIFT_MS); // the shift ran before the page
      expect(clock.distinct).toBeGreaterThan(1);
      if (c.resistFingerprinting) expect(clock.minStep).toBeGreaterThanOrEqual(16); // really coarsened
      else expect(clock.minStep).toBe(1);

      await driven.waitForText('[data-testid=connection][data-state=open]', 'Connected', 20_000);

      const a = app;
      const stepped = await eventually(
        async () => {
          const status = (await (await fetch(`${a.url}/api/timesync/status`)).json()) as TimeSyncStatus;
          const entry = status.activityLog?.find((e: ActivityEntry) => e.details?.stepped === true && e.details?.source === 'client');
          return status.syncSource === 'client' && status.sourceClient === '127.0.0.1' && entry ? { status, entry } : null;
        },
        `the Pi to step to ${c.name}'s clock`,
        30_000,
        200,
      );
      const hostNow = hostWallMinusMono();
      const piClock = a.app.get(Clock, { strict: false });
      // The Pi's clock minus the page's true clock: the page's clock is this machine's clock + SHIFT_MS.
      const errorMs = (piClock instanceof SimulatedWallClock ? piClock.offset : readOffset(piClock)) - SHIFT_MS;
      const { status, entry } = stepped;
      const boundMs = Number(entry.details.errorBoundMs);
      expect(status.isSynchronized).toBe(true);
      // One step only, and the status still reports the measurement that made it.
      expect(status.activityLog!.filter((e) => e.details?.stepped === true)).toHaveLength(1);
      expect(status.errorBoundMs).toBe(boundMs);

      // The estimate behind that step (the one whose bound the log reports), against the page's true clock.
      const index = spy.mock.results.findIndex((r) => {
        const e = r.value as estimator.OffsetEstimate | null;
        return e != null && Math.abs(Math.round(e.errorBoundMs * 1000) / 1000 - boundMs) < 1e-9;
      });
      expect(index).toBeGreaterThanOrEqual(0);
      const estimate = spy.mock.results[index].value as estimator.OffsetEstimate;
      // The burst's answers, with the true client-minus-monotonic, so a miss can be replayed in a unit test.
      const burst = { samples: spy.mock.calls[index][0] as estimator.ProbeSample[], trueClientMinusMonoMs: hostNow.value + SHIFT_MS };
      const estimateErrorMs = estimate.clientMinusMonoMs - (hostNow.value + SHIFT_MS);
      measured.push({
        engine: c.name,
        version: driven.version,
        pageClockStepMs: clock.minStep,
        detectedResolutionMs: estimate.clientResolutionMs,
        rounding: estimate.clientRounding,
        probesUsed: `${estimate.samplesUsed}/${estimate.samplesTotal}`,
        lowestRoundTripMs: estimate.delayMs,
        estimateErrorMs,
        errorMs,
        errorBoundMs: boundMs,
        within: Math.abs(errorMs) <= boundMs,
        burst,
      });

      // The product's estimate of this engine's clock is within the bound it reports (to the precision this
      // test reads the host's clocks with, a few microseconds)...
      expect(Math.abs(estimateErrorMs)).toBeLessThanOrEqual(boundMs + hostNow.uncertaintyMs);
      // ...and so is the Pi's clock that it set.
      expect(Math.abs(errorMs)).toBeLessThanOrEqual(boundMs);

      // The page shows it, in that engine.
      await driven.waitForText('[data-testid=pi-source]', '127.0.0.1', 15_000);
      const after = await driven.run<PageClock>(PAGE_CLOCK_PROBE);
      expect(after.errors).toEqual([]);
    });
  });
}

/** Pi minus host from two readings in the same millisecond (a backend without an offset to read). */
function readOffset(clock: Clock): number {
  for (;;) {
    const before = Date.now();
    const pi = clock.now();
    if (Date.now() === before) return pi - before;
  }
}

/**
 * The host's wall clock minus its monotonic clock (the page's true clock minus the server's monotonic clock,
 * less the shift), from the instants Date.now() ticks to the next ms: each tick lies between the monotonic
 * reading before the last call that still read the old ms and the one after the call that read the new
 * one. The narrowest of twenty such brackets is kept; `uncertaintyMs` is its half-width.
 */
function hostWallMinusMono(): { value: number; uncertaintyMs: number } {
  let best = { value: NaN, uncertaintyMs: Infinity };
  for (let i = 0; i < 20; i++) {
    let before = performance.now();
    let wall = Date.now();
    const start = wall;
    let lastBefore = before;
    while (wall === start) {
      lastBefore = before;
      before = performance.now();
      wall = Date.now();
    }
    const after = performance.now();
    // The tick (wall = `wall` exactly) happened after lastBefore... no later than `after`.
    const halfWidth = (after - lastBefore) / 2;
    if (halfWidth < best.uncertaintyMs) best = { value: wall - (lastBefore + after) / 2, uncertaintyMs: halfWidth };
  }
  return best;
}
