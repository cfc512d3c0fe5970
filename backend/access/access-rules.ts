import { Screen } from '../protocol/vocabulary';
import type { Caller } from './caller';

/**
 * What a caller may ask for. REST, the WebSocket and capture sessions name one of these when they ask
 * `AccessService.authorize`; the rule and the words of its refusal are in one table below.
 */
export const AccessAction = {
  SetTime: 'set-time',
  ChoosePhoneTime: 'choose-phone-time',
  WriteCameras: 'write-cameras',
  StartSession: 'start-session',
  StopSession: 'stop-session',
  SeeWifiPassword: 'see-wifi-password',
  BeTimeSource: 'be-time-source',
  /** Send photos of the time slate: each becomes a camera measurement in the journal, used by the photo fixes. */
  MeasureBySlate: 'measure-by-slate',
  /** Press a camera's shutter (measure by photo): nothing changes on any clock, but the camera takes a picture. */
  PressShutter: 'press-shutter',
} as const;
export type AccessAction = (typeof AccessAction)[keyof typeof AccessAction];

interface Rule {
  /** The screens the action is open to. */
  screens: readonly Screen[];
  /** The refusal in words, for the activity log and the error's message. */
  refusal: (caller: Caller) => string;
}

/** The Pi's own screen and phones on its Wi-Fi: the operator's side. */
const OPERATOR: readonly Screen[] = [Screen.Kiosk, Screen.Phone];

/** `Refused: <who> may not <what>. ...`; a caller that presented a wrong kiosk secret is told so. */
const mayNot =
  (what: string) =>
  (caller: Caller): string => {
    const who = caller.kioskToken !== null ? `${caller.address} (its kiosk secret is not this Pi's, or it is not on the Pi itself)` : caller.address;
    return `Refused: ${who} may not ${what}. Only the Pi's own screen and phones on the Pi's Wi-Fi may`;
  };

const RULES: Record<AccessAction, Rule> = {
  'set-time': { screens: OPERATOR, refusal: mayNot('set the time') },
  'choose-phone-time': { screens: OPERATOR, refusal: mayNot("choose a phone's time") },
  'write-cameras': { screens: OPERATOR, refusal: mayNot("set a camera's clock") },
  'start-session': { screens: OPERATOR, refusal: mayNot('start a capture session') },
  'stop-session': { screens: OPERATOR, refusal: mayNot('stop a capture session') },
  // The Wi-Fi QR code carries the password: the Pi's own screen shows it, and a phone already on the Wi-Fi knows it.
  'see-wifi-password': { screens: OPERATOR, refusal: mayNot('see the Wi-Fi password') },
  'measure-by-slate': { screens: OPERATOR, refusal: mayNot('send photos of the time slate') },
  'press-shutter': { screens: OPERATOR, refusal: mayNot("press a camera's shutter") },
  // The Pi's own screen shows the Pi's own clock: only a phone gives the Pi its time.
  'be-time-source': {
    screens: [Screen.Phone],
    refusal: (caller) => `Refused the time of ${caller.address}: only phones on the Pi's Wi-Fi give the Pi its time (the Pi's own screen shows the Pi's own clock)`,
  },
};

/** Whether a page on `screen` may do `action`. Pure: the screen is decided by `AccessService.screenOf`. */
export function permits(screen: Screen, action: AccessAction): boolean {
  return RULES[action].screens.includes(screen);
}

/** The words of `action`'s refusal to `caller`. */
export function refusalOf(action: AccessAction, caller: Caller): string {
  return RULES[action].refusal(caller);
}
