import { Injectable } from '@nestjs/common';
import { DomainError, ErrorCode } from '../common/domain-error';
import { Screen } from '../protocol/vocabulary';
import { AccessPointPolicy } from './access-point';
import { AccessAction, permits, refusalOf } from './access-rules';
import { Caller, isLoopback } from './caller';
import { KioskToken } from './kiosk-token';
import { RefusalLog } from './refusal-log';

/**
 * Who may do what, in one place for REST, the WebSocket and capture sessions: which screen a caller is on
 * (the kiosk secret, the access point's trust) and what that screen may do (`access-rules.ts`). A refusal is
 * the coded NOT_ACCESS_POINT_CLIENT error and one log line per client and interval (RefusalLog).
 */
@Injectable()
export class AccessService {
  constructor(
    private readonly accessPoint: AccessPointPolicy,
    private readonly kiosk: KioskToken,
    private readonly refusals: RefusalLog,
  ) {}

  /**
   * Which screen a caller is on. The Pi's own screen shows the kiosk secret and is on loopback (the launcher
   * opens localhost); a page on the access point is a phone; anything else (plain loopback included, unless
   * AP_SUBNETS lists it) is other.
   */
  screenOf(caller: Caller): Screen {
    if (caller.kioskToken !== null && isLoopback(caller.address) && this.kiosk.verify(caller.kioskToken)) return Screen.Kiosk;
    return this.accessPoint.isAccessPointClient(caller.address) ? Screen.Phone : Screen.Other;
  }

  may(caller: Caller, action: AccessAction): boolean {
    return permits(this.screenOf(caller), action);
  }

  /** May set the time by hand, choose a phone's time and set the cameras: the Pi's own screen and phones on its Wi-Fi. */
  maySetTime(caller: Caller): boolean {
    return this.may(caller, AccessAction.SetTime);
  }

  /** May be a time source: phones on the Wi-Fi only. The Pi's own screen reads the Pi's own clock. */
  mayBeSource(caller: Caller): boolean {
    return this.may(caller, AccessAction.BeTimeSource);
  }

  /** The one authority check: returns the caller's screen, or throws NOT_ACCESS_POINT_CLIENT (logged). */
  authorize(caller: Caller, action: AccessAction): Screen {
    const screen = this.screenOf(caller);
    if (!permits(screen, action)) throw this.deny(caller, action);
    return screen;
  }

  /**
   * The refusal of `action` to a caller judged before (a page is judged once, when it connects; `who` may be
   * only its address, or words for a page that is not known): logged, and returned to be thrown.
   */
  deny(who: Caller | string, action: AccessAction): DomainError {
    const caller = typeof who === 'string' ? { address: who, kioskToken: null } : who;
    // One log line per client per interval, however often it tries (RefusalLog).
    return this.refusals.refuse(caller.address, ErrorCode.NOT_ACCESS_POINT_CLIENT, refusalOf(action, caller));
  }
}
