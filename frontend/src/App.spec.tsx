import { act, fireEvent, render, screen, within } from '@testing-library/react';
import type { ActivityEntry, ServerFrame, TimeSyncStatus } from '../../backend/protocol/messages';
import { FakeWebSocket, makeStatus } from '../test-support/fakes';
import { ActionError, type TimeSyncApi } from './api';
import { App } from './App';
import { NIGHT_MODE_KEY } from './night-mode';
import { TimeSyncSocket } from './ws-client';

type StrictApi = { [K in keyof TimeSyncApi]: jest.Mock<ReturnType<TimeSyncApi[K]>, Parameters<TimeSyncApi[K]>> };

/** An api whose every call fails the test unless the test has said what it returns. */
function strictApi(): StrictApi {
  const unexpected = (name: string) => jest.fn(() => Promise.reject(new Error(`unexpected call to ${name}`)));
  // The clock probe runs after every status; by default it never answers, so the status stamp is used.
  const pending = jest.fn(() => new Promise<never>(() => undefined));
  return { setPiTime: unexpected('setPiTime'), syncCamera: unexpected('syncCamera'), probePiClock: pending } as unknown as StrictApi;
}

const NOW = Date.parse('2026-11-25T08:02:00.000Z');

describe(App.name, () => {
  let socket: TimeSyncSocket;
  let api: StrictApi;

  const ws = () => FakeWebSocket.last;
  const serverSend = (frame: ServerFrame) => act(() => ws().serverSend(frame));
  const sendStatus = (status: TimeSyncStatus) => serverSend({ type: 'time-sync-status', timestamp: new Date().toISOString(), data: status });

  function renderApp() {
    const view = render(<App socket={socket} api={api} />);
    act(() => ws().serverOpen());
    return view;
  }

  beforeEach(() => {
    jest.useFakeTimers({ now: NOW });
    FakeWebSocket.reset();
    localStorage.clear();
    document.documentElement.className = '';
    socket = new TimeSyncSocket({ url: 'ws://pi.test/ws', WebSocketImpl: FakeWebSocket, isVisible: () => true, random: () => 1 });
    socket.start();
    api = strictApi();
  });

  afterEach(() => {
    socket.stop();
    jest.useRealTimers();
  });

  describe('Controller Status', () => {
    it('shows both TimeSync rows, the camera one blank when no camera is connected', () => {
      renderApp();
      sendStatus(makeStatus());
      const camera = screen.getByTestId('camera-status');
      const info = screen.getByTestId('controller-info');
      expect(within(camera).getByText('TimeSync:')).toBeVisible();
      expect(within(info).getByText('TimeSync:')).toBeVisible();
      expect(screen.getByTestId('camera-timesync')).toBeEmptyDOMElement();
      expect(screen.getByTestId('camera-name')).toHaveTextContent('No camera connected');
    });

    it('shows source, age, reliability, offset and error bound of the Pi', () => {
      renderApp();
      sendStatus(makeStatus({ reliability: 'medium', lastSyncAgeMs: 120_000, lastOffsetMs: 1502.4, errorBoundMs: 3.2, sourceClient: '10.42.0.5' }));
      const row = screen.getByTestId('pi-timesync');
      expect(row).toHaveTextContent('from device 10.42.0.5');
      expect(screen.getByTestId('pi-age')).toHaveTextContent('2 min ago');
      expect(screen.getByTestId('pi-reliability')).toHaveTextContent('Medium');
      expect(screen.getByTestId('pi-reliability')).toHaveClass('reliability-medium');
      expect(screen.getByTestId('pi-offset')).toHaveTextContent('offset +1.502 s ± 3.2 ms');
    });

    it('ages the last sync locally, on the monotonic clock, between status frames', () => {
      renderApp();
      sendStatus(makeStatus({ lastSyncAgeMs: 119_000 }));
      expect(screen.getByTestId('pi-age')).toHaveTextContent('1 min ago');
      act(() => jest.advanceTimersByTime(62_000));
      expect(screen.getByTestId('pi-age')).toHaveTextContent('3 min ago');
    });

    it("ticks the Pi's time, this device's time and their difference each second", () => {
      renderApp();
      // The Pi is 90 s behind this device.
      sendStatus(makeStatus({ pi: { ...makeStatus().pi, epochMs: NOW - 90_000, timezone: 'UTC' } }));
      expect(screen.getByTestId('pi-time')).toHaveTextContent('2026-11-25 08:00:30');
      expect(screen.getByTestId('time-difference')).toHaveTextContent('Pi is 1 min 30 s behind');
      act(() => jest.advanceTimersByTime(3010));
      expect(screen.getByTestId('pi-time')).toHaveTextContent('2026-11-25 08:00:33');
      expect(screen.getByTestId('device-time')).toHaveTextContent(/08:02:03|09:02:03|\d\d:02:03/);
    });

    it("prefers the measured difference to the status's own stamp once the probe answers", async () => {
      api.probePiClock.mockResolvedValue({ piMinusDeviceMs: 2300, rttMs: 2 });
      renderApp();
      sendStatus(makeStatus({ pi: { ...makeStatus().pi, epochMs: NOW - 90_000, timezone: 'UTC' } }));
      expect(screen.getByTestId('time-difference')).toHaveTextContent('Pi is 1 min 30 s behind');
      await act(async () => {
        jest.advanceTimersByTime(250);
      });
      expect(api.probePiClock).toHaveBeenCalledTimes(1);
      expect(screen.getByTestId('time-difference')).toHaveTextContent('Pi is 2.3 s ahead');
      expect(screen.getByTestId('pi-time')).toHaveTextContent('2026-11-25 08:02:02');
    });

    it('compares both clocks at the same moment when a status arrives between ticks', () => {
      renderApp();
      act(() => jest.advanceTimersByTime(600)); // after the tick at NOW, before the next one
      sendStatus(makeStatus({ pi: { ...makeStatus().pi, epochMs: Date.now(), timezone: 'UTC' } }));
      expect(screen.getByTestId('time-difference')).toHaveTextContent('in step (within 0.1 s)');
    });

    it('says so when the Pi has NTP', () => {
      renderApp();
      sendStatus(makeStatus({ syncSource: 'ntp', pi: { ...makeStatus().pi, ntpSynchronized: true } }));
      expect(screen.getByTestId('pi-timesync')).toHaveTextContent('NTP synchronized');
    });

    it('says the Pi is not synchronized before any sync', () => {
      renderApp();
      sendStatus(makeStatus({ isSynchronized: false, syncSource: 'none', reliability: 'none', lastSyncAgeMs: null, lastOffsetMs: null, errorBoundMs: null }));
      expect(screen.getByTestId('pi-timesync')).toHaveTextContent('Not synchronized yet');
      expect(screen.getByTestId('pi-reliability')).toHaveTextContent('None');
    });

    it('shows the camera name, serial and its last sync when a camera is connected', () => {
      renderApp();
      sendStatus(
        makeStatus({
          camera: {
            connected: true,
            baseUrl: 'http://192.168.4.2:8080',
            info: { manufacturer: 'Canon Inc.', productName: 'Canon EOS R6', serialNumber: '012345678901' },
            lastSync: { success: true, at: new Date(NOW - 60_000).toISOString(), offsetMs: 3200, residualMs: 150 },
            lastError: null,
          },
        }),
      );
      expect(screen.getByTestId('camera-name')).toHaveTextContent('Canon EOS R6 · serial 012345678901');
      expect(screen.getByTestId('camera-timesync')).toHaveTextContent('Synced 1 min ago');
      expect(screen.getByTestId('camera-timesync')).toHaveTextContent('was 3.2 s behind, now 150 ms ahead');
    });

    it('shows the simulated-clock banner only for the simulated backend', () => {
      renderApp();
      sendStatus(makeStatus());
      expect(screen.queryByTestId('simulated-banner')).not.toBeInTheDocument();
      sendStatus(makeStatus({ pi: { ...makeStatus().pi, backend: 'simulated' } }));
      expect(screen.getByTestId('simulated-banner')).toHaveTextContent('Simulated clock: the system clock is not changed');
    });
  });

  describe('connection', () => {
    it('shows a visible Reconnecting… state after the socket drops, and Connected again after', () => {
      renderApp();
      expect(screen.getByTestId('connection')).toHaveTextContent('Connected');
      sendStatus(makeStatus());
      expect(screen.queryByTestId('stale-note')).not.toBeInTheDocument();
      act(() => ws().serverClose());
      expect(screen.getByTestId('connection')).toHaveAttribute('data-state', 'reconnecting');
      expect(screen.getByTestId('stale-note')).toHaveTextContent('last known, not connected');
      expect(screen.getByTestId('connection')).toHaveTextContent('Reconnecting…');
      act(() => jest.advanceTimersByTime(500));
      act(() => ws().serverOpen());
      expect(screen.getByTestId('connection')).toHaveTextContent('Connected');
    });

    it('shows error frames from the Pi in plain words', () => {
      renderApp();
      serverSend({ type: 'error', data: { code: 'CLOCK_PERMISSION_DENIED', message: 'timedatectl: access denied' } });
      expect(screen.getByTestId('socket-error')).toHaveTextContent('The Pi reported: timedatectl: access denied');
    });
  });

  describe('manual time', () => {
    it("is disabled with the reason when this device is not on the Pi's Wi-Fi", () => {
      renderApp();
      sendStatus(makeStatus({ canSetTime: false }));
      expect(screen.getByTestId('set-pi-time')).toBeDisabled();
      expect(screen.getByTestId('set-pi-time-reason')).toHaveTextContent("Only devices on the Pi's Wi-Fi can set the time");
    });

    it("is prefilled with this device's time and zone and sends the stepped time, stamped at the tap", async () => {
      api.setPiTime.mockResolvedValue({});
      renderApp();
      sendStatus(makeStatus({ canSetTime: true }));
      act(() => {
        fireEvent.change(screen.getByTestId('manual-zone'), { target: { value: 'UTC' } });
      });
      expect(screen.getByTestId('set-pi-time')).toBeEnabled();
      expect(screen.getByTestId('field-hour')).toHaveTextContent('08');
      expect(screen.getByTestId('field-minute')).toHaveTextContent('02');
      fireEvent.click(screen.getByTestId('step-hour-up'));
      fireEvent.click(screen.getByTestId('step-minute-down'));
      fireEvent.click(screen.getByTestId('step-day-up'));
      expect(screen.getByTestId('field-hour')).toHaveTextContent('09');
      expect(screen.getByTestId('field-minute')).toHaveTextContent('01');
      expect(screen.getByTestId('field-day')).toHaveTextContent('26');
      act(() => jest.advanceTimersByTime(5000)); // the chosen time keeps running
      await act(async () => {
        fireEvent.click(screen.getByTestId('set-pi-time'));
      });
      expect(api.setPiTime).toHaveBeenCalledTimes(1);
      expect(api.setPiTime).toHaveBeenCalledWith('2026-11-26T09:01:05.000Z', 'UTC');
      expect(screen.getByTestId('set-pi-time-message')).toHaveTextContent("Pi's clock set");
    });

    it('steps on and on while a stepper is held, and only once for a tap', () => {
      renderApp();
      sendStatus(makeStatus());
      act(() => {
        fireEvent.change(screen.getByTestId('manual-zone'), { target: { value: 'UTC' } });
      });
      const up = screen.getByTestId('step-second-up');
      fireEvent.pointerDown(up, { button: 0 });
      act(() => jest.advanceTimersByTime(450 + 80 * 4));
      fireEvent.pointerUp(up);
      fireEvent.click(up);
      expect(screen.getByTestId('manual-delta')).toHaveTextContent("+5.000 s from this device's time");
      fireEvent.pointerDown(up, { button: 0 });
      fireEvent.pointerUp(up);
      fireEvent.click(up);
      expect(screen.getByTestId('manual-delta')).toHaveTextContent("+6.000 s from this device's time");
      fireEvent.pointerDown(up, { button: 0 });
      fireEvent.pointerCancel(up); // a swipe that scrolls the page
      act(() => jest.advanceTimersByTime(2000));
      expect(screen.getByTestId('manual-delta')).toHaveTextContent("+6.000 s from this device's time");
    });

    it("goes back to this device's time", () => {
      renderApp();
      sendStatus(makeStatus());
      fireEvent.click(screen.getByTestId('step-year-down'));
      expect(screen.getByTestId('manual-delta')).not.toHaveTextContent("This device's time");
      fireEvent.click(screen.getByTestId('use-device-time'));
      expect(screen.getByTestId('manual-delta')).toHaveTextContent("This device's time");
    });

    it('shows a refusal next to the button', async () => {
      api.setPiTime.mockRejectedValue(new ActionError('NOT_ACCESS_POINT_CLIENT', 'client 192.168.1.9 is not on the access point', 403));
      renderApp();
      sendStatus(makeStatus({ canSetTime: undefined }));
      await act(async () => {
        fireEvent.click(screen.getByTestId('set-pi-time'));
      });
      expect(screen.getByTestId('set-pi-time-message')).toHaveTextContent("Only devices on the Pi's Wi-Fi can set the time");
      expect(screen.getByTestId('set-pi-time-message')).toHaveAttribute('role', 'alert');
    });
  });

  describe('camera sync', () => {
    it('shows the error next to the button', async () => {
      api.syncCamera.mockRejectedValue(new ActionError('NO_CAMERA', 'no camera connected', 409));
      renderApp();
      sendStatus(makeStatus());
      await act(async () => {
        fireEvent.click(screen.getByTestId('sync-camera'));
      });
      expect(api.syncCamera).toHaveBeenCalledTimes(1);
      const message = screen.getByTestId('sync-camera-message');
      expect(message).toHaveTextContent('No camera connected');
      expect(message).toHaveAttribute('role', 'alert');
      expect(screen.getByTestId('camera-status')).toContainElement(message);
    });

    it('shows a busy camera in plain words', async () => {
      api.syncCamera.mockRejectedValueOnce(new ActionError('CAMERA_BUSY', 'Camera is busy: Device busy', 503));
      renderApp();
      await act(async () => {
        fireEvent.click(screen.getByTestId('sync-camera'));
      });
      expect(screen.getByTestId('sync-camera-message')).toHaveTextContent('Camera is busy: Device busy. Try again in a moment');
    });

    it('explains a busy camera whose message does not say so', async () => {
      api.syncCamera.mockRejectedValue(new ActionError('CAMERA_BUSY', 'Taken in preparation', 503));
      renderApp();
      await act(async () => {
        fireEvent.click(screen.getByTestId('sync-camera'));
      });
      expect(screen.getByTestId('sync-camera-message')).toHaveTextContent('The camera is busy (Taken in preparation). Try again in a moment');
    });

    it('reports success with how far off the camera was', async () => {
      api.syncCamera.mockResolvedValue({ success: true, offset: 2400, residualMs: 3 });
      renderApp();
      await act(async () => {
        fireEvent.click(screen.getByTestId('sync-camera'));
      });
      expect(screen.getByTestId('sync-camera-message')).toHaveTextContent("Camera clock set to the Pi's time (it was 2.4 s behind)");
    });
  });

  describe('activity log', () => {
    const entry = (minute: number, message: string, success = true): ActivityEntry => ({
      timestamp: `2026-11-25T08:0${minute}:00.000Z`,
      type: success ? 'sync' : 'error',
      message,
      success,
      details: {},
    });

    it('lists entries newest first with type, message and local time', () => {
      renderApp();
      serverSend({ type: 'activity_log', timestamp: '', data: { entries: [entry(0, 'first'), entry(1, 'second'), entry(2, 'camera failed', false)] } });
      const items = screen.getAllByTestId('activity-entry');
      expect(items.map((li) => li.querySelector('.activity-message')?.textContent)).toEqual(['Failed: camera failed', 'second', 'first']);
      expect(items[0]).toHaveTextContent('Error');
      expect(items[2]).toHaveTextContent('Sync');
      expect(items[2].querySelector('time')).toHaveAttribute('dateTime', '2026-11-25T08:00:00.000Z');
      expect(items[2].querySelector('time')?.textContent).toMatch(/^\d\d:00:00$/);
    });

    it('shows new entries on top as they arrive', () => {
      renderApp();
      serverSend({ type: 'activity_log', timestamp: '', data: { entries: [entry(0, 'first')] } });
      serverSend({ type: 'activity_log', timestamp: '', data: { entries: [entry(0, 'first'), entry(1, 'second')] } });
      expect(screen.getAllByTestId('activity-entry')[0]).toHaveTextContent('second');
    });
  });

  describe('night mode', () => {
    it('is remembered in localStorage and applied to the whole page', () => {
      const first = renderApp();
      expect(document.documentElement).not.toHaveClass('night');
      fireEvent.click(screen.getByTestId('night-toggle'));
      expect(document.documentElement).toHaveClass('night');
      expect(localStorage.getItem(NIGHT_MODE_KEY)).toBe('on');
      first.unmount();

      document.documentElement.className = '';
      render(<App socket={socket} api={api} />);
      expect(screen.getByTestId('night-toggle')).toHaveAttribute('aria-pressed', 'true');
      expect(document.documentElement).toHaveClass('night');
      fireEvent.click(screen.getByTestId('night-toggle'));
      expect(localStorage.getItem(NIGHT_MODE_KEY)).toBe('off');
      expect(document.documentElement).not.toHaveClass('night');
    });
  });
});
