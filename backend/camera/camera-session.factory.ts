import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app.config';
import { Clock } from '../time/clock';
import { CameraHttp } from './camera-http';
import { CameraSession, CameraSessionOwner, CameraSource } from './camera-session';
import { CcapiClient } from './ccapi-client';
import { Waiter } from './waiter';

/** Makes a camera session with a CCAPI client of its own (queue, keep-alive agents, Digest state, TLS agent, latency). */
@Injectable()
export class CameraSessionFactory {
  constructor(
    private readonly config: AppConfig,
    private readonly http: CameraHttp,
    private readonly clock: Clock,
    private readonly waiter: Waiter,
  ) {}

  create(source: CameraSource, owner: CameraSessionOwner): CameraSession {
    return new CameraSession(source, new CcapiClient(this.http, this.config, this.clock), this.clock, this.waiter, owner);
  }
}
