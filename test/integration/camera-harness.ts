import { HttpService } from '@nestjs/axios';
import { CameraHttp } from '../../backend/camera/camera-http';
import { Logger } from '@nestjs/common';
import axios from 'axios';
import { ActivityLogService } from '../../backend/activity-log/activity-log.service';
import { CameraService } from '../../backend/camera/camera.service';
import { CcapiClient } from '../../backend/camera/ccapi-client';
import { SsdpDiscovery, SsdpOptions } from '../../backend/camera/ssdp';
import { Waiter } from '../../backend/camera/waiter';
import { EventBus } from '../../backend/common/event-bus';
import { AppConfig } from '../../backend/config/app.config';
import { ServerFrame } from '../../backend/protocol/messages';
import { SystemClock, SystemClockState } from '../../backend/system-clock/system-clock';
import { Clock, HostClock } from '../../backend/time/clock';

/** The real CcapiClient and CameraService, built by hand around a config; only the Pi's zone is faked. */

export function cameraConfig(overrides: Partial<AppConfig> = {}): AppConfig {
  return Object.assign(new AppConfig(), { CAMERA_TIMEOUT: 1500, CAMERA_POLL_INTERVAL: 200, CAMERA_DISCOVERY: false }, overrides);
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
  client: CcapiClient;
  activity: ActivityLogService;
  frames: ServerFrame[];
  events(eventType: string): Array<ServerFrame & { data: unknown }>;
  systemClock: ZoneOnlySystemClock;
  close(): void;
}

export function newService(config: AppConfig, options: { zone?: string; ssdp?: Partial<SsdpOptions> } = {}): ServiceHarness {
  Logger.overrideLogger(['error']);
  const clock = new HostClock();
  const bus = new EventBus();
  const frames: ServerFrame[] = [];
  const subscription = bus.frames$.subscribe((frame) => frames.push(frame));
  const activity = new ActivityLogService(clock, bus);
  const client = newClient(config, clock);
  const systemClock = new ZoneOnlySystemClock(options.zone ?? 'UTC', clock);
  const ssdp = new SsdpDiscovery({ searchAddress: '127.0.0.1', searchPort: 9, searchBindAddress: '127.0.0.1', listenAddress: '127.0.0.1', listenPort: 0, multicastGroup: null, ...options.ssdp });
  const service = new CameraService(config, client, clock, systemClock, activity, bus, ssdp, new Waiter(clock));
  return {
    service,
    client,
    activity,
    frames,
    systemClock,
    events: (eventType) => frames.filter((f) => f.type === 'event' && f.eventType === eventType) as Array<ServerFrame & { data: unknown }>,
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
