/**
 * Load: the built server with 200 pages connected while pages keep leaving and arriving (churn), the time
 * source runs burst after burst at the operator's request, the operator sets the time by hand, and one client
 * (another process, not on the access point) floods the WebSocket with forged answers, reconnecting each time
 * it is closed. Invariants, no timings: the server stays up; health answers throughout; every burst asked for
 * ends in a sync; no page misses an activity entry while connected (their `seq` numbers have no gaps, and every
 * page still connected at the end has the last one); the flooder is told RATE_LIMITED once per connection and
 * closed (1008); its refusals take at most one activity line per 10 s interval.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { BuiltServer, json, startBuiltServer } from './built-server';
import { record } from './report';

jest.setTimeout(120_000);

const PAGES = 200;
const FLOOD_MS = 8000;
const HOUR = 3600_000;

/** A page that only watches: it keeps every activity `seq` it is given (the full log on connect, then deltas). */
class Viewer {
  readonly seqs = new Set<number>();
  gotFull = false;
  closedByServer = false;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (raw) => {
      const frame = JSON.parse(raw.toString());
      if (frame.type !== 'activity_log') return;
      if (frame.data.full) this.gotFull = true;
      for (const e of frame.data.entries) this.seqs.add(e.seq);
    });
    ws.on('close', () => (this.closedByServer = this.closedByServer || !this.leaving));
  }
  leaving = false;

  static open(url: string, localAddress: string): Promise<Viewer> {
    const ws = new WebSocket(url, { localAddress });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new Viewer(ws)));
      ws.once('error', reject);
    });
  }

  /** Seq numbers missing between the first and the last it saw. */
  gaps(): number[] {
    const sorted = [...this.seqs].sort((a, b) => a - b);
    const missing: number[] = [];
    for (let i = 1; i < sorted.length; i++) for (let s = sorted[i - 1] + 1; s < sorted[i]; s++) missing.push(s);
    return missing;
  }

  get max(): number {
    return Math.max(0, ...this.seqs);
  }

  close(): void {
    this.leaving = true;
    this.ws.close();
  }
}

/** The phone on the access point: answers every probe with its clock, `offsetMs` ahead; counts its syncs. */
class Source {
  syncs = 0;
  failures = 0;
  private constructor(readonly ws: WebSocket, private readonly offsetMs: number) {
    ws.on('message', (raw) => {
      const f = JSON.parse(raw.toString());
      if (f.type === 'time-sync-request') {
        ws.send(JSON.stringify({ type: 'time-sync-response', data: { clientTime: Date.now() + this.offsetMs, serverTime: f.serverTime, requestId: f.requestId, timezone: 'UTC' } }));
      } else if (f.type === 'event' && f.eventType === 'pi-sync' && f.data.source === 'client') {
        if (f.data.synchronized) this.syncs++;
        else this.failures++;
        this.waiters.splice(0).forEach((w) => w());
      }
    });
  }
  private waiters: Array<() => void> = [];

  static open(url: string, offsetMs: number): Promise<Source> {
    const ws = new WebSocket(url, { localAddress: '127.0.0.1' });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new Source(ws, offsetMs)));
      ws.once('error', reject);
    });
  }

  /** Asks for the phone's time (a fresh burst) and waits for the sync it ends in. */
  async burst(): Promise<void> {
    const done = new Promise<void>((resolve) => this.waiters.push(resolve));
    this.ws.send(JSON.stringify({ type: 'use-client-time', data: {} }));
    await done;
  }
}

function flood(url: string, durationMs: number): Promise<any> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(__dirname, 'flooder.js'), JSON.stringify({ url, localAddress: '127.0.0.2', durationMs })], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.once('exit', () => {
      try {
        resolve(JSON.parse(out));
      } catch {
        reject(new Error(`flooder printed ${out}`));
      }
    });
  });
}

describe('Load: 200 pages with churn, bursts, manual sets, and one flooding client (the built server)', () => {
  let server: BuiltServer;
  let dataDir: string;
  const viewers: Viewer[] = [];
  const left: Viewer[] = [];
  let source: Source | undefined;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'load-'));
    server = await startBuiltServer({ DATA_DIR: dataDir, AUTO_SYNC: 'true', SIMULATED_CLOCK_OFFSET_MS: String(-HOUR) });
  });
  afterAll(async () => {
    for (const v of [...viewers, ...left]) v.ws.terminate();
    source?.ws.terminate();
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('holds every invariant', async () => {
    const wsUrl = server.url.replace('http', 'ws') + '/ws';
    const rssKb = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server.child.pid}/status`, 'utf8'))?.[1]);
    const rssIdle = rssKb();
    for (let i = 0; i < PAGES; i++) viewers.push(await Viewer.open(wsUrl, '127.0.0.3'));
    source = await Source.open(wsUrl, 5 * 60_000);
    // Its first burst, at connect (AUTO_SYNC).
    for (let i = 0; i < 200 && source.syncs === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(source.syncs).toBe(1);
    const rssAt200 = rssKb();

    let stop = false;
    let churns = 0;
    let health = { ok: 0, failed: 0 };
    let bursts = 0;
    let manualSets = 0;
    const churn = (async () => {
      while (!stop) {
        const i = Math.floor(Math.random() * viewers.length);
        const [gone] = viewers.splice(i, 1);
        gone.close();
        left.push(gone);
        viewers.push(await Viewer.open(wsUrl, '127.0.0.3'));
        churns++;
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const healthLoop = (async () => {
      while (!stop) {
        const res = await json(`${server.url}/api/health`).catch(() => null);
        if (res?.status === 200) health.ok++;
        else health.failed++;
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const operator = (async () => {
      while (!stop) {
        await source!.burst();
        bursts++;
        const res = await json(`${server.url}/api/system/time`, 'POST', { timestamp: new Date(Date.now() + HOUR).toISOString() });
        expect(res.status).toBe(200);
        manualSets++;
      }
    })();
    const flooded = await flood(wsUrl, FLOOD_MS);
    stop = true;
    await Promise.all([churn, healthLoop, operator]);

    // Quiet again: one last entry, which every page still connected must get.
    const last = await json(`${server.url}/api/system/time`, 'POST', { timestamp: new Date(Date.now() + HOUR).toISOString() });
    expect(last.status).toBe(200);
    const activity = (await json(`${server.url}/api/activity`)).body as Array<{ seq: number; details: { error?: string; client?: string } }>;
    const lastSeq = activity.at(-1)!.seq;
    for (let i = 0; i < 200 && viewers.some((v) => v.max < lastSeq); i++) await new Promise((r) => setTimeout(r, 50));

    // The server is up and answered health all along.
    expect(server.child.exitCode).toBeNull();
    expect((await json(`${server.url}/api/health`)).status).toBe(200);
    expect(health.failed).toBe(0);
    expect(health.ok).toBeGreaterThan(0);
    // The source kept syncing: every burst asked for ended in a sync, none failed.
    expect(source.syncs).toBe(1 + bursts + 0);
    expect(source.failures).toBe(0);
    expect(bursts).toBeGreaterThan(0);
    // No page lost an activity entry: no gaps, and every page still here has the last one.
    const withGaps = [...viewers, ...left].filter((v) => v.gaps().length);
    expect(withGaps.map((v) => v.gaps().slice(0, 5))).toEqual([]);
    expect(viewers.filter((v) => v.max < lastSeq).length).toBe(0);
    expect(viewers.every((v) => v.gotFull && !v.closedByServer)).toBe(true);
    // The flooder: every connection the server closed got exactly one RATE_LIMITED and code 1008.
    const closedByServer = flooded.connectionsClosed.filter((c: { code: number }) => c.code !== 1006 && c.code !== 1005);
    expect(closedByServer.length).toBeGreaterThan(0);
    expect(closedByServer.every((c: { code: number; rateLimited: number }) => c.code === 1008 && c.rateLimited === 1)).toBe(true);
    // Its refusals: one activity line per 10 s interval at most (the flood is shorter than two intervals).
    const flooderLines = activity.filter((e) => e.details.client === '127.0.0.2');
    expect(flooderLines.length).toBeLessThanOrEqual(Math.ceil(FLOOD_MS / 10_000) + 1);
    const rssAfter = rssKb();

    record({
      suite: 'load',
      what: `${PAGES} pages connected, churned while the source ran bursts on request and the operator set the time, one client (127.0.0.2) flooding forged answers for ${FLOOD_MS / 1000} s`,
      times: churns,
      outcome:
        `server up; health ${health.ok}/${health.ok + health.failed} answered; ${bursts} bursts asked, ${source.syncs - 1} syncs, 0 failed; ${manualSets} manual sets; ` +
        `${churns} churns (${left.length + viewers.length} pages in all), 0 pages with a gap in the activity seq, all ${viewers.length} connected pages had the last entry; ` +
        `flooder: ${flooded.connections} connections, ${flooded.framesSent} frames sent, ${closedByServer.length} closed with 1008 after exactly one RATE_LIMITED, ${flooderLines.length} activity line(s) for it; ` +
        `server RSS idle ${(rssIdle / 1024).toFixed(0)} MB, with ${PAGES} pages ${(rssAt200 / 1024).toFixed(0)} MB, after ${(rssAfter / 1024).toFixed(0)} MB (not collected; see npm run bench:load)`,
    });
  });
});
