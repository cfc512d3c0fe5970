import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CameraService } from './camera.service';
import { CameraStatusResponseDto } from './dto/camera.dto';

/**
 * What the cameras are. Their write path, `POST /api/timesync/camera` (all, or `?id=`), is TimeSync's
 * (CameraCommands): the same access-point authority as setting the Pi's clock, then CameraService.syncAll /
 * syncOne; its answer is `CameraSyncOutcomeDto[]` (dto/camera.dto.ts).
 */
@ApiTags('camera')
@Controller('api')
export class CameraController {
  constructor(private readonly cameras: CameraService) {}

  @Get('cameras')
  @ApiOperation({ summary: 'Every camera known: connected first, then those that need credentials, then the absent' })
  @ApiOkResponse({ type: [CameraStatusResponseDto] })
  list(): CameraStatusResponseDto[] {
    return this.cameras.statuses();
  }

  @Get('camera')
  @ApiOperation({ summary: 'The first camera of GET /api/cameras (or a disconnected placeholder with id "none"): for clients of one camera' })
  @ApiOkResponse({ type: CameraStatusResponseDto })
  status(): CameraStatusResponseDto {
    return this.cameras.status();
  }
}
