import { Global, Module } from '@nestjs/common';
import { ActivityLogModule } from '../activity-log/activity-log.module';
import { CorrectionsModule } from '../corrections/corrections.module';
import { TimeSyncModule } from '../time-sync/time-sync.module';
import { SessionControl } from './session-control';
import { SessionController } from './session.controller';
import { SessionService } from './session.service';

/**
 * Capture sessions. Global only for `SessionControl`: the WebSocket gateway (in TimeSync, which this module
 * builds on) takes session frames through it without a cycle of imports.
 */
@Global()
@Module({
  imports: [ActivityLogModule, TimeSyncModule, CorrectionsModule],
  controllers: [SessionController],
  providers: [SessionService, { provide: SessionControl, useExisting: SessionService }],
  exports: [SessionControl],
})
export class SessionModule {}
