import { ActivityLogService } from '../activity-log/activity-log.service';
import { EventBus } from '../common/event-bus';
import { Screen } from '../protocol/vocabulary';
import { ManualClock } from '../time/clock';
import type { AccessPointPolicy } from './access-point';
import { AccessAction, permits } from './access-rules';
import { AccessService } from './access.service';
import type { Caller } from './caller';
import type { KioskToken } from './kiosk-token';
import { RefusalLog } from './refusal-log';

const from = (address: string, kioskToken: string | null = null): Caller => ({ address, kioskToken });
const KIOSK = from('127.0.0.1', 'kiosk-secret');
const PHONE = from('10.42.0.7');
const OPERATOR_ONLY = [AccessAction.SetTime, AccessAction.ChoosePhoneTime, AccessAction.WriteCameras, AccessAction.StartSession, AccessAction.StopSession, AccessAction.SeeWifiPassword, AccessAction.MeasureBySlate];

describe(AccessService.name, () => {
  let activity: ActivityLogService;
  let refusals: RefusalLog;
  let sut: AccessService;

  beforeEach(() => {
    const clock = new ManualClock();
    activity = new ActivityLogService(clock, new EventBus());
    refusals = new RefusalLog(clock, activity);
    // The access point is 10.42.0.0/24; the kiosk secret is "kiosk-secret".
    const accessPoint = { isAccessPointClient: (address: string) => address.startsWith('10.42.0.') } as unknown as AccessPointPolicy;
    const kiosk = { verify: (token: unknown) => token === 'kiosk-secret' } as unknown as KioskToken;
    sut = new AccessService(accessPoint, kiosk, refusals);
  });
  afterEach(() => refusals.onModuleDestroy());

  const refusalLines = () => activity.entries().map((e) => e.message);

  it('is the kiosk only with the right secret and from the Pi itself; plain loopback is other', () => {
    expect(sut.screenOf(from('127.0.0.1', 'kiosk-secret'))).toBe('kiosk');
    expect(sut.screenOf(from('::1', 'kiosk-secret'))).toBe('kiosk');
    expect(sut.screenOf(from('::ffff:127.0.0.1', 'kiosk-secret'))).toBe('kiosk');
    expect(sut.screenOf(from('127.0.0.1'))).toBe('other');
    expect(sut.screenOf(from('127.0.0.1', 'guessed'))).toBe('other');
    // The secret from another machine (copied from a screenshot, say) is not the Pi's screen.
    expect(sut.screenOf(from('192.168.1.50', 'kiosk-secret'))).toBe('other');
    expect(sut.screenOf(from('10.42.0.7', 'kiosk-secret'))).toBe('phone');
    expect(sut.screenOf(PHONE)).toBe('phone');
  });

  it("lets the Pi's own screen and phones do what the operator does; only a phone is a time source", () => {
    for (const action of OPERATOR_ONLY) {
      expect([action, sut.may(KIOSK, action), sut.may(PHONE, action), sut.may(from('192.168.1.50'), action)]).toEqual([action, true, true, false]);
    }
    expect(sut.maySetTime(KIOSK)).toBe(true);
    expect(sut.mayBeSource(KIOSK)).toBe(false);
    expect(sut.mayBeSource(PHONE)).toBe(true);
    expect(sut.maySetTime(from('127.0.0.1'))).toBe(false);
    expect(activity.entries()).toEqual([]);
  });

  it('answers an allowed action with the screen, logging nothing', () => {
    expect(sut.authorize(KIOSK, 'set-time')).toBe(Screen.Kiosk);
    expect(sut.authorize(PHONE, 'write-cameras')).toBe(Screen.Phone);
    expect(sut.authorize(PHONE, 'be-time-source')).toBe(Screen.Phone);
    expect(activity.entries()).toEqual([]);
  });

  it.each([
    ['set-time', 'set the time'],
    ['choose-phone-time', "choose a phone's time"],
    ['write-cameras', "set a camera's clock"],
    ['start-session', 'start a capture session'],
    ['stop-session', 'stop a capture session'],
  ] as const)('refuses %s to anyone else with NOT_ACCESS_POINT_CLIENT, in words', (action, words) => {
    expect(() => sut.authorize(from('192.168.1.50'), action)).toThrow(expect.objectContaining({ code: 'NOT_ACCESS_POINT_CLIENT' }));
    expect(() => sut.authorize(from('127.0.0.2', 'guessed'), action)).toThrow(expect.objectContaining({ code: 'NOT_ACCESS_POINT_CLIENT' }));
    expect(refusalLines()).toEqual([
      `Refused: 192.168.1.50 may not ${words}. Only the Pi's own screen and phones on the Pi's Wi-Fi may`,
      `Refused: 127.0.0.2 (its kiosk secret is not this Pi's, or it is not on the Pi itself) may not ${words}. Only the Pi's own screen and phones on the Pi's Wi-Fi may`,
    ]);
  });

  it("refuses the Pi's own screen as a time source", () => {
    expect(() => sut.authorize(KIOSK, 'be-time-source')).toThrow(expect.objectContaining({ code: 'NOT_ACCESS_POINT_CLIENT' }));
    expect(refusalLines()).toEqual(["Refused the time of 127.0.0.1: only phones on the Pi's Wi-Fi give the Pi its time (the Pi's own screen shows the Pi's own clock)"]);
  });

  it('logs one line per client per interval, however often it is refused', () => {
    for (let i = 0; i < 20; i++) expect(() => sut.authorize(from('192.168.1.50'), 'set-time')).toThrow();
    expect(activity.entries().filter((e) => e.details.error === 'NOT_ACCESS_POINT_CLIENT' && e.details.client === '192.168.1.50')).toHaveLength(1);
  });

  it('words the refusal of a page judged when it connected, by its address or as an unknown page', () => {
    expect(sut.deny('an unknown page', 'be-time-source')).toMatchObject({
      code: 'NOT_ACCESS_POINT_CLIENT',
      message: "Refused the time of an unknown page: only phones on the Pi's Wi-Fi give the Pi its time (the Pi's own screen shows the Pi's own clock)",
    });
    expect(activity.entries().at(-1)?.details).toMatchObject({ error: 'NOT_ACCESS_POINT_CLIENT', client: 'an unknown page' });
  });
});

describe(permits.name, () => {
  it('opens every action to a phone, none to other, and all but being a time source to the kiosk', () => {
    for (const action of Object.values(AccessAction)) {
      expect([action, permits(Screen.Phone, action), permits(Screen.Other, action), permits(Screen.Kiosk, action)]).toEqual([action, true, false, action !== 'be-time-source']);
    }
  });
});
