import { Module, ValidationPipe } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { AccessModule } from './access/access.module';
import { ActivityLogModule } from './activity-log/activity-log.module';
import { CameraModule } from './camera/camera.module';
import { CaptivePortalController } from './common/captive-portal.controller';
import { CommonModule } from './common/common.module';
import { HttpErrorFilter } from './common/error-filters';
import { AppConfigModule } from './config/config.module';
import { SystemClockModule } from './system-clock/system-clock.module';
import { TimeModule } from './time/time.module';
import { TimeSyncModule } from './time-sync/time-sync.module';
import { ScreenModule } from './screen/screen.module';
import { CorrectionsModule } from './corrections/corrections.module';
import { SessionModule } from './session/session.module';
import { GatewayModule } from './gateway/gateway.module';
import { SlateModule } from './slate/slate.module';

@Module({
  imports: [
    AppConfigModule,
    TimeModule,
    CommonModule,
    ActivityLogModule,
    SystemClockModule,
    AccessModule,
    CameraModule,
    TimeSyncModule,
    ScreenModule,
    CorrectionsModule,
    SessionModule,
    SlateModule,
    GatewayModule,
  ],
  controllers: [CaptivePortalController],
  providers: [
    { provide: APP_PIPE, useValue: new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }) },
    { provide: APP_FILTER, useClass: HttpErrorFilter },
  ],
})
export class AppModule {}
