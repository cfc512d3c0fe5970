import { HttpService } from '@nestjs/axios';
import { Logger } from '@nestjs/common';
import axios from 'axios';
import { filter, firstValueFrom, map } from 'rxjs';
import { ActivityLogService } from '../../backend/activity-log/activity-log.service';
import { CameraHttp } from '../../backend/camera/camera-http';
import { CameraSessionFactory } from '../../backend/camera/camera-session.factory';
import { CameraService } from '../../backend/camera/camera.service';
import { CcapiClient } from '../../backend/camera/ccapi-client';
import { SsdpDiscovery, SsdpOptions } from '../../backend/camera/ssdp';
import { Waiter } from '../../backend/camera/waiter';
import { DomainEvent, DomainEventMap, EventBus } from '../../backend/common/event-bus';
import { AppConfig } from '../../backend/config/app.config';
import { SystemClock, SystemClockState } from '../../backend/system-clock/system-clock';
import { Clock, HostClock } from '../../backend/time/clock';

/** The real CcapiClient, sessions and CameraService, built by hand around a config; only the Pi's zone is faked. */

/** No re-write unless a test asks for one (CAMERA_SPREAD_GOAL_MS): a busy test machine can land a PUT late, and these tests count PUTs. */
export function cameraConfig(overrides: Partial<AppConfig> = {}): AppConfig {
  return Object.assign(new AppConfig(), { CAMERA_TIMEOUT: 1500, CAMERA_POLL_INTERVAL: 200, CAMERA_DISCOVERY: false, CAMERA_SPREAD_GOAL_MS: 0 }, overrides);
}

export function newClient(config: AppConfig, clock: Clock = new HostClock()): CcapiClient {
  return new CcapiClient(CameraHttp.of(new HttpService(axios.create())), config, clock);
}

/** Reports a fixed zone; the camera module only reads the zone from it. */
export class ZoneOnlySystemClock extends SystemClock {
  readonly backend = 'simulated' as const;
  constructor(
    public zone = 'UTC',
    private readonly clock: Clock = new HostClock(),
  ) {
    super();
  }
  async read(): Promise<SystemClockState> {
    return { epochMs: this.clock.now(), timezone: this.zone, ntpEnabled: false, ntpSynchronized: false, backend: 'simulated' };
  }
  async setTime(): Promise<void> {
    throw new Error('the camera module must not set the Pi clock');
  }
  async setTimezone(): Promise<void> {
    throw new Error('the camera module must not set the Pi zone');
  }
}

export interface ServiceHarness {
  service: CameraService;
  activity: ActivityLogService;
  ssdp: SsdpDiscovery;
  /** Every domain event the service caused, in order. */
  events: DomainEvent[];
  /** The data of the events called `name`. */
  named<K extends keyof DomainEventMap>(name: K): Array<DomainEventMap[K]>;
  /** The data of the next event called `name` (that `where` accepts). */
  next<K extends keyof DomainEventMap>(name: K, where?: (data: DomainEventMap[K]) => boolean): Promise<DomainEventMap[K]>;
  systemClock: ZoneOnlySystemClock;
  close(): void;
}

/** Loopback SSDP that answers nothing unless told where to search. */
export const QUIET_SSDP: Partial<SsdpOptions> = { searchAddress: '127.0.0.1', searchPort: 9, searchBindAddress: '127.0.0.1', listenAddress: '127.0.0.1', listenPort: 0, multicastGroup: null };

export function newService(config: AppConfig, options: { zone?: string; ssdp?: Partial<SsdpOptions> } = {}): ServiceHarness {
  Logger.overrideLogger(['error']);
  const clock = new HostClock();
  const bus = new EventBus();
  const events: DomainEvent[] = [];
  const subscription = bus.events$.subscribe((event) => events.push(event));
  const activity = new ActivityLogService(clock, bus);
  const systemClock = new ZoneOnlySystemClock(options.zone ?? 'UTC', clock);
  const ssdp = new SsdpDiscovery({ ...QUIET_SSDP, ...options.ssdp });
  const factory = new CameraSessionFactory(config, CameraHttp.of(new HttpService(axios.create())), clock, new Waiter(clock));
  const service = new CameraService(config, factory, clock, systemClock, activity, bus, ssdp);
  return {
    service,
    activity,
    ssdp,
    events,
    named: <K extends keyof DomainEventMap>(name: K) => events.filter((e) => e.name === name).map((e) => e.data as DomainEventMap[K]),
    next: <K extends keyof DomainEventMap>(name: K, where: (data: DomainEventMap[K]) => boolean = () => true) =>
      firstValueFrom(
        bus.events$.pipe(
          filter((e) => e.name === name),
          map((e) => e.data as DomainEventMap[K]),
          filter(where),
        ),
      ),
    systemClock,
    close: () => {
      service.stop();
      subscription.unsubscribe();
    },
  };
}

/** Awaits a promise expected to reject; returns the error (fails the test if it resolved). */
export async function rejectionOf(promise: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code?: string; message: string };
  }
  throw new Error('expected a rejection');
}
