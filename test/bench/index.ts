// `npm run bench`: every benchmark of the project, each beside its baseline measured in the same run.
import { measureConnectToSync, type ServerFigures } from './server.bench';
import { table } from './report';


async function serverSection(): Promise<void> {
  const { measureServers, PAGES } = await import('./server.bench');
  console.log(`\n## Server: RSS idle, with one page and with ${PAGES} pages (ws clients on /ws), and start time (medians of runs), against a bare NestJS app (one controller, ws adapter with one gateway, Swagger) in the same run\n`);
  const { bare, bareNoSwagger, ours, bareSemi, oursSemi, before } = await measureServers();
  const row = (label: string, pick: (f: ServerFigures) => number, goal = '', met?: (r: number) => boolean) => {
    const r = pick(ours) / pick(bare);
    return [label, before ? `${pick(before).toFixed(1)} (${(pick(before) / pick(bare)).toFixed(2)}x)` : 'n/a', pick(bareNoSwagger).toFixed(1), pick(bare).toFixed(1), pick(ours).toFixed(1), r.toFixed(2), `${pick(bareSemi).toFixed(1)} / ${pick(oursSemi).toFixed(1)} = ${(pick(oursSemi) / pick(bareSemi)).toFixed(2)}`, goal, met ? (met(r) ? 'yes' : 'NO') : ''];
  };
  console.log(
    table([
      ['figure', 'ours before (BENCH_BEFORE_MAIN)', 'bare, no Swagger', 'bare', 'ours', 'ours/bare', 'both --max-semi-space-size=2: bare / ours', 'goal', 'met'],
      row('RSS idle (MB)', (f) => f.rssMb, '<= 1.10x bare', (r) => r <= 1.1),
      row('RSS, one page (MB)', (f) => f.onePageRssMb),
      row(`RSS, ${PAGES} pages (MB)`, (f) => f.manyPagesRssMb),
      ['start to listening (s)', before ? (before.startMs / 1000).toFixed(3) : 'n/a', (bareNoSwagger.startMs / 1000).toFixed(3), (bare.startMs / 1000).toFixed(3), (ours.startMs / 1000).toFixed(3), (ours.startMs / bare.startMs).toFixed(2), '', '<= 0.6 s', ours.startMs <= 600 ? 'yes' : 'NO'],
    ]),
  );
}

async function connectSection(): Promise<void> {
  console.log('\n## Connection to applied sync, real app and ws client over loopback (10 runs, client 3 h ahead)\n');
  const r = await measureConnectToSync();
  const worstError = Math.max(...r.errorMs);
  console.log(
    table([
      ['figure', 'measured', 'goal', 'met'],
      ['connect -> clock stepped, median (ms)', r.medianMs.toFixed(0), '', ''],
      ['connect -> clock stepped, max (ms)', r.maxMs.toFixed(0), '<= 1000', r.maxMs <= 1000 ? 'yes' : 'NO'],
      ['Pi clock vs client after sync, max (ms, read over HTTP, ± half its round trip)', worstError.toFixed(0), '', ''],
    ]),
  );
}

async function framesSection(): Promise<void> {
  console.log('\n## One sync seen by one page: frames and bytes on the wire, before the core reshape and now (same run)\n');
  const { measureFrames, BEFORE } = await import('./frames.bench');
  const { before, after, beforeError } = await measureFrames();
  const types = [...new Set([...Object.keys(before?.byType ?? {}), ...Object.keys(after.byType)])].sort();
  const cell = (c: { frames: number; bytes: number } | undefined) => (c ? `${c.frames} / ${c.bytes}` : '0 / 0');
  console.log(
    table([
      ['frames / bytes', `before (${BEFORE}, page re-asks status)`, 'now', 'bytes now/before'],
      ...types.map((t) => [t, before ? cell(before.byType[t]) : 'n/a', cell(after.byType[t]), before?.byType[t] ? (( after.byType[t]?.bytes ?? 0) / before.byType[t].bytes).toFixed(2) : '']),
      ['total', before ? cell(before) : `n/a (${beforeError})`, cell(after), before ? (after.bytes / before.bytes).toFixed(2) : ''],
    ]),
  );
}

async function frontendSection(): Promise<void> {
  console.log('\n## Page: JS+CSS gzipped and first render in Chromium over loopback\n');
  const { measureFrontend } = await import('./frontend.bench');
  const f = await measureFrontend();
  console.log(
    table([
      ['figure', 'measured', 'goal', 'met'],
      ['JS gzipped (KB)', (f.jsGzipBytes / 1024).toFixed(1), '', ''],
      ['CSS gzipped (KB)', (f.cssGzipBytes / 1024).toFixed(1), '', ''],
      ['JS+CSS gzipped (KB)', (f.totalGzipBytes / 1024).toFixed(1), '<= 90 KB', f.totalGzipBytes <= 90 * 1024 ? 'yes' : 'NO'],
      ['first render (ms)', f.firstRenderMs.toFixed(0), '', ''],
    ]),
  );
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const sections: Array<[string, () => Promise<void>]> = [
    ['server', serverSection],
    ['connect', connectSection],
    ['frames', framesSection],
    ['frontend', frontendSection],
    ['sync', async () => void (await import('./sync.bench')).main()],
    ['camera', async () => (await import('./camera.bench')).main()],
    ['load', async () => (await import('./load.bench')).main()],
    ['kiosk-memory', async () => (await import('./kiosk-memory.bench')).main()],
    ['sync-load', async () => (await import('./sync-load.bench')).main()],
    ['rtc', async () => (await import('./rtc.bench')).main()],
    ['gps', async () => (await import('./gps.bench')).main()],
    ['slate', async () => (await import('./slate.bench')).main()],
    ['ntp', async () => (await import('./ntp.bench')).main()],
  ];
  let failed = false;
  for (const [name, run] of sections) {
    if (only.length && !only.includes(name)) continue;
    try {
      await run();
    } catch (error) {
      failed = true;
      console.error(`\n${name} benchmark failed: ${error instanceof Error ? error.stack : error}`);
    }
  }
  process.exit(failed ? 1 : 0);
}

void main();
