import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module';
import { ActivityLogModule } from '../activity-log/activity-log.module';
import { CorrectionsModule } from '../corrections/corrections.module';
import { TimeSyncModule } from '../time-sync/time-sync.module';
import { SessionControl } from './session-control';
import { SessionController } from './session.controller';
import { SessionService } from './session.service';

/** Capture sessions: REST here; the WebSocket gateway (GatewayModule) takes session frames through `SessionControl`. */
@Module({
  imports: [AccessModule, ActivityLogModule, TimeSyncModule, CorrectionsModule],
  controllers: [SessionController],
  providers: [SessionService, { provide: SessionControl, useExisting: SessionService }],
  exports: [SessionControl],
})
export class SessionModule {}
