import { Module } from '@nestjs/common';
import { ActivityLogModule } from '../activity-log/activity-log.module';
import { CommandRunner } from '../system-clock/timedatectl-clock';
import { AccessPointPolicy, InterfaceModeDetector, IwModeDetector, NetworkInterfaces } from './access-point';
import { AccessService } from './access.service';
import { KioskToken } from './kiosk-token';
import { RefusalLog } from './refusal-log';

/**
 * Who may do what: the caller (address and kiosk secret), the kiosk secret, the access point's trust, the
 * refusal log, and `AccessService.authorize` that REST, the WebSocket gateway and capture sessions ask.
 * Imported by the modules that ask; it asks none of them.
 */
@Module({
  imports: [ActivityLogModule],
  providers: [
    AccessService,
    AccessPointPolicy,
    NetworkInterfaces,
    KioskToken,
    RefusalLog,
    CommandRunner,
    { provide: InterfaceModeDetector, useClass: IwModeDetector },
  ],
  exports: [AccessService, AccessPointPolicy, NetworkInterfaces, KioskToken, RefusalLog],
})
export class AccessModule {}
