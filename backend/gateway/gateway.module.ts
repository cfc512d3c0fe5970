import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module';
import { ActivityLogModule } from '../activity-log/activity-log.module';
import { SessionModule } from '../session/session.module';
import { TimeSyncModule } from '../time-sync/time-sync.module';
import { PagesGateway } from './pages.gateway';

/**
 * The WebSocket at `/ws`: the only sender on sockets. It builds on TimeSync, Session and Access and turns
 * their bus events into frames; no module imports it (the app module does, and bootstrap installs its adapter).
 */
@Module({
  imports: [AccessModule, ActivityLogModule, TimeSyncModule, SessionModule],
  providers: [PagesGateway],
})
export class GatewayModule {}
