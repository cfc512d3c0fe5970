import { Module, ValidationPipe } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
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

@Module({
  imports: [
    AppConfigModule,
    TimeModule,
    CommonModule,
    ActivityLogModule,
    SystemClockModule,
    CameraModule,
    TimeSyncModule,
    ScreenModule,
  ],
  controllers: [CaptivePortalController],
  providers: [
    { provide: APP_PIPE, useValue: new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }) },
    { provide: APP_FILTER, useClass: HttpErrorFilter },
  ],
})
export class AppModule {}
