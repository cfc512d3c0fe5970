import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { parseJournal } from '../../backend/activity-log/clock-journal';
import { CAMERA_SYNC_WORDS, JOURNAL_KIND_OF_CAMERA_SYNC } from '../../backend/protocol/vocabulary';
import { Clock } from '../../backend/time/clock';
import { CameraSim, startCameraSim, startCameraSims } from '../camera-sim/sim';
import { startApp, StartedApp, statusWhen } from '../support/app';

jest.setTimeout(60_000);

const journalOf = (app: StartedApp) => parseJournal(readFileSync(join(app.dataDir, 'clock-journal.jsonl'), 'utf8'));

/** Polls until the journal holds a camera record of this camera after line `after`. */
async function journalRecordAfter(app: StartedApp, after: number): Promise<any> {
  const end = Date.now() + 5000;
  for (;;) {
    const record = journalOf(app).events.find((e) => (e.kind === 'camera-write' || e.kind === 'camera-measure') && e.line > after);
    if (record || Date.now() > end) return record;
    await new Promise((r) => setTimeout(r, 50));
  }
}

const lastLine = (app: StartedApp) => Math.max(0, ...journalOf(app).events.map((e) => e.line));

describe('What the API, the log, the journal and the camera row say of each camera sync agree (e2e, CCAPI simulator)', () => {
  let app: StartedApp | undefined;
  let sims: CameraSim[] = [];

  afterEach(async () => {
    await app?.close();
    await Promise.all(sims.map((s) => s.close()));
    app = undefined;
    sims = [];
  });

  it('measured-kept, written, failed: one outcome word in the answer, the status, the log entry and the journal record kind', async () => {
    const sim = await startCameraSim({ httpsPort: false });
    sims = [sim];
    app = await startApp({ CAMERA_URL: sim.httpUrl, CAMERA_POLL_INTERVAL: '200', CAMERA_SYNC_ON_CONNECT: 'false', CAMERA_SYNC_THRESHOLD: '100' });
    const status = await statusWhen(app, (s) => s.camera.connected && s.reliability !== 'none');
    const id = status.camera.id;
    const puts = () => sim.requests.filter((r) => r.method === 'PUT').length;

    /** One sync, and the four views of it. */
    const views = async (post: () => Promise<any>) => {
      const line = lastLine(app!);
      const answer = await post();
      const row = (await statusWhen(app!, () => true)).cameras.find((c: any) => c.id === id).lastSync;
      const entry = (await request(app!.url).get('/api/timesync/status').expect(200)).body.activityLog.filter((e: any) => e.details?.cameraId === id && e.details?.outcome).at(-1);
      const record = await journalRecordAfter(app!, line);
      return { answer, row, entry, record };
    };
    const agree = (v: Awaited<ReturnType<typeof views>>, outcome: string) => {
      expect(v.answer.outcome).toBe(outcome);
      expect(v.row.outcome).toBe(outcome);
      expect(v.entry.details.outcome).toBe(outcome);
      expect(v.entry.message).toContain(` clock ${CAMERA_SYNC_WORDS[outcome as keyof typeof CAMERA_SYNC_WORDS]} (`);
      expect(v.record).toMatchObject({ kind: JOURNAL_KIND_OF_CAMERA_SYNC[outcome as keyof typeof JOURNAL_KIND_OF_CAMERA_SYNC], outcome, cameraId: id });
    };

    // In step with the Pi: measured, kept, never written; journaled as a measurement.
    const kept = await views(async () => (await request(app!.url).post(`/api/timesync/camera?id=${id}`).send({}).expect(200)).body);
    agree(kept, 'measured-kept');
    expect(puts()).toBe(0);
    expect(kept.answer).toMatchObject({ written: false, thresholdMs: 100 });
    expect(kept.entry.message).not.toMatch(/clock set/);
    expect(kept.record.offsetMs).toBe(kept.answer.residualMs);
    expect(journalOf(app).events.filter((e) => e.kind === 'camera-write')).toEqual([]);

    // 2.5 s behind: written, read back; verified on a quiet loopback (under load it may honestly be unverified).
    sim.clock.setError(-2500);
    const written = await views(async () => (await request(app!.url).post(`/api/timesync/camera?id=${id}`).send({}).expect(200)).body);
    expect(['written-verified', 'written-unverified']).toContain(written.answer.outcome);
    agree(written, written.answer.outcome);
    expect(puts()).toBe(1);
    expect(written.record).toMatchObject({ success: true, verified: written.answer.outcome === 'written-verified' });
    expect(Math.abs(written.record.offsetMs + 2500)).toBeLessThan(100);

    // Busy: failed, nothing written; the journal keeps the attempt as an unsuccessful write, never cited as one.
    sim.setBusy(8000, 'During shooting or recording');
    const failed = await views(async () => (await request(app!.url).post('/api/timesync/camera').send({}).expect(503)).body.results[0]);
    agree(failed, 'failed');
    expect(failed.record).toMatchObject({ success: false });
    expect(puts()).toBe(1);
  });

  it('two cameras connect while the Pi has no time: at most one step of days, each logged step is the step the journal shows', async () => {
    const DAY = 86_400_000;
    // The Pi 3 days behind; the cameras 8 s apart.
    sims = await startCameraSims(2, { httpsPort: false }, (i) => ({ clockOffsetMs: i * 8000 }));
    app = await startApp({ CAMERA_URL: sims.map((s) => s.httpUrl).join(','), CAMERA_POLL_INTERVAL: '200', SIMULATED_CLOCK_OFFSET_MS: String(-3 * DAY), CAMERA_SYNC_ON_CONNECT: 'false' });
    await statusWhen(app, (s) => s.cameras.filter((c: any) => c.state === 'connected').length === 2 && s.syncSource === 'camera');
    // Both cameras read (the second after the first's step), then quiet.
    const end = Date.now() + 15_000;
    let lines: any[] = [];
    while (Date.now() < end) {
      const log = (await request(app.url).get('/api/timesync/status').expect(200)).body.activityLog;
      lines = log.filter((e: any) => e.details?.source === 'camera' && (/^Pi clock set from the camera/.test(e.message) || e.details?.keptFrom));
      if (lines.length >= 2) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(lines).toHaveLength(2);
    const steps = journalOf(app).steps.filter((s) => s.source === 'camera');
    const stepLines = lines.filter((e) => /^Pi clock set from the camera/.test(e.message));
    expect(stepLines.length).toBe(steps.length);
    // Every logged step is the journal's (to the ms), and only the first is of days.
    stepLines.forEach((e, i) => expect(Math.abs(e.details.stepMs - steps[i].stepMs)).toBeLessThan(1));
    expect(steps.filter((s) => Math.abs(s.stepMs) > DAY)).toHaveLength(1);
    if (steps.length === 2) {
      // The second camera stepped the Pi only because its clock was measured strictly better.
      expect(stepLines[1].details.errorBoundMs).toBeLessThan(stepLines[0].details.errorBoundMs);
      expect(Math.abs(Math.abs(steps[1].stepMs) - 8000)).toBeLessThan(1000);
    } else {
      expect(lines.find((e) => e.details.keptFrom).message).toMatch(/no step$/);
    }
    // The Pi ends on one camera's clock, the one the last step names.
    const piMinusHost = app.app.get(Clock, { strict: false }).now() - Date.now();
    const chosen = Number(stepLines.at(-1).details.client) - 83021000123;
    expect([0, 1]).toContain(chosen);
    expect(Math.abs(piMinusHost - chosen * 8000)).toBeLessThan(1000);
  });
});
