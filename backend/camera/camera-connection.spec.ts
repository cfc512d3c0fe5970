import { DomainError, ErrorCode } from '../common/domain-error';
import { CameraState } from '../protocol/messages';
import { Connection, ConnectionEvent, connectionEventOf, initialConnection, nextConnection, TRANSPORT_FAILURES_FOR_DISCONNECT } from './camera-connection';

const { Connected, NeedsCredentials, Disconnected } = CameraState;
const at = (state: CameraState, more: Partial<Connection> = {}): Connection => ({ ...initialConnection(false), state, ...more });
const timeout: ConnectionEvent = { kind: 'no-answer', reason: 'no answer within 5 s', unreachable: false };

describe('nextConnection', () => {
  it.each<[string, Connection, ConnectionEvent, Partial<Connection>]>([
    ['connects, clearing the error and the failures', at(Disconnected, { lastError: 'gone', transportFailures: 0 }), { kind: 'connected' }, { state: Connected, lastError: null, transportFailures: 0 }],
    ['a camera that needs credentials connects once they are right', at(NeedsCredentials, { lastError: '401', transportFailures: 1 }), { kind: 'connected' }, { state: Connected, lastError: null, transportFailures: 0 }],
    ['an answer to a check clears the failures', at(Connected, { transportFailures: 1 }), { kind: 'answered' }, { state: Connected, transportFailures: 0 }],
    ['busy, refusing or garbled while connected: still there', at(Connected, { transportFailures: 1 }), { kind: 'answered-no', reason: 'busy' }, { state: Connected, transportFailures: 0, lastError: null }],
    ['refusing while away: away, and says why', at(Disconnected, { lastError: 'old' }), { kind: 'answered-no', reason: 'not understood' }, { state: Disconnected, lastError: 'not understood' }],
    ['refusing while it needs credentials: nothing changes', at(NeedsCredentials, { lastError: '401', transportFailures: 1 }), { kind: 'answered-no', reason: 'no' }, { state: NeedsCredentials, lastError: '401', transportFailures: 1 }],
    ['one timeout is not enough to count it gone', at(Connected), timeout, { state: Connected, transportFailures: 1, lastError: null }],
    ['two timeouts in a row are', at(Connected, { transportFailures: 1 }), timeout, { state: Disconnected, transportFailures: 0, lastError: 'no answer within 5 s' }],
    ['a refused connection is, at once', at(Connected), { kind: 'no-answer', reason: 'refused', unreachable: true }, { state: Disconnected, lastError: 'refused' }],
    ['no answer while away: away, with the newest reason', at(Disconnected, { lastError: 'old' }), timeout, { state: Disconnected, transportFailures: 0, lastError: 'no answer within 5 s' }],
    ['401 to a connection attempt: needs credentials, the failures start again', at(Disconnected), { kind: 'credentials-refused', reason: '401', connecting: true }, { state: NeedsCredentials, lastError: '401', transportFailures: 0 }],
    ['401 to a check while connected: the failures are kept', at(Connected, { transportFailures: 1 }), { kind: 'credentials-refused', reason: '401', connecting: false }, { state: NeedsCredentials, lastError: '401', transportFailures: 1 }],
    ['401 again: the first reason stays', at(NeedsCredentials, { lastError: 'first' }), { kind: 'credentials-refused', reason: 'second', connecting: false }, { state: NeedsCredentials, lastError: 'first' }],
    ['the same camera elsewhere: gone, even when it was already away', at(Disconnected, { lastError: 'old' }), { kind: 'lost', reason: 'the same camera as the one at http://10.0.0.9' }, { state: Disconnected, lastError: 'the same camera as the one at http://10.0.0.9' }],
    ['another camera at the address: gone', at(Connected, { transportFailures: 1 }), { kind: 'lost', reason: 'another camera' }, { state: Disconnected, lastError: 'another camera', transportFailures: 0 }],
    ['a sync failed: its reason shown, the state kept', at(Connected), { kind: 'sync-failed', reason: 'Camera is busy' }, { state: Connected, lastError: 'Camera is busy' }],
    ['a sync succeeded: no error shown', at(Connected, { lastError: 'Camera is busy' }), { kind: 'synced' }, { state: Connected, lastError: null }],
  ])('%s', (_what, before, event, expected) => {
    expect(nextConnection(before, event)).toEqual({ ...before, ...expected });
  });

  it(`counts ${TRANSPORT_FAILURES_FOR_DISCONNECT} timeouts in a row only: an answer in between starts again`, () => {
    const steps: ConnectionEvent[] = [timeout, { kind: 'answered' }, timeout];
    expect(steps.reduce(nextConnection, at(Connected)).state).toBe(Connected);
    expect([timeout, timeout].reduce(nextConnection, at(Connected)).state).toBe(Disconnected);
  });

  describe('a camera SSDP found', () => {
    const found = { ...initialConnection(true), state: Connected };

    it('waits for SSDP once it is gone (not polled), and is polled again when SSDP sees it', () => {
      const gone = nextConnection(found, { kind: 'no-answer', reason: 'refused', unreachable: true });
      expect(gone).toMatchObject({ state: Disconnected, dormant: true });
      expect(nextConnection(gone, { kind: 'seen' })).toMatchObject({ state: Disconnected, dormant: false });
    });

    it('signs off: gone and dormant, with the reason', () => {
      expect(nextConnection(found, { kind: 'signed-off' })).toMatchObject({ state: Disconnected, dormant: true, lastError: 'the camera signed off the network' });
    });

    it('a sign-off while away changes nothing but the dormancy', () => {
      const away = { ...found, state: Disconnected, lastError: 'timeout' };
      expect(nextConnection(away, { kind: 'signed-off' })).toEqual({ ...away, dormant: true });
    });
  });

  it('a configured camera (not discovered) that stops answering is still polled', () => {
    expect(nextConnection(at(Connected), { kind: 'no-answer', reason: 'refused', unreachable: true })).toMatchObject({ state: Disconnected, dormant: false });
  });
});

describe('connectionEventOf', () => {
  it.each<[string, unknown, boolean, ConnectionEvent]>([
    ['401 while connecting', new DomainError(ErrorCode.CAMERA_AUTH_REQUIRED, 'refused the user name and password'), true, { kind: 'credentials-refused', reason: 'refused the user name and password', connecting: true }],
    ['401 to a check', new DomainError(ErrorCode.CAMERA_AUTH_REQUIRED, '401'), false, { kind: 'credentials-refused', reason: '401', connecting: false }],
    ['503', new DomainError(ErrorCode.CAMERA_BUSY, 'Camera is busy'), false, { kind: 'answered-no', reason: 'Camera is busy' }],
    ['400', new DomainError(ErrorCode.CAMERA_REJECTED, 'no'), true, { kind: 'answered-no', reason: 'no' }],
    ['garbled', new DomainError(ErrorCode.CAMERA_BAD_ANSWER, 'not JSON'), false, { kind: 'answered-no', reason: 'not JSON' }],
    ['a timeout', new DomainError(ErrorCode.CAMERA_TIMEOUT, 'within 5 s'), false, { kind: 'no-answer', reason: 'within 5 s', unreachable: false }],
    ['a refused connection', new DomainError(ErrorCode.CAMERA_UNREACHABLE, 'refused'), false, { kind: 'no-answer', reason: 'refused', unreachable: true }],
    ['anything else', new Error('boom'), true, { kind: 'no-answer', reason: 'boom', unreachable: false }],
  ])('%s', (_what, error, connecting, event) => {
    expect(connectionEventOf(error, connecting)).toEqual(event);
  });
});
