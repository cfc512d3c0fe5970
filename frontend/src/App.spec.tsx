import { act, fireEvent, render, screen, within } from '@testing-library/react';
import type { ServerFrame, TimeSyncStatus } from '../../backend/protocol/messages';
import { CameraState, ClientFrameType, ClockBackend, DecisionKind, ErrorCode, EventType, PROTOCOL_VERSION, ServerFrameType } from '../../backend/protocol/vocabulary';
import { FakeStorage, FakeWebSocket, makeCamera, makeDecision, makeEntry, makeSessionCamera, makeSessionReport, makeStatus, SESSION_ID } from '../test-support/fakes';
import { ActionError, type SessionList, type TimeSyncApi } from './api';
import { UNRELIABLE_START } from './components/SessionPanel';
import { App } from './App';
import { NIGHT_MODE_KEY } from './night-mode';
import { RELOADED_FOR_KEY, TimeSyncSocket } from './ws-client';

type StrictApi = { [K in keyof TimeSyncApi]: jest.Mock<ReturnType<TimeSyncApi[K]>, Parameters<TimeSyncApi[K]>> };

/** An api whose every call fails the test unless the test has said what it returns. */
function strictApi(): StrictApi {
  const unexpected = (name: string) => jest.fn(() => Promise.reject(new Error(`unexpected call to ${name}`)));
  // The clock probe runs after every status, the list of sessions on connect and after each start and stop;
  // by default they never answer (the status stamp is used; no last report is offered).
  const pending = () => jest.fn(() => new Promise<never>(() => undefined));
  return {
    setPiTime: unexpected('setPiTime'),
    syncCameras: unexpected('syncCameras'),
    probePiClock: pending(),
    connectInfo: unexpected('connectInfo'),
    startSession: unexpected('startSession'),
    stopSession: unexpected('stopSession'),
    sessionReport: unexpected('sessionReport'),
    listSessions: pending(),
  } as unknown as StrictApi;
}

const NOW = Date.parse('2026-11-25T08:02:00.000Z');

describe(App.name, () => {
  let socket: TimeSyncSocket;
  let api: StrictApi;
  let reload: jest.Mock<void, []>;
  let storage: FakeStorage;

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
    reload = jest.fn();
    storage = new FakeStorage();
    socket = new TimeSyncSocket({ url: 'ws://pi.test/ws', WebSocketImpl: FakeWebSocket, isVisible: () => true, random: () => 1, reload, storage });
    socket.start();
    api = strictApi();
  });

  afterEach(() => {
    socket.stop();
    jest.useRealTimers();
  });

  describe('Pi time and cameras', () => {
    it("labels each row by what it describes: the Pi's sync and a camera's are told apart; the camera one blank when no camera is connected", () => {
      renderApp();
      sendStatus(makeStatus({ cameras: [] }));
      const camera = screen.getByTestId('camera-status');
      const info = screen.getByTestId('controller-info');
      expect(within(info).getByRole('heading', { name: 'Pi time' })).toBeVisible();
      expect(within(info).getByText('Pi sync')).toBeVisible();
      expect(within(camera).getByText('Camera sync')).toBeVisible();
      expect(within(camera).queryByText('Pi sync')).not.toBeInTheDocument();
      expect(within(info).queryByText('Camera sync')).not.toBeInTheDocument();
      expect(document.body).not.toHaveTextContent(/TimeSync:|Controller Info|Controller Status/);
      expect(screen.getByTestId('camera-timesync')).toBeEmptyDOMElement();
      expect(screen.getByTestId('camera-name')).toHaveTextContent('No camera connected');
    });

    it('shows source, age, reliability, offset and error bound of the Pi', () => {
      renderApp();
      sendStatus(makeStatus({ reliability: 'medium', lastSyncAgeMs: 120_000, lastOffsetMs: 1502.4, errorBoundMs: 3.2, sourceClient: '10.42.0.5' }));
      const row = screen.getByTestId('pi-timesync');
      expect(row).toHaveTextContent('from the phone at 10.42.0.5');
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

    it('shows the simulated-clock banner only for the simulated backend', () => {
      renderApp();
      sendStatus(makeStatus());
      expect(screen.queryByTestId('simulated-banner')).not.toBeInTheDocument();
      sendStatus(makeStatus({ pi: { ...makeStatus().pi, backend: 'simulated' } }));
      expect(screen.getByTestId('simulated-banner')).toHaveTextContent('Simulated clock: the system clock is not changed');
    });

    it('says what the first-run demo put in place: the simulated camera and whether this browser is trusted', () => {
      renderApp();
      const pi = { ...makeStatus().pi, backend: ClockBackend.Simulated };
      sendStatus(makeStatus({ pi, demo: { cameraUrl: 'http://127.0.0.1:40123/ccapi', loopbackTrusted: true, thisBrowserTrusted: true } }));
      expect(screen.getByTestId('simulated-banner')).toHaveTextContent(
        'Demo: simulated clock (the system clock is not changed), simulated camera at http://127.0.0.1:40123/ccapi, this browser trusted as a phone',
      );
      sendStatus(makeStatus({ pi, demo: { cameraUrl: null, loopbackTrusted: true, thisBrowserTrusted: false } }));
      expect(screen.getByTestId('simulated-banner')).toHaveTextContent(/^Demo: simulated clock \(the system clock is not changed\)$/);
      // The system backend never shows the demo, whatever a status says.
      sendStatus(makeStatus({ demo: { cameraUrl: 'http://127.0.0.1:1/ccapi', loopbackTrusted: true, thisBrowserTrusted: true } }));
      expect(screen.queryByTestId('simulated-banner')).not.toBeInTheDocument();
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
    const openManual = () => fireEvent.click(screen.getByTestId('open-manual'));
    /** Picks a zone by touch: the zone button, then a first choice (the Pi's zone, this device's, UTC). */
    const pickZone = (zone: string) => {
      fireEvent.click(screen.getByTestId('manual-zone'));
      const choice = screen.getAllByTestId('zone-first').find((b) => b.dataset.zone === zone);
      if (!choice) throw new Error(`no first choice ${zone}`);
      fireEvent.click(choice);
    };

    it("is disabled with the reason when this device is not on the Pi's Wi-Fi", () => {
      renderApp();
      sendStatus(makeStatus({ canSetTime: false }));
      openManual();
      expect(screen.getByTestId('set-pi-time')).toBeDisabled();
      expect(screen.getByTestId('set-pi-time-reason')).toHaveTextContent("Only the Pi's own screen and phones on the Pi's Wi-Fi can set the time");
    });

    it("is prefilled with this device's time and zone and sends the stepped time, stamped at the tap", async () => {
      api.setPiTime.mockResolvedValue({});
      renderApp();
      sendStatus(makeStatus({ canSetTime: true }));
      openManual();
      pickZone('UTC');
      expect(screen.getByTestId('manual-zone')).toHaveTextContent('UTC');
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
      openManual();
      pickZone('UTC');
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
      openManual();
      fireEvent.click(screen.getByTestId('step-year-down'));
      expect(screen.getByTestId('manual-delta')).not.toHaveTextContent("This device's time");
      fireEvent.click(screen.getByTestId('use-device-time'));
      expect(screen.getByTestId('manual-delta')).toHaveTextContent("This device's time");
    });

    it('shows a refusal next to the button', async () => {
      api.setPiTime.mockRejectedValue(new ActionError('NOT_ACCESS_POINT_CLIENT', 'client 192.168.1.9 is not on the access point', 403));
      renderApp();
      sendStatus(makeStatus({ canSetTime: undefined }));
      openManual();
      await act(async () => {
        fireEvent.click(screen.getByTestId('set-pi-time'));
      });
      expect(screen.getByTestId('set-pi-time-message')).toHaveTextContent("Only the Pi's own screen and phones on the Pi's Wi-Fi can set the time");
      expect(screen.getByTestId('set-pi-time-message')).toHaveAttribute('role', 'alert');
    });
  });

  describe('cameras', () => {
    const r6 = () =>
      makeCamera({
        id: '012345678901',
        lastSync: { success: true, at: new Date(NOW - 60_000).toISOString(), offsetMs: 3200, residualMs: 150, residualBoundMs: 12, verified: true },
      });
    const r50 = () => makeCamera({ id: '083021000123', info: { manufacturer: 'Canon Inc.', productName: 'Canon EOS R50', serialNumber: '083021000123' } });
    const rows = () => screen.getAllByTestId('camera');
    const row = (id: string) => rows().find((r) => r.dataset.cameraId === id)!;

    it('shows the camera name, serial and its last sync when a camera is connected', () => {
      renderApp();
      sendStatus(makeStatus({ cameras: [r6()] }));
      expect(screen.getByTestId('camera-name')).toHaveTextContent('Canon EOS R6 · serial 012345678901');
      expect(screen.getByTestId('camera-timesync')).toHaveTextContent('Synced 1 min ago');
      expect(screen.getByTestId('camera-timesync')).toHaveTextContent('was 3.2 s behind, now 150 ms ahead (±12 ms)');
      expect(screen.getByTestId('sync-camera')).toHaveTextContent('Sync camera now');
      expect(screen.getByTestId('sync-camera')).toBeEnabled();
      expect(screen.queryByTestId('sync-camera-one')).not.toBeInTheDocument();
    });

    it('shows a "Camera sync" row per camera with its state in plain words', () => {
      renderApp();
      sendStatus(
        makeStatus({
          cameras: [
            r6(),
            r50(),
            makeCamera({ id: 'CAM-3', state: CameraState.NeedsCredentials, info: { productName: 'Canon EOS R5' }, lastError: 'the camera refused the user name and password' }),
            makeCamera({ id: 'CAM-4', state: CameraState.Disconnected, info: null, lastError: 'no answer' }),
          ],
        }),
      );
      expect(rows()).toHaveLength(4);
      expect(within(screen.getByTestId('camera-status')).getAllByText('Camera sync')).toHaveLength(4);
      expect(within(row('012345678901')).getByTestId('camera-timesync')).toHaveTextContent('Synced 1 min ago');
      expect(within(row('083021000123')).getByTestId('camera-timesync')).toHaveTextContent('Connected, not synced yet');
      expect(within(row('083021000123')).getByTestId('camera-name')).toHaveTextContent('Canon EOS R50 · serial 083021000123');
      const locked = within(row('CAM-3')).getByTestId('camera-timesync');
      expect(locked).toHaveTextContent("needs the camera's user name and password");
      expect(locked).toHaveTextContent('refused the user name and password');
      expect(within(row('CAM-4')).getByTestId('camera-timesync')).toHaveTextContent('Not connected');
      expect(within(row('CAM-4')).getByTestId('camera-name')).toHaveTextContent('Camera · serial CAM-4');
      // Several connected: "Sync cameras now" for all, and one button per connected camera.
      expect(screen.getByTestId('sync-camera')).toHaveTextContent('Sync cameras now');
      expect(within(row('012345678901')).getByTestId('sync-camera-one')).toBeEnabled();
      expect(within(row('083021000123')).getByTestId('sync-camera-one')).toBeEnabled();
      expect(within(row('CAM-3')).queryByTestId('sync-camera-one')).not.toBeInTheDocument();
      expect(within(row('CAM-4')).queryByTestId('sync-camera-one')).not.toBeInTheDocument();
    });

    it('is disabled with the reason when no camera is connected', () => {
      renderApp();
      sendStatus(makeStatus({ cameras: [makeCamera({ state: CameraState.Disconnected })] }));
      expect(screen.getByTestId('sync-camera')).toBeDisabled();
      expect(screen.getByTestId('sync-camera-reason')).toHaveTextContent('No camera connected');
      sendStatus(makeStatus({ cameras: [makeCamera({ state: CameraState.NeedsCredentials })] }));
      expect(screen.getByTestId('sync-camera')).toBeDisabled();
      expect(screen.getByTestId('sync-camera-reason')).toHaveTextContent('needs its user name and password');
      sendStatus(makeStatus({ cameras: [] }));
      expect(screen.getByTestId('sync-camera')).toBeDisabled();
      expect(screen.getByTestId('sync-camera-reason')).toHaveTextContent('No camera connected');
    });

    it("is disabled with the reason when this device is not on the Pi's Wi-Fi", () => {
      renderApp();
      sendStatus(makeStatus({ canSetTime: false, cameras: [r6(), r50()] }));
      expect(screen.getByTestId('sync-camera')).toBeDisabled();
      expect(screen.getByTestId('sync-camera-reason')).toHaveTextContent("Only the Pi's own screen and phones on the Pi's Wi-Fi can set the time");
      expect(screen.queryByTestId('sync-camera-one')).not.toBeInTheDocument();
    });

    it('reports success with how far off the camera was', async () => {
      api.syncCameras.mockResolvedValue([{ cameraId: '012345678901', success: true, offset: 2400, residualMs: 3 }]);
      renderApp();
      sendStatus(makeStatus({ cameras: [r6()] }));
      await act(async () => {
        fireEvent.click(screen.getByTestId('sync-camera'));
      });
      expect(api.syncCameras).toHaveBeenCalledWith();
      const message = screen.getByTestId('sync-camera-message');
      expect(message).toHaveTextContent("Camera clock set to the Pi's time (it was 2.4 s behind)");
      expect(message).toHaveAttribute('role', 'status');
    });

    it('syncs all and names each camera that failed, as an alert', async () => {
      api.syncCameras.mockResolvedValue([
        { cameraId: '012345678901', success: true, offset: -500, residualMs: 2 },
        { cameraId: '083021000123', success: false, code: ErrorCode.CAMERA_BUSY, error: 'Device busy' },
      ]);
      renderApp();
      sendStatus(makeStatus({ cameras: [r6(), r50()] }));
      await act(async () => {
        fireEvent.click(screen.getByTestId('sync-camera'));
      });
      expect(api.syncCameras).toHaveBeenCalledTimes(1);
      expect(api.syncCameras).toHaveBeenCalledWith();
      const message = screen.getByTestId('sync-camera-message');
      expect(message).toHaveAttribute('role', 'alert');
      expect(message).toHaveTextContent('Canon EOS R6 · serial 012345678901: set and verified (it was 500 ms ahead)');
      expect(message).toHaveTextContent('Canon EOS R50 · serial 083021000123: Device busy. Try again in a moment');
    });

    it('says all were set when every camera took the time', async () => {
      api.syncCameras.mockResolvedValue([
        { cameraId: '012345678901', success: true, offset: 0.4, residualMs: 2 },
        { cameraId: '083021000123', success: true, outcome: 'written-unverified', verified: false, offset: null, residualMs: null },
      ]);
      renderApp();
      sendStatus(makeStatus({ cameras: [r6(), r50()] }));
      await act(async () => {
        fireEvent.click(screen.getByTestId('sync-camera'));
      });
      const message = screen.getByTestId('sync-camera-message');
      expect(message).toHaveAttribute('role', 'status');
      expect(message).toHaveTextContent("Camera clocks set to the Pi's time. Canon EOS R6 · serial 012345678901: set and verified (it was in step); Canon EOS R50 · serial 083021000123: set, not verified");
    });

    it('syncs one camera of several, with the answer in its own row', async () => {
      api.syncCameras.mockResolvedValue([{ cameraId: '083021000123', success: true, offset: 7000, residualMs: 1 }]);
      renderApp();
      sendStatus(makeStatus({ cameras: [r6(), r50()] }));
      await act(async () => {
        fireEvent.click(within(row('083021000123')).getByTestId('sync-camera-one'));
      });
      expect(api.syncCameras).toHaveBeenCalledWith('083021000123');
      expect(within(row('083021000123')).getByTestId('sync-camera-one-message')).toHaveTextContent("Camera clock set to the Pi's time (it was 7.0 s behind)");
      expect(within(row('012345678901')).queryByTestId('sync-camera-one-message')).not.toBeInTheDocument();
      expect(screen.queryByTestId('sync-camera-message')).not.toBeInTheDocument();
    });

    it("shows the Pi's refusal next to the button (the camera left between the status and the tap)", async () => {
      api.syncCameras.mockRejectedValue(new ActionError(ErrorCode.NO_CAMERA, 'no camera connected', 409));
      renderApp();
      sendStatus(makeStatus({ cameras: [r6()] }));
      await act(async () => {
        fireEvent.click(screen.getByTestId('sync-camera'));
      });
      const message = screen.getByTestId('sync-camera-message');
      expect(message).toHaveTextContent('No camera connected');
      expect(message).toHaveAttribute('role', 'alert');
      expect(screen.getByTestId('camera-status')).toContainElement(message);
    });

    it('shows a busy camera in plain words', async () => {
      api.syncCameras.mockResolvedValueOnce([{ cameraId: '012345678901', success: false, code: ErrorCode.CAMERA_BUSY, error: 'Camera is busy: Device busy' }]);
      renderApp();
      sendStatus(makeStatus({ cameras: [r6()] }));
      await act(async () => {
        fireEvent.click(screen.getByTestId('sync-camera'));
      });
      expect(screen.getByTestId('sync-camera-message')).toHaveTextContent('Camera is busy: Device busy. Try again in a moment');
      expect(screen.getByTestId('sync-camera-message')).toHaveAttribute('role', 'alert');
    });

    it('says when a camera refused the user name and password', async () => {
      api.syncCameras.mockRejectedValue(new ActionError(ErrorCode.CAMERA_AUTH_REQUIRED, 'the camera refused the user name and password', 502));
      renderApp();
      sendStatus(makeStatus({ cameras: [r6()] }));
      await act(async () => {
        fireEvent.click(screen.getByTestId('sync-camera'));
      });
      expect(screen.getByTestId('sync-camera-message')).toHaveTextContent(
        'The camera needs its user name and password (CAMERA_USER and CAMERA_PASSWORD on the Pi) (the camera refused the user name and password)',
      );
    });

    it('explains a busy camera whose message does not say so', async () => {
      api.syncCameras.mockRejectedValue(new ActionError(ErrorCode.CAMERA_BUSY, 'Taken in preparation', 503));
      renderApp();
      sendStatus(makeStatus({ cameras: [r6()] }));
      await act(async () => {
        fireEvent.click(screen.getByTestId('sync-camera'));
      });
      expect(screen.getByTestId('sync-camera-message')).toHaveTextContent('The camera is busy (Taken in preparation). Try again in a moment');
    });

    it('follows camera changes from the status alone, without asking for it', () => {
      renderApp();
      sendStatus(makeStatus({ cameras: [] }));
      const camera = r50();
      serverSend({ type: ServerFrameType.Event, eventType: EventType.CameraConnected, timestamp: '', data: { ...camera, cameraId: camera.id } });
      expect(screen.getByTestId('camera-name')).toHaveTextContent('No camera connected');
      sendStatus(makeStatus({ cameras: [camera] }));
      expect(screen.getByTestId('camera-name')).toHaveTextContent('Canon EOS R50');
      expect(ws().sent).toEqual([]);
    });
  });

  describe('decision', () => {
    const decided = (overrides: Partial<TimeSyncStatus> = {}) =>
      makeStatus({ operatorHold: true, syncSource: 'manual', decision: makeDecision(), ...overrides });

    it("shows the Pi's question and sends use-client-time over the socket", () => {
      renderApp();
      sendStatus(decided());
      const panel = screen.getByTestId('decision');
      expect(panel).toHaveTextContent('A phone disagrees with the time set by hand');
      expect(screen.getByTestId('decision-message')).toHaveTextContent("10.42.0.5's clock is 1 h ahead of the time set by hand");
      expect(screen.getByTestId('decision-message')).toHaveAttribute('role', 'alert');
      expect(screen.getByTestId('decision-detail')).toHaveTextContent('The phone at 10.42.0.5 is 1 h 0 min 0 s ahead of the Pi (± 3 ms)');
      const button = screen.getByTestId('use-client-time');
      expect(button).toHaveTextContent("Use this phone's time");
      fireEvent.click(button);
      expect(ws().sentFrames).toEqual([{ type: ClientFrameType.UseClientTime, data: {} }]);
      expect(button).toBeDisabled();
      expect(button).toHaveTextContent('Measuring this phone…');
      // The Pi took it: the next status has no decision and no hold.
      sendStatus(makeStatus({ operatorHold: false, decision: null }));
      expect(screen.queryByTestId('decision')).not.toBeInTheDocument();
      expect(screen.queryByTestId('operator-hold')).not.toBeInTheDocument();
    });

    it('asks about a GPS that disagrees by its name, and the answer takes its time', () => {
      renderApp();
      sendStatus(decided({ decision: makeDecision({ source: 'gps', client: '/dev/ttyACM0', message: 'GPS (/dev/ttyACM0) says 10:00:05, the Pi was set by hand to 10:00:00 (+5 s). Use its time?' }) }));
      expect(screen.getByTestId('decision')).toHaveTextContent('GPS disagrees with the time set by hand');
      expect(screen.getByTestId('decision-detail')).toHaveTextContent('GPS (/dev/ttyACM0) is 1 h 0 min 0 s ahead of the Pi');
      const button = screen.getByTestId('use-client-time');
      expect(button).toHaveTextContent('Use the time of GPS');
      fireEvent.click(button);
      expect(ws().sentFrames).toEqual([{ type: ClientFrameType.UseClientTime, data: {} }]);
      expect(button).toHaveTextContent('Measuring GPS…');
    });

    it('names a suspected zone mistake and the two zones', () => {
      renderApp();
      sendStatus(decided({ operatorHold: false, decision: makeDecision({ kind: DecisionKind.SuspectedZoneMistake, offsetMs: -1_800_000, clientZone: 'Asia/Kolkata', piZone: 'UTC' }) }));
      expect(screen.getByTestId('decision')).toHaveTextContent('Time zone or daylight-saving mistake?');
      expect(screen.getByTestId('decision-detail')).toHaveTextContent('10.42.0.5 is 30 min 0 s behind the Pi');
      expect(screen.getByTestId('decision-detail')).toHaveTextContent('zone Asia/Kolkata, the Pi uses UTC');
    });

    it("shows the Pi's refusal next to the button, not as a page-wide error", () => {
      renderApp();
      sendStatus(decided());
      fireEvent.click(screen.getByTestId('use-client-time'));
      serverSend({ type: 'error', data: { code: ErrorCode.NO_TIME_SOURCE, message: "no phone on the Pi's Wi-Fi is connected whose time could be used" } });
      const message = screen.getByTestId('use-client-time-message');
      expect(message).toHaveTextContent("No phone on the Pi's Wi-Fi is connected whose time could be used");
      expect(message).toHaveAttribute('role', 'alert');
      expect(screen.queryByTestId('socket-error')).not.toBeInTheDocument();
      expect(screen.getByTestId('use-client-time')).toBeEnabled();
    });

    it("is disabled with the reason for a device that is not on the Pi's Wi-Fi", () => {
      renderApp();
      sendStatus(decided({ canSetTime: false }));
      expect(screen.getByTestId('use-client-time')).toBeDisabled();
      expect(screen.getByTestId('use-client-time-reason')).toHaveTextContent("Only the Pi's own screen and phones on the Pi's Wi-Fi can set the time");
    });

    it('is disabled while the socket is down', () => {
      renderApp();
      sendStatus(decided());
      act(() => ws().serverClose());
      expect(screen.getByTestId('use-client-time')).toBeDisabled();
      expect(screen.getByTestId('use-client-time-reason')).toHaveTextContent('Not connected to the Pi');
    });

    it('says when the operator hold is on', () => {
      renderApp();
      sendStatus(makeStatus({ operatorHold: true, syncSource: 'manual', decision: null }));
      expect(screen.queryByTestId('decision')).not.toBeInTheDocument();
      expect(screen.getByTestId('operator-hold')).toHaveTextContent('Set by hand; automatic syncs only measure');
      expect(screen.getByTestId('pi-timesync')).toContainElement(screen.getByTestId('operator-hold'));
    });
  });

  describe('capture session', () => {
    const RUNNING = { id: SESSION_ID, startedAt: '2026-11-25T08:01:00.000Z' };
    const STARTED = {
      id: SESSION_ID,
      startedAt: RUNNING.startedAt,
      label: null,
      cameras: [{ cameraId: '012345678901', serial: '012345678901', success: true, outcome: 'written-verified' as const, correctedFromMs: 3012, offsetMs: 4, boundMs: 6, verified: true }],
    };
    const session = () => screen.getByTestId('session');

    it('is idle with Start session, and says in words why Start is disabled', () => {
      renderApp();
      sendStatus(makeStatus({ session: null }));
      expect(screen.getByTestId('session-state')).toHaveTextContent(/^None running\. A session sets the cameras that are off, then holds every clock steady until you stop it/);
      expect(screen.getByTestId('session-start')).toBeEnabled();
      expect(screen.queryByTestId('session-reason')).not.toBeInTheDocument();

      sendStatus(makeStatus({ session: null, canSetTime: false }));
      expect(screen.getByTestId('session-start')).toBeDisabled();
      expect(screen.getByTestId('session-reason')).toHaveTextContent("Only the Pi's own screen and phones on the Pi's Wi-Fi can start or stop a capture session");
      expect(screen.getByTestId('session-start')).toHaveAttribute('aria-describedby', 'session-reason');

      act(() => ws().serverClose());
      expect(screen.getByTestId('session-reason')).toHaveTextContent('Not connected to the Pi');
    });

    it('starts over REST and says what the start did to each camera; the running session then comes with the status', async () => {
      api.startSession.mockResolvedValue(STARTED);
      renderApp();
      sendStatus(makeStatus({ session: null, cameras: [makeCamera()] }));
      fireEvent.click(screen.getByTestId('session-start'));
      expect(screen.getByTestId('session-start')).toHaveTextContent('Starting…');
      expect(screen.getByTestId('session-start')).toBeDisabled();
      await act(async () => undefined);
      expect(api.startSession).toHaveBeenCalledWith(false);
      sendStatus(makeStatus({ session: RUNNING, cameras: [makeCamera()] }));
      expect(screen.getByTestId('session-message')).toHaveTextContent('Started. EOS R6 · 012345678901: set (it was 3.0 s ahead of the Pi), now 4 ms ahead of the Pi (±6 ms)');
      expect(screen.getByTestId('session-message')).toHaveAttribute('role', 'status');
      expect(session()).toHaveAttribute('data-state', 'running');
      // The Pi's clock (08:02 UTC) in the Pi's zone (Berlin): started a minute ago.
      expect(screen.getByTestId('session-state')).toHaveTextContent('Running since 09:01:00 (1 min ago): nothing is stepped automatically until it stops');
      expect(screen.getByTestId('session-stop')).toBeEnabled();
      expect(screen.queryByTestId('session-start')).not.toBeInTheDocument();
    });

    it('follows a session started elsewhere from the status alone, and says when it holds a step back', () => {
      renderApp();
      sendStatus(makeStatus({ session: RUNNING }));
      expect(screen.getByTestId('session-stop')).toBeEnabled();
      expect(screen.queryByTestId('session-held')).not.toBeInTheDocument();
      sendStatus(makeStatus({ session: RUNNING, decision: makeDecision({ kind: DecisionKind.SessionRunning, offsetMs: 2000 }) }));
      expect(screen.getByTestId('decision')).toHaveAttribute('data-kind', 'session-running');
      expect(screen.getByTestId('session-held')).toHaveTextContent("A step of the Pi's clock is held back: the question at the top says by how much");
      sendStatus(makeStatus({ session: null }));
      expect(screen.getByTestId('session-start')).toBeEnabled();
      expect(screen.queryByTestId('session-held')).not.toBeInTheDocument();
    });

    it("shows the refusal when the Pi's time is not reliable, and starts anyway with confirm when told", async () => {
      api.startSession.mockRejectedValueOnce(new ActionError(ErrorCode.PI_TIME_UNRELIABLE, "Capture session not started: The Pi's own time is not reliable (confirm: true)", 409)).mockResolvedValueOnce(STARTED);
      renderApp();
      sendStatus(makeStatus({ session: null, reliability: 'none' }));
      await act(async () => {
        fireEvent.click(screen.getByTestId('session-start'));
      });
      expect(api.startSession).toHaveBeenLastCalledWith(false);
      const refusal = screen.getByTestId('session-message');
      expect(refusal).toHaveAttribute('role', 'alert');
      expect(refusal).toHaveTextContent(UNRELIABLE_START);
      expect(refusal).toHaveTextContent(/^⚠\uFE0E Not started: the Pi's own time is not reliable .*no camera was touched\. Set the Pi's time first \(connect a phone\), or start anyway/);
      expect(refusal).not.toHaveTextContent('confirm: true');

      await act(async () => {
        fireEvent.click(screen.getByTestId('session-start-anyway'));
      });
      expect(api.startSession).toHaveBeenLastCalledWith(true);
      expect(api.startSession).toHaveBeenCalledTimes(2);
      sendStatus(makeStatus({ session: RUNNING, reliability: 'none' }));
      expect(screen.getByTestId('session-message')).toHaveTextContent(/^✓ Started\./);
      expect(screen.queryByTestId('session-start-anyway')).not.toBeInTheDocument();
    });

    it('shows any other refusal in words, next to the button', async () => {
      api.startSession.mockRejectedValue(new ActionError(ErrorCode.SESSION_RUNNING, `Capture session ${SESSION_ID} is running (since 2026-11-25T08:01:00.000Z); stop it first`, 409));
      renderApp();
      sendStatus(makeStatus({ session: null }));
      await act(async () => {
        fireEvent.click(screen.getByTestId('session-start'));
      });
      expect(screen.getByTestId('session-message')).toHaveTextContent(`Capture session ${SESSION_ID} is running`);
      expect(screen.queryByTestId('session-start-anyway')).not.toBeInTheDocument();
    });

    it('stops over REST and opens the report the stop answered: each camera at start and stop, drift, writes, photos, the Pi', async () => {
      const report = makeSessionReport({
        label: 'Milky Way',
        piSteps: [{ line: 9, at: '2026-11-25T09:00:00.250Z', kind: 'external-step', stepMs: 250, source: null, state: 'confirmed' }],
      });
      api.stopSession.mockResolvedValue(report);
      renderApp();
      sendStatus(makeStatus({ session: RUNNING, cameras: [makeCamera()] }));
      await act(async () => {
        fireEvent.click(screen.getByTestId('session-stop'));
      });
      expect(api.stopSession).toHaveBeenCalledTimes(1);
      const sheet = screen.getByTestId('report-sheet');
      expect(within(sheet).getByRole('heading', { name: 'Capture session report' })).toBeVisible();
      expect(within(sheet).getByTestId('report-summary')).toHaveTextContent(`Milky Way · ${SESSION_ID}Started 2026-11-25 08:00:00 Europe/Berlin by 10.42.0.5 · stopped 12:00:02 · 4 h`);
      expect(within(sheet).getByTestId('report-camera-name')).toHaveTextContent('EOS R6 · 012345678901');
      expect(within(sheet).getByTestId('report-start')).toHaveTextContent('set (it was 3.0 s ahead of the Pi), now 4 ms ahead of the Pi (±6 ms)');
      expect(within(sheet).getByTestId('report-end')).toHaveTextContent('16 ms ahead of the Pi (±6 ms)');
      expect(within(sheet).getByTestId('report-drift')).toHaveTextContent('+72 ms/day (±84)');
      expect(within(sheet).getByTestId('report-writes')).toHaveTextContent('not set during the session');
      expect(within(sheet).getByTestId('report-photos')).toHaveTextContent('taken 2026-11-25 08:00:00.004 – 12:00:00.016 (camera time): shifted -13 ms to -7 ms (±12 ms)');
      expect(within(sheet).getByTestId('report-pi-steps')).toHaveTextContent('2026-11-25 10:00:00: stepped +250 ms, not by this product (network time, or someone set the clock)');

      fireEvent.click(screen.getByTestId('report-sheet-close'));
      sendStatus(makeStatus({ session: null, cameras: [makeCamera()] }));
      expect(screen.getByTestId('session-message')).toHaveTextContent(/^✓ Stopped after 4 h$/);
      expect(screen.getByTestId('session-last')).toHaveTextContent(/^Last: Milky Way · stopped 12:00:02Report$/);
      // The report is one tap away again, as the stop answered it (nothing fetched).
      fireEvent.click(screen.getByTestId('open-session-report'));
      expect(screen.getByTestId('report-sheet')).toBeInTheDocument();
      await act(async () => undefined);
      expect(api.sessionReport).toHaveBeenCalledWith(SESSION_ID);
    });

    it('offers the newest stopped session after a reload, and says only what its report says: drift not known, a stop it could not measure, a start not verified, photos left alone', async () => {
      api.sessionReport.mockResolvedValue(
        makeSessionReport({
          cameras: [
            makeSessionCamera({
              start: { cameraId: '012345678901', serial: '012345678901', success: true, outcome: 'written-unverified', correctedFromMs: -2500, offsetMs: null, boundMs: null, verified: false },
              end: { cameraId: '012345678901', serial: '012345678901', success: true, correctedFromMs: null, offsetMs: null, boundMs: null },
              // A figure the report does not vouch for: never shown.
              driftMsPerDay: 123.4,
              driftBoundMsPerDay: 40_552,
              driftKnown: false,
              driftSummary: 'not known: 38 s of measurements bound it only to ±40552 ms/day (a figure needs ±1000 or better)',
              writes: [{ line: 7, at: '2026-11-25T09:30:00.000Z', success: false, offsetMs: null, residualMs: null, reason: 'Device busy' }],
              leftAlone: [{ from: '2026:11:25 07:59:59.995', to: '2026:11:25 08:00:03.021', reason: 'the camera was set back by 3008 ms at line 2: photos in this window may be from before or after' }],
            }),
            makeSessionCamera({ cameraId: 'R5', serial: 'R5', start: null, end: { cameraId: 'R5', serial: 'R5', success: false, code: ErrorCode.CAMERA_BUSY, error: 'Device busy', correctedFromMs: null, offsetMs: null, boundMs: null }, driftKnown: false, driftSummary: 'not measured', driftMsPerDay: null, driftBoundMsPerDay: null, correction: [{ index: 1, extrapolated: false, unusable: "the camera was set (line 4) when the Pi's own time was unknown", segments: [] }] }),
          ],
          skipped: [{ line: 3, reason: "measured when the Pi's own time was unknown" }],
          damaged: [{ line: 5, reason: 'not JSON' }],
        }),
      );
      api.listSessions.mockResolvedValue({
        session: null,
        sessions: [
          { id: 's-20261125-080000-abcdef', startedAt: '2026-11-25T08:00:00.000Z', stoppedAt: null, label: 'never stopped' },
          { id: SESSION_ID, startedAt: '2026-11-25T07:00:00.000Z', stoppedAt: '2026-11-25T08:01:00.000Z', label: null },
        ],
      } satisfies SessionList);
      renderApp();
      await act(async () => {
        sendStatus(makeStatus({ session: null }));
      });
      expect(api.listSessions).toHaveBeenCalledTimes(1);
      {
        expect(screen.getByTestId('session-last')).toHaveTextContent('Last: stopped 09:01:00 (1 min ago)');
        await act(async () => {
          fireEvent.click(screen.getByTestId('open-session-report'));
        });
        expect(api.sessionReport).toHaveBeenCalledWith(SESSION_ID);
        const [first, second] = screen.getAllByTestId('report-camera');
        expect(within(first).getByTestId('report-start')).toHaveTextContent('set (it was 2.5 s behind the Pi), not verified');
        expect(within(first).getByTestId('report-end')).toHaveTextContent('uncertain: the measurement could not be bounded well enough to give a figure');
        expect(within(first).getByTestId('report-drift')).toHaveAttribute('data-known', 'false');
        expect(within(first).getByTestId('report-drift')).toHaveTextContent(/^not known: 38 s of measurements/);
        expect(within(first).getByTestId('report-drift')).not.toHaveTextContent('123');
        expect(first).not.toHaveTextContent('123.4');
        expect(within(first).getByTestId('report-writes')).toHaveTextContent('2026-11-25 10:30:00: not set (Device busy)');
        expect(within(first).getByTestId('report-photos')).toHaveTextContent('left alone: 2026-11-25 07:59:59.995 – 08:00:03.021: the camera was set back by 3008 ms at line 2');
        expect(within(second).getByTestId('report-camera-name')).toHaveTextContent('Camera R5');
        expect(within(second).getByTestId('report-start')).toHaveTextContent('not connected');
        expect(within(second).getByTestId('report-end')).toHaveTextContent(/^not measured: Device busy$/);
        expect(within(second).getByTestId('report-drift')).toHaveTextContent('not measured');
        expect(within(second).getByTestId('report-photos')).toHaveTextContent("not corrected: the camera was set (line 4) when the Pi's own time was unknown");
        expect(screen.getByTestId('report-pi-steps')).toHaveTextContent('not stepped: automatic steps wait while a session runs');
        expect(screen.getByTestId('report-unused')).toHaveTextContent("2 lines of the journal could not be used");
        expect(screen.getByTestId('report-unused')).toHaveTextContent("line 5: damaged: not JSON");
      }
    });

    it('"Fix my photos": downloads the session\'s ExifTool file and shows the one command to run with it', async () => {
      api.stopSession.mockResolvedValue(makeSessionReport());
      renderApp();
      sendStatus(makeStatus({ session: RUNNING }));
      await act(async () => {
        fireEvent.click(screen.getByTestId('session-stop'));
      });
      const link = screen.getByTestId('fix-photos-download');
      expect(link.tagName).toBe('A');
      expect(link).toHaveAttribute('href', `/api/timesync/corrections?session=${SESSION_ID}&format=exiftool`);
      expect(link).toHaveAttribute('download', `corrections-${SESSION_ID}.args`);
      expect(screen.getByTestId('fix-photos-command')).toHaveTextContent(`exiftool -@ corrections-${SESSION_ID}.args -overwrite_original path/to/photos`);
      expect(screen.queryByTestId('fix-photos-on-pi')).not.toBeInTheDocument();
    });

    it('copies the command where the browser allows it, and says so where it does not', async () => {
      api.stopSession.mockResolvedValue(makeSessionReport());
      renderApp();
      sendStatus(makeStatus({ session: RUNNING }));
      await act(async () => {
        fireEvent.click(screen.getByTestId('session-stop'));
      });
      const writeText = jest.fn(() => Promise.resolve());
      const secure = Object.getOwnPropertyDescriptor(window, 'isSecureContext');
      Object.defineProperty(window, 'isSecureContext', { value: true, configurable: true });
      Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
      try {
        await act(async () => {
          fireEvent.click(screen.getByTestId('fix-photos-copy'));
        });
        expect(writeText).toHaveBeenCalledWith(`exiftool -@ corrections-${SESSION_ID}.args -overwrite_original path/to/photos`);
        expect(screen.getByTestId('fix-photos-copy-message')).toHaveTextContent('Copied');

        // Plain http on a phone: no clipboard API, and (here) no copy command either.
        Object.defineProperty(window, 'isSecureContext', { value: false, configurable: true });
        await act(async () => {
          fireEvent.click(screen.getByTestId('fix-photos-copy'));
        });
        expect(screen.getByTestId('fix-photos-copy-message')).toHaveTextContent('This browser would not copy it: select the command and copy it by hand');
        expect(window.getSelection()?.toString()).toBe(`exiftool -@ corrections-${SESSION_ID}.args -overwrite_original path/to/photos`);
      } finally {
        delete (navigator as { clipboard?: unknown }).clipboard;
        if (secure) Object.defineProperty(window, 'isSecureContext', secure);
        else delete (window as { isSecureContext?: boolean }).isSecureContext;
      }
    });

    it('says there is nothing to fix, with no download, when no camera was measured against a known time', async () => {
      api.stopSession.mockResolvedValue(makeSessionReport({ cameras: [makeSessionCamera({ correction: [{ index: 1, extrapolated: false, unusable: "the camera was set (line 4) when the Pi's own time was unknown", segments: [] }] })] }));
      renderApp();
      sendStatus(makeStatus({ session: RUNNING }));
      await act(async () => {
        fireEvent.click(screen.getByTestId('session-stop'));
      });
      expect(screen.getByTestId('fix-photos-nothing')).toHaveTextContent('Nothing to fix: no camera was measured against a known time during this session.');
      expect(screen.queryByTestId('fix-photos-download')).not.toBeInTheDocument();
    });

    it('shows a refused stop in words and keeps the session running on the page', async () => {
      api.stopSession.mockRejectedValue(new ActionError(ErrorCode.JOURNAL_UNWRITABLE, 'EROFS: read-only file system; the session runs on', 503));
      renderApp();
      sendStatus(makeStatus({ session: RUNNING }));
      await act(async () => {
        fireEvent.click(screen.getByTestId('session-stop'));
      });
      expect(screen.getByTestId('session-message')).toHaveTextContent('EROFS: read-only file system; the session runs on');
      expect(screen.getByTestId('session-message')).toHaveAttribute('role', 'alert');
      expect(screen.queryByTestId('report-sheet')).not.toBeInTheDocument();
      expect(screen.getByTestId('session-stop')).toBeEnabled();
    });
  });

  describe('protocol version', () => {
    it('reloads itself when the Pi speaks another version', () => {
      render(<App socket={socket} api={api} />);
      act(() => ws().serverOpen(PROTOCOL_VERSION + 1));
      expect(reload).toHaveBeenCalledTimes(1);
    });

    it('says so, with a Reload button, when a reload did not help', () => {
      storage.setItem(RELOADED_FOR_KEY, String(PROTOCOL_VERSION + 1));
      render(<App socket={socket} api={api} />);
      act(() => ws().serverOpen(PROTOCOL_VERSION + 1));
      expect(reload).not.toHaveBeenCalled();
      expect(screen.getByTestId('version-banner')).toHaveTextContent(`page ${PROTOCOL_VERSION}, Pi ${PROTOCOL_VERSION + 1}`);
      fireEvent.click(screen.getByTestId('reload-page'));
      expect(reload).toHaveBeenCalledTimes(1);
    });

    it('shows no banner when the versions agree', () => {
      renderApp();
      expect(screen.queryByTestId('version-banner')).not.toBeInTheDocument();
      expect(reload).not.toHaveBeenCalled();
    });
  });

  describe('activity log', () => {
    const log = (full: boolean, ...entries: ReturnType<typeof makeEntry>[]): ServerFrame => ({ type: ServerFrameType.ActivityLog, timestamp: '', data: { entries, full } });
    const shown = () => screen.getAllByTestId('activity-entry').map((li) => li.querySelector('.activity-message')?.textContent);

    it('lists entries newest first with type, message and local time', () => {
      renderApp();
      serverSend(
        log(
          true,
          makeEntry({ seq: 1, timestamp: '2026-11-25T08:00:00.000Z', message: 'first' }),
          makeEntry({ seq: 2, timestamp: '2026-11-25T08:01:00.000Z', message: 'second' }),
          makeEntry({ seq: 3, timestamp: '2026-11-25T08:02:00.000Z', type: 'error', success: false, message: 'camera failed' }),
        ),
      );
      const items = screen.getAllByTestId('activity-entry');
      expect(shown()).toEqual(['Failed: camera failed', 'second', 'first']);
      expect(items[0]).toHaveTextContent('Error');
      expect(items[2]).toHaveTextContent('Sync');
      expect(items[2].querySelector('time')).toHaveAttribute('dateTime', '2026-11-25T08:00:00.000Z');
      expect(items[2].querySelector('time')?.textContent).toMatch(/^\d\d:00:00$/);
    });

    it('adds new entries on top as they arrive, without asking for anything', () => {
      renderApp();
      serverSend(log(true, makeEntry({ seq: 1, message: 'first' })));
      serverSend(log(false, makeEntry({ seq: 2, message: 'second' })));
      serverSend(log(false, makeEntry({ seq: 2, message: 'second' })));
      expect(shown()).toEqual(['second', 'first']);
      expect(ws().sent).toEqual([]);
    });

    it("shows entries in order of happening, at their time in the Pi's current clock and zone, even across a step", () => {
      renderApp();
      // The Pi's clock now: monotonic 0 was 08:00:00 UTC. Entry 1 was stamped by a clock 3 days wrong, then stepped.
      sendStatus(makeStatus({ pi: { ...makeStatus().pi, timezone: 'UTC' }, piWallMinusMonotonicMs: Date.parse('2026-11-25T08:00:00.000Z') }));
      serverSend(
        log(
          true,
          makeEntry({ seq: 1, timestamp: '2026-11-22T08:00:10.000Z', monotonicMs: 10_000, message: 'before the step' }),
          makeEntry({ seq: 2, timestamp: '2026-11-25T08:00:20.000Z', monotonicMs: 20_000, message: 'the step' }),
          makeEntry({ seq: 3, timestamp: '2026-11-25T08:00:30.000Z', monotonicMs: 30_000, message: 'after the step' }),
        ),
      );
      expect(shown()).toEqual(['after the step', 'the step', 'before the step']);
      const times = screen.getAllByTestId('activity-entry').map((li) => li.querySelector('time')?.textContent);
      expect(times).toEqual(['08:00:30', '08:00:20', '08:00:10']);
    });

    it('shows the newest three; the whole log is one tap away', () => {
      renderApp();
      sendStatus(makeStatus());
      serverSend(log(true, ...[1, 2, 3, 4, 5].map((seq) => makeEntry({ seq, message: `entry ${seq}` }))));
      expect(shown()).toEqual(['entry 5', 'entry 4', 'entry 3']);
      fireEvent.click(screen.getByTestId('open-log'));
      expect(within(screen.getByTestId('log-sheet')).getAllByTestId('activity-entry')).toHaveLength(5);
    });

    it('starts again from the full list after a reconnect', () => {
      renderApp();
      serverSend(log(true, makeEntry({ seq: 1, message: 'before the restart' })));
      act(() => ws().serverClose());
      act(() => jest.advanceTimersByTime(500));
      act(() => ws().serverOpen());
      serverSend(log(true));
      expect(screen.getByTestId('activity-empty')).toHaveTextContent('No activity yet');
    });
  });

  describe("the Pi's own screen", () => {
    const CONNECT = { ssid: 'PiTimeSync', password: null, pageUrl: 'http://10.42.0.1/', wifiQrSvg: '<svg id="wifi"/>', pageQrSvg: '<svg id="page"/>', from: 'settings' as const };
    const kioskStatus = (overrides: Partial<TimeSyncStatus> = {}) => makeStatus({ screen: 'kiosk', accessPointClients: 0, ...overrides });
    function renderKiosk() {
      const view = render(<App socket={socket} api={api} />);
      act(() => ws().serverOpen(PROTOCOL_VERSION, 'kiosk'));
      return view;
    }

    it('never compares the Pi with itself; with no time, one large line says what to do', async () => {
      api.connectInfo.mockResolvedValue(CONNECT);
      renderKiosk();
      await act(async () => {
        sendStatus(kioskStatus({ isSynchronized: false, syncSource: 'none', reliability: 'none', lastSyncAgeMs: null, lastOffsetMs: null, errorBoundMs: null }));
      });
      expect(screen.getByTestId('pi-unconfirmed')).toHaveTextContent('Time not confirmed since start: connect a phone');
      expect(document.body).not.toHaveTextContent(/in step|This device|Difference/);
      expect(screen.queryByTestId('time-difference')).not.toBeInTheDocument();
      expect(screen.queryByTestId('device-time')).not.toBeInTheDocument();
    });

    it('shows the source, its age and error bound once the Pi has time', () => {
      api.connectInfo.mockReturnValue(new Promise(() => undefined));
      renderKiosk();
      sendStatus(kioskStatus({ reliability: 'high', lastSyncAgeMs: 120_000, errorBoundMs: 3.2, sourceClient: '10.42.0.5' }));
      expect(screen.queryByTestId('pi-unconfirmed')).not.toBeInTheDocument();
      expect(screen.getByTestId('pi-source')).toHaveTextContent('from the phone at 10.42.0.5');
      expect(screen.getByTestId('pi-age')).toHaveTextContent('2 min ago');
      expect(screen.getByTestId('pi-bound')).toHaveTextContent('± 3.2 ms');
    });

    it('names any source by the label the server sends, and shows GPS and the hardware clock with their state', () => {
      api.connectInfo.mockReturnValue(new Promise(() => undefined));
      renderKiosk();
      sendStatus(
        kioskStatus({
          reliability: 'high',
          lastSyncAgeMs: 20_000,
          errorBoundMs: 501,
          syncSource: 'gps',
          sourceLabel: 'GPS',
          sources: [
            { source: 'gps', who: '/dev/ttyACM0', state: '3D fix, not calibrated', active: true, errorBoundMs: 501 },
            { source: 'rtc', who: 'rtc0', state: 'hardware clock rtc0 says 2024-03-01: not used', active: false, errorBoundMs: null },
          ],
        }),
      );
      expect(screen.getByTestId('pi-source')).toHaveTextContent('from GPS');
      expect(screen.getByTestId('source-gps')).toHaveTextContent('GPS: 3D fix, not calibrated ± 501 ms');
      expect(screen.getByTestId('source-rtc')).toHaveTextContent("The Pi's hardware clock: hardware clock rtc0 says 2024-03-01: not used");
      expect(screen.getByTestId('source-rtc')).not.toHaveTextContent('±');
      // A source the Pi does not have at all (no gpsd running) is left out.
      sendStatus(kioskStatus({ reliability: 'high', lastSyncAgeMs: 1000, sources: [{ source: 'gps', who: 'gpsd', state: 'gpsd not running at 127.0.0.1:2947', active: false, absent: true, errorBoundMs: null }] }));
      expect(screen.queryByTestId('source-gps')).not.toBeInTheDocument();
      // A source this page was built without is still named, by the server's label.
      sendStatus(kioskStatus({ reliability: 'medium', lastSyncAgeMs: 1000, syncSource: 'sundial' as never, sourceLabel: 'the sundial', sources: [] }));
      expect(screen.getByTestId('pi-source')).toHaveTextContent('from the sundial');
    });

    it('a leader serving NTP (TIME_SERVER=chrony): a "Time server" row with its clients, or why it does not serve', () => {
      api.connectInfo.mockReturnValue(new Promise(() => undefined));
      renderKiosk();
      sendStatus(kioskStatus({ reliability: 'high', lastSyncAgeMs: 5000, errorBoundMs: 1.3, sourceClient: '10.42.0.5' }));
      expect(screen.queryByTestId('time-server')).not.toBeInTheDocument();
      const server = { engine: 'chrony' as const, following: null, leaderReachable: null, reference: '127.0.0.1', stratum: 3, offsetMs: 0.01, errorBoundMs: 1.6, error: null };
      sendStatus(kioskStatus({ reliability: 'high', lastSyncAgeMs: 5000, errorBoundMs: 1.3, sourceClient: '10.42.0.5', timeServer: { ...server, state: 'serving', clients: 3, summary: 'serving to 3 clients, stratum 3, ±1.6 ms' } }));
      const row = screen.getByTestId('time-server');
      expect(row.closest('.row')).toHaveTextContent('Time server');
      expect(row).toHaveTextContent('serving to 3 clients, stratum 3, ±1.6 ms');
      expect(row).toHaveAttribute('data-state', 'serving');
      // The Pi's own sync row still says where its time came from.
      expect(screen.getByTestId('pi-source')).toHaveTextContent('from the phone at 10.42.0.5');
      sendStatus(kioskStatus({ timeServer: { ...server, state: 'down', clients: null, stratum: null, reference: null, offsetMs: null, errorBoundMs: null, error: 'chronyd does not answer at /run/chrony/chronyd.sock', summary: 'not serving: chronyd does not answer at /run/chrony/chronyd.sock' } }));
      expect(screen.getByTestId('time-server')).toHaveTextContent('⚠︎ not serving: chronyd does not answer at /run/chrony/chronyd.sock');
    });

    it('a follower (NTP_FOLLOW): its time is its leader\'s, with the bound chrony gives, and the row says whom it follows', () => {
      api.connectInfo.mockReturnValue(new Promise(() => undefined));
      renderKiosk();
      sendStatus(
        kioskStatus({
          reliability: 'high',
          syncSource: 'ntp',
          sourceLabel: 'network time (NTP)',
          lastSyncAgeMs: null,
          errorBoundMs: 2.4,
          pi: { ...makeStatus().pi, source: 'ntp', ntpSynchronized: true },
          timeServer: { engine: 'chrony', state: 'following', following: '10.42.0.1', leaderReachable: true, reference: '10.42.0.1', stratum: 4, offsetMs: 0, errorBoundMs: 2.4, clients: 0, error: null, summary: 'following 10.42.0.1 over NTP, ±2.4 ms; serving to 0 clients' },
        }),
      );
      expect(screen.getByTestId('ntp-status')).toHaveTextContent('High following 10.42.0.1 over NTP, ± 2.4 ms');
      expect(screen.getByTestId('time-server')).toHaveTextContent('following 10.42.0.1 over NTP, ±2.4 ms; serving to 0 clients');
      expect(screen.queryByTestId('pi-unconfirmed')).not.toBeInTheDocument();
    });

    it('shows how to connect while no phone is connected, and keeps it one tap away once one is', async () => {
      api.connectInfo.mockResolvedValue({ ...CONNECT, password: 'pw;1' });
      renderKiosk();
      await act(async () => {
        sendStatus(kioskStatus());
      });
      expect(screen.getByTestId('connect-ssid')).toHaveTextContent('PiTimeSync');
      expect(screen.getByTestId('connect-password')).toHaveTextContent('pw;1');
      expect(screen.getByTestId('connect-url')).toHaveTextContent('http://10.42.0.1/');
      // The QR codes are pictures of the server's SVG, never markup in the page.
      expect(screen.getByTestId('qr-wifi').tagName).toBe('IMG');
      expect(decodeURIComponent(screen.getByTestId('qr-wifi').getAttribute('src')!)).toBe('data:image/svg+xml;charset=utf-8,<svg id="wifi"/>');
      expect(screen.queryByTestId('open-connect')).not.toBeInTheDocument();

      await act(async () => {
        sendStatus(kioskStatus({ accessPointClients: 1 }));
      });
      expect(screen.queryByTestId('qr-wifi')).not.toBeInTheDocument();
      await act(async () => {
        fireEvent.click(screen.getByTestId('open-connect'));
      });
      expect(within(screen.getByTestId('connect-sheet')).getByTestId('qr-page')).toBeInTheDocument();
      fireEvent.click(screen.getByTestId('connect-sheet-close'));
      expect(screen.queryByTestId('connect-sheet')).not.toBeInTheDocument();
    });

    it('calls the Pi\'s card "Pi time" as on a phone, and gives each camera two lines (name and state; its clock), the full rows one tap away', () => {
      api.connectInfo.mockReturnValue(new Promise(() => undefined));
      renderKiosk();
      const clock = { offsetMs: 12, boundMs: 9, checkedAt: new Date(NOW - 5000).toISOString(), ageMs: 5000, drift: null, errorNowMs: 40, driftMeasured: false };
      const r50 = makeCamera({
        id: '083021000123',
        info: { manufacturer: 'Canon Inc.', productName: 'Canon EOS R50', serialNumber: '083021000123' },
        lastSync: { success: true, at: new Date(NOW - 60_000).toISOString(), offsetMs: 3200, residualMs: 150, residualBoundMs: 12, verified: true },
        clock,
      });
      const r6 = makeCamera({ lastSync: null });
      const away = makeCamera({ id: 'CAM-4', state: CameraState.Disconnected, info: null, lastError: 'no answer' });
      sendStatus(kioskStatus({ accessPointClients: 1, cameras: [r50, r6, away] }));
      expect(within(screen.getByTestId('controller-info')).getByRole('heading', { name: 'Pi time' })).toBeVisible();
      expect(within(screen.getByTestId('controller-info')).getByText('Pi sync')).toBeVisible();
      expect(document.body).not.toHaveTextContent(/TimeSync:|The Pi\b(?!')/);

      const cameras = screen.getAllByTestId('camera');
      expect(cameras).toHaveLength(3);
      // Three cameras: condensed, each line cut to the screen's width.
      expect(screen.getByTestId('camera-status')).toHaveClass('compact', 'condensed');
      const [first, second, third] = cameras;
      // The maker every camera here shares is left out; the serial that tells two alike apart stays.
      expect(within(first).getByTestId('camera-name')).toHaveTextContent(/^EOS R50 · 083021000123$/);
      expect(within(first).getByTestId('camera-name')).toHaveAttribute('title', 'Canon EOS R50 · serial 083021000123');
      expect(within(first).getByTestId('camera-timesync')).toHaveTextContent('Synced 1 min ago');
      expect(within(first).getByText('Camera clock')).toBeVisible();
      expect(within(first).getByTestId('camera-clock')).toHaveTextContent('within ±40 ms of the Pi, checked 5 s ago');
      // Connected, never checked: it says so; a camera away has no clock line at all.
      expect(second).toHaveTextContent('Camera clocknot checked yet');
      expect(within(second).queryByTestId('camera-clock')).not.toBeInTheDocument();
      expect(within(third).getByTestId('camera-timesync')).toHaveTextContent('Not connected');
      expect(third).not.toHaveTextContent('Camera clock');
      // One "Sync cameras now", no button per camera on the small screen.
      expect(screen.getByTestId('sync-camera')).toHaveTextContent('Sync cameras now');
      expect(screen.queryByTestId('sync-camera-one')).not.toBeInTheDocument();

      // A tap on a camera: every camera's rows in full, with a button each.
      fireEvent.click(first);
      const sheet = screen.getByTestId('cameras-sheet');
      expect(within(sheet).getAllByTestId('camera')).toHaveLength(3);
      expect(within(sheet).getAllByTestId('camera-name')[0]).toHaveTextContent('Canon EOS R50 · serial 083021000123');
      expect(within(sheet).getAllByText('Camera clock')).toHaveLength(1);
      expect(within(sheet).getAllByTestId('sync-camera-one')).toHaveLength(2);
      fireEvent.click(screen.getByTestId('cameras-sheet-close'));
      expect(screen.queryByTestId('cameras-sheet')).not.toBeInTheDocument();

      // Two cameras or fewer: the lines may wrap, nothing is cut.
      sendStatus(kioskStatus({ accessPointClients: 1, cameras: [r50, r6] }));
      expect(screen.getByTestId('camera-status')).toHaveClass('compact');
      expect(screen.getByTestId('camera-status')).not.toHaveClass('condensed');
    });

    it('keeps the capture session one tap away while the QR codes take the side column, and shows it there once a phone is connected', async () => {
      api.connectInfo.mockResolvedValue(CONNECT);
      api.stopSession.mockResolvedValue(makeSessionReport());
      renderKiosk();
      await act(async () => {
        sendStatus(kioskStatus({ session: null }));
      });
      expect(screen.queryByTestId('session')).not.toBeInTheDocument();
      expect(screen.getByTestId('open-session')).toHaveTextContent('Capture session');
      fireEvent.click(screen.getByTestId('open-session'));
      expect(within(screen.getByTestId('session-sheet')).getByTestId('session-start')).toBeEnabled();
      fireEvent.click(screen.getByTestId('session-sheet-close'));

      // A session running (started on a phone): the header says so.
      await act(async () => {
        sendStatus(kioskStatus({ session: { id: SESSION_ID, startedAt: '2026-11-25T08:01:00.000Z' } }));
      });
      expect(screen.getByTestId('open-session')).toHaveTextContent('Session running');

      // A phone connected: the session in the side column, in two lines, under the newest entries.
      await act(async () => {
        sendStatus(kioskStatus({ accessPointClients: 1, session: { id: SESSION_ID, startedAt: '2026-11-25T08:01:00.000Z' } }));
      });
      expect(screen.queryByTestId('open-session')).not.toBeInTheDocument();
      expect(screen.getByTestId('session')).toHaveClass('compact');
      expect(screen.getByTestId('session-state')).toHaveTextContent(/^●Running since 09:01:00 · 1 min$/);
      await act(async () => {
        fireEvent.click(screen.getByTestId('session-stop'));
      });
      // On the Pi's own screen the file would stay on the Pi: the report says where to download it.
      expect(screen.getByTestId('fix-photos-download')).toBeInTheDocument();
      expect(screen.getByTestId('fix-photos-on-pi')).toHaveTextContent("On the Pi's own screen the file stays on the Pi: open this page on the computer or phone with the photos to download it there.");
      fireEvent.click(screen.getByTestId('report-sheet-close'));
      await act(async () => {
        sendStatus(kioskStatus({ accessPointClients: 1, session: null }));
      });
      // The last session takes the state's line, its report one tap away.
      expect(screen.getByTestId('session-last')).toHaveTextContent(/^Last: stopped 12:00:02Report$/);
      expect(screen.queryByTestId('session-state')).not.toBeInTheDocument();
      expect(screen.getByTestId('session-start')).toHaveClass('btn-small');
    });

    it("answers a decision with the phone's time (the Pi's screen has none of its own)", () => {
      api.connectInfo.mockReturnValue(new Promise(() => undefined));
      renderKiosk();
      sendStatus(kioskStatus({ accessPointClients: 1, operatorHold: true, syncSource: 'manual', decision: makeDecision() }));
      const button = screen.getByTestId('use-client-time');
      expect(button).toHaveTextContent("Use the phone's time");
      fireEvent.click(button);
      expect(ws().sentFrames).toEqual([{ type: ClientFrameType.UseClientTime, data: {} }]);
      expect(button).toHaveTextContent('Measuring the phone…');
    });

    it("sets the time by hand starting from the Pi's clock, not from its own", async () => {
      api.connectInfo.mockReturnValue(new Promise(() => undefined));
      api.setPiTime.mockResolvedValue({});
      renderKiosk();
      // The Pi reads 3 days behind this browser (a simulated clock; on a Pi both are the same clock).
      sendStatus(kioskStatus({ accessPointClients: 1, pi: { ...makeStatus().pi, epochMs: NOW - 3 * 86_400_000, timezone: 'UTC' } }));
      fireEvent.click(screen.getByTestId('open-manual'));
      expect(screen.getByTestId('manual-delta')).toHaveTextContent("The Pi's time");
      expect(screen.getByTestId('field-day')).toHaveTextContent('22');
      expect(screen.getByTestId('manual-zone')).toHaveTextContent('UTC');
      fireEvent.click(screen.getByTestId('step-hour-up'));
      await act(async () => {
        fireEvent.click(screen.getByTestId('set-pi-time'));
      });
      expect(api.setPiTime).toHaveBeenCalledWith('2026-11-22T09:02:00.000Z', 'UTC');
      expect(screen.getByTestId('use-device-time')).toHaveTextContent("Back to the Pi's time");
    });
  });

  describe('journal', () => {
    it('says clock changes are refused while the journal cannot be written, and disables the manual set', () => {
      renderApp();
      sendStatus(makeStatus({ journal: { writable: false, path: '/data/clock-journal.jsonl', error: 'EROFS: read-only file system' } }));
      expect(screen.getByTestId('journal-refusal')).toHaveTextContent('Clock changes are refused: the journal cannot be written: EROFS: read-only file system');
      fireEvent.click(screen.getByTestId('open-manual'));
      expect(screen.getByTestId('set-pi-time')).toBeDisabled();
      expect(screen.getByTestId('set-pi-time-reason')).toHaveTextContent('the journal cannot be written');
    });
  });

  describe('zone picker', () => {
    it("offers the Pi's and this device's zone first, then narrows by region and letter, by touch alone", () => {
      renderApp();
      sendStatus(makeStatus({ pi: { ...makeStatus().pi, timezone: 'Asia/Tokyo' } }));
      fireEvent.click(screen.getByTestId('open-manual'));
      fireEvent.click(screen.getByTestId('manual-zone'));
      const first = screen.getAllByTestId('zone-first').map((b) => b.dataset.zone);
      expect(first[0]).toBe('Asia/Tokyo');
      expect(first).toContain(Intl.DateTimeFormat().resolvedOptions().timeZone);
      // No text input anywhere: a system keyboard cannot draw over the kiosk.
      expect(document.querySelector('input, select, textarea')).toBeNull();
      fireEvent.click(screen.getByTestId('zone-region-America'));
      expect(screen.queryAllByTestId('zone-option')).toHaveLength(0);
      fireEvent.click(screen.getByTestId('zone-letter-L'));
      const options = screen.getAllByTestId('zone-option').map((b) => b.dataset.zone);
      expect(options).toContain('America/Los_Angeles');
      expect(options.every((z) => z!.startsWith('America/L'))).toBe(true);
      fireEvent.click(screen.getAllByTestId('zone-option').find((b) => b.dataset.zone === 'America/Los_Angeles')!);
      expect(screen.getByTestId('manual-zone')).toHaveTextContent('America/Los_Angeles');
      expect(screen.queryByTestId('zone-picker')).not.toBeInTheDocument();
    });
  });

  describe('honest camera rows', () => {
    const synced = (lastSync: Partial<NonNullable<ReturnType<typeof makeCamera>['lastSync']>>) =>
      makeCamera({ lastSync: { success: true, at: new Date(NOW - 60_000).toISOString(), offsetMs: 2400, residualMs: 485, residualBoundMs: 503, verified: true, ...lastSync } });

    it('says "set, not verified" (not "Synced") when the residual could not be measured well, and shows no residual', () => {
      renderApp();
      sendStatus(makeStatus({ cameras: [synced({ residualMs: 485, residualBoundMs: 503, verified: true })] }));
      const row = screen.getByTestId('camera-timesync');
      expect(row).toHaveTextContent('set, not verified');
      expect(row).not.toHaveTextContent('Synced');
      expect(row).not.toHaveTextContent('485');
      expect(row).toHaveTextContent('its clock read 2.4 s behind before');
      sendStatus(makeStatus({ cameras: [synced({ residualMs: null, residualBoundMs: null, verified: false })] }));
      expect(screen.getByTestId('camera-timesync')).toHaveTextContent('set, not verified');
    });

    it('shows the residual with its bound when it was read back and measured well', () => {
      renderApp();
      sendStatus(makeStatus({ cameras: [synced({ residualMs: -11, residualBoundMs: 40, verified: true })] }));
      const row = screen.getByTestId('camera-timesync');
      expect(row).toHaveTextContent('Synced 1 min ago');
      expect(row).toHaveTextContent('was 2.4 s behind, now 11 ms behind (±40 ms)');
    });

    it('disables Sync camera now, with the reason, while the page is not connected', () => {
      renderApp();
      sendStatus(makeStatus({ cameras: [synced({})] }));
      expect(screen.getByTestId('sync-camera')).toBeEnabled();
      act(() => ws().serverClose());
      expect(screen.getByTestId('sync-camera')).toBeDisabled();
      expect(screen.getByTestId('sync-camera-reason')).toHaveTextContent('Not connected to the Pi');
    });
  });

  it('links the time slate from the top bar, on phones and on the Pi\'s own screen', () => {
    renderApp();
    expect(screen.getByTestId('open-slate')).toHaveAttribute('href', '/slate/');
    expect(screen.getByTestId('open-slate')).toHaveTextContent('Time slate');
  });

  describe('night mode', () => {
    it('makes the browser bars follow (theme-color)', () => {
      document.querySelectorAll('meta[name="theme-color"]').forEach((m) => m.remove());
      const meta = document.createElement('meta');
      meta.name = 'theme-color';
      meta.content = '#0f1317';
      document.head.appendChild(meta);
      renderApp();
      fireEvent.click(screen.getByTestId('night-toggle'));
      expect(meta.content).toBe('#000000');
      fireEvent.click(screen.getByTestId('night-toggle'));
      expect(meta.content).toBe('#0f1317');
      meta.remove();
    });

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
