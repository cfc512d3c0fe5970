import { render, screen } from '@testing-library/react';
import type { CameraStatus, CameraSyncOutcome } from '../../../backend/protocol/messages';
import { CAMERA_SYNC_WORDS, CameraSyncKind } from '../../../backend/protocol/vocabulary';
import { makeCamera } from '../../test-support/fakes';
import type { TimeSyncApi } from '../api';
import { CameraStatusCard, clockLine, summarize } from './CameraStatusCard';


describe('clockLine', () => {
  it('says how far the camera can be from the Pi now, when it was checked and how it drifts', () => {
    const drift = { ppm: 1.5, boundPpm: 0.4, sPerDay: 0.1296, boundSPerDay: 0.035, samples: 6, spanMs: 3_000_000, known: true, knownInMs: 0 };
    expect(clockLine({ offsetMs: 12, boundMs: 9, checkedAt: '2026-11-25T08:00:00.000Z', ageMs: 720_000, drift, errorNowMs: 40, driftMeasured: true })).toBe(
      'within ±40 ms of the Pi, checked 12 min ago, drifts +0.13 s/day',
    );
    expect(clockLine({ offsetMs: -3, boundMs: 9, checkedAt: '2026-11-25T08:00:00.000Z', ageMs: 2000, drift: { ...drift, sPerDay: -0.5 }, errorNowMs: 12, driftMeasured: true })).toBe(
      'within ±12 ms of the Pi, checked just now, drifts −0.50 s/day',
    );
    expect(clockLine({ offsetMs: -3, boundMs: 9, checkedAt: '2026-11-25T08:00:00.000Z', ageMs: 2000, drift: null, errorNowMs: 12, driftMeasured: false })).toBe('within ±12 ms of the Pi, checked just now');
  });

  it('shows no drift figure while its bound is too wide to mean anything', () => {
    // Two samples 4 s apart at ±9 ms: -16 s/day ± 389 s/day, the figure a photographer once saw.
    const drift = { ppm: -189, boundPpm: 4500, sPerDay: -16.33, boundSPerDay: 388.8, samples: 2, spanMs: 4000, known: false, knownInMs: 1_551_000 };
    expect(clockLine({ offsetMs: -3, boundMs: 9, checkedAt: '2026-11-25T08:00:00.000Z', ageMs: 2000, drift, errorNowMs: 12, driftMeasured: false })).toBe(
      'within ±12 ms of the Pi, checked just now, drift not known yet (about 25 min more)',
    );
  });
});

/**
 * The page's words for each kind of camera sync, from answers and `lastSync`s shaped as the server sends them
 * (see CameraService.report): the page must say what the log says (CAMERA_SYNC_WORDS), and never "set" of a
 * camera that was not written.
 */
describe('the page says what each camera sync did', () => {
  const AT = '2026-11-25T08:00:00.000Z';
  const nameOf = (id: string) => `Cam ${id}`;
  const answers: Record<CameraSyncKind, CameraSyncOutcome> = {
    'written-verified': { cameraId: 'A', success: true, outcome: 'written-verified', offset: 2400, residualMs: 3, residualBoundMs: 4, verified: true, written: true },
    'written-unverified': { cameraId: 'B', success: true, outcome: 'written-unverified', offset: 2400, residualMs: null, residualBoundMs: null, verified: false, written: true },
    'measured-kept': { cameraId: 'C', success: true, outcome: 'measured-kept', offset: 16, residualMs: -16, residualBoundMs: 5, verified: true, written: false, thresholdMs: 100 },
    failed: { cameraId: 'D', success: false, outcome: 'failed', code: 'CAMERA_BUSY', error: 'Device busy' },
  };
  const lastSyncs: Record<CameraSyncKind, NonNullable<CameraStatus['lastSync']>> = {
    'written-verified': { success: true, outcome: 'written-verified', at: AT, offsetMs: 2400, residualMs: 3, residualBoundMs: 4, verified: true, written: true },
    'written-unverified': { success: true, outcome: 'written-unverified', at: AT, offsetMs: 2400, residualMs: null, residualBoundMs: null, verified: false, written: true },
    'measured-kept': { success: true, outcome: 'measured-kept', at: AT, offsetMs: 16, residualMs: -16, residualBoundMs: 5, verified: true, written: false, thresholdMs: 100 },
    failed: { success: false, outcome: 'failed', at: AT, offsetMs: null, residualMs: null, residualBoundMs: null, verified: false, error: 'Camera is busy: Device busy' },
  };
  const api = {} as TimeSyncApi;
  const rowText = (lastSync: CameraStatus['lastSync']) => {
    const view = render(<CameraStatusCard cameras={[makeCamera({ lastSync })]} piNow={Date.parse(AT) + 60_000} api={api} canSetTime online />);
    const text = screen.getByTestId('camera-timesync').textContent ?? '';
    view.unmount();
    return text;
  };

  it.each([
    ['written-verified', true, "Camera clock set to the Pi's time (it was 2.4 s behind), verified: now 3 ms ahead (±4 ms)"],
    ['written-unverified', true, "Camera clock set to the Pi's time (it was 2.4 s behind), not verified"],
    ['measured-kept', true, 'Camera clock kept: already within ±100 ms of the Pi (16 ms behind)'],
    ['failed', false, 'Device busy. Try again in a moment'],
  ] as const)('one camera, %s: the answer in a sentence', (kind, ok, text) => {
    expect(summarize([answers[kind]], nameOf)).toEqual({ ok, text });
  });

  it('several cameras: each named with the words the activity log uses for its outcome', () => {
    const result = summarize(Object.values(answers), nameOf);
    expect(result.ok).toBe(false);
    expect(result.text).toBe(
      `Cam A: ${CAMERA_SYNC_WORDS['written-verified']} (it was 2.4 s behind); Cam B: ${CAMERA_SYNC_WORDS['written-unverified']} (it was 2.4 s behind); ` +
        `Cam C: ${CAMERA_SYNC_WORDS['measured-kept']} (within ±100 ms, 16 ms behind); Cam D: Device busy. Try again in a moment`,
    );
    expect(summarize([answers['written-verified'], answers['measured-kept']], nameOf).text).toMatch(/^Camera clocks checked against the Pi's time\. /);
    expect(summarize([answers['written-verified'], answers['written-unverified']], nameOf).text).toMatch(/^Camera clocks set to the Pi's time\. /);
  });

  it('a kept camera is never "set" or "Synced", also from a server that sends no outcome', () => {
    const { outcome: _answerOutcome, ...oldAnswer } = answers['measured-kept'] as Extract<CameraSyncOutcome, { success: true }>;
    for (const answer of [answers['measured-kept'], oldAnswer]) expect(summarize([answer], nameOf).text).not.toMatch(/\bset\b/);
    const { outcome: _rowOutcome, ...oldRow } = lastSyncs['measured-kept'];
    for (const lastSync of [lastSyncs['measured-kept'], oldRow]) {
      const text = rowText(lastSync);
      expect(text).toBe('●Kept within ±100 ms of the Pi, not written · 1 min agomeasured 16 ms behind (±5 ms)');
      expect(text).not.toMatch(/Synced|\bset\b/);
    }
  });

  it.each([
    ['written-verified', /^●Synced 1 min agowas 2\.4 s behind, now 3 ms ahead \(±4 ms\)$/],
    ['written-unverified', /^◐Set set, not verified · 1 min agoits clock read 2\.4 s behind before$/],
    ['failed', /^✕Failed Camera is busy: Device busy · 1 min ago$/],
  ] as const)('the row of a camera whose last sync was %s', (kind, text) => {
    expect(rowText(lastSyncs[kind])).toMatch(text);
  });
});
