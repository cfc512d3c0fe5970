import { act, fireEvent, render, screen } from '@testing-library/react';
import type { SlateApi, SlateInfo } from './slate-api';
import { SlatePage } from './SlatePage';

const info = (change: Partial<SlateInfo> = {}): SlateInfo => ({ piId: 'pi-a', epochMs: 1_796_205_600_000, clock: 'abcd.0', reliability: 'high', source: 'client', errorBoundMs: 2, timezone: 'Europe/Berlin', latencyFrames: 1, ...change });

/** Animation frames driven by hand, 60 a second. */
function frames() {
  const queue: Array<(ts: number) => void> = [];
  let t = 0;
  return {
    requestFrame: (cb: (ts: number) => void) => queue.push(cb),
    cancelFrame: () => undefined,
    run(n: number) {
      for (let i = 0; i < n; i++) {
        const cb = queue.shift();
        if (cb) act(() => cb((t += 1000 / 60)));
      }
    },
  };
}

function api(slate: SlateInfo, answer = { results: [], cameras: [] } as Awaited<ReturnType<SlateApi['sendPhotos']>>): SlateApi & { sent: File[][] } {
  const sent: File[][] = [];
  return {
    sent,
    probe: async () => ({ info: slate, samples: [{ piMinusPerfMs: slate.epochMs, rttMs: 1, atPerf: 0, clock: slate.clock }] }),
    sendPhotos: async (files) => {
      sent.push(files);
      return answer;
    },
  };
}

beforeEach(() => {
  jest.spyOn(HTMLCanvasElement.prototype, 'getContext').mockReturnValue(null);
});
afterEach(() => jest.restoreAllMocks());

describe('SlatePage', () => {
  it('draws a code once the Pi is trusted and the screen measured', async () => {
    const f = frames();
    render(<SlatePage api={api(info())} requestFrame={f.requestFrame} cancelFrame={f.cancelFrame} />);
    await act(async () => undefined);
    f.run(20);
    expect(window.__timesyncSlate?.text).toMatch(/^TS1;pi-a;\d+;19;16\.7;1\.\d;abcd\.0$/);
    expect(screen.queryByTestId('slate-reason')).toBeNull();
    expect(screen.getByTestId('slate-pi')).toHaveTextContent('Pi pi-a · Europe/Berlin');
  });

  it("shows no code while the Pi's time is not set, and says why", async () => {
    const f = frames();
    render(<SlatePage api={api(info({ reliability: 'none' }))} requestFrame={f.requestFrame} cancelFrame={f.cancelFrame} />);
    await act(async () => undefined);
    f.run(20);
    expect(window.__timesyncSlate?.text).toBeNull();
    expect(screen.getByTestId('slate-reason')).toHaveTextContent("The Pi's time is not set yet: no code");
  });

  it("sends the chosen photos and shows each camera's offset and each refusal", async () => {
    const f = frames();
    const fake = api(info(), {
      results: [{ file: 'b.jpg', ok: false, code: 'NO_SLATE_CODE', message: 'no QR code could be read in the photo' }],
      cameras: [{ cameraId: '0830', serial: '0830', make: 'Canon', model: 'Canon EOS R5', scopable: true, offsetMs: 1234.4, boundMs: 12.1, photos: 2, consistent: true, zoneFrom: 'pi-zone' }],
    });
    render(<SlatePage api={fake} requestFrame={f.requestFrame} cancelFrame={f.cancelFrame} />);
    const files = [new File(['a'], 'a.jpg', { type: 'image/jpeg' }), new File([''], 'b.jpg', { type: 'image/jpeg' })];
    await act(async () => {
      fireEvent.change(screen.getByTestId('slate-file'), { target: { files } });
    });
    expect(fake.sent[0].map((x) => x.name)).toEqual(['a.jpg', 'b.jpg']);
    expect(screen.getByTestId('slate-camera')).toHaveTextContent("Canon EOS R5 0830: camera +1234 ms from the Pi, ±13 ms, from 2 photos. The photos carry no zone: read in the Pi's");
    expect(screen.getByTestId('slate-refused')).toHaveTextContent('b.jpg: no QR code could be read in the photo');
  });
});
