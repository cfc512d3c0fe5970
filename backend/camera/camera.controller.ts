import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CameraService } from './camera.service';
import { CameraErrorDto, CameraStatusResponseDto, CameraSyncResultDto } from './dto/camera.dto';

@ApiTags('camera')
@Controller('api')
export class CameraController {
  constructor(private readonly camera: CameraService) {}

  @Post('timesync/camera')
  @HttpCode(200)
  @ApiOperation({
    summary: "Set the camera's clock to the Pi's time now",
    description:
      "Reads the camera's clock, writes the Pi's wall time (in the Pi's zone, DST flag set) so that it lands on a second boundary, " +
      'reads it back and measures the remaining error. Logged in the activity log and published as a camera-sync event. No automatic retry.',
  })
  @ApiOkResponse({ type: CameraSyncResultDto })
  @ApiResponse({ status: 409, type: CameraErrorDto, description: 'NO_CAMERA: no camera connected' })
  @ApiResponse({ status: 503, type: CameraErrorDto, description: 'CAMERA_BUSY: the camera is busy (shooting, writing to the card...)' })
  @ApiResponse({ status: 502, type: CameraErrorDto, description: 'CAMERA_REJECTED, CAMERA_BAD_ANSWER, CAMERA_CONNECTION_RESET, CAMERA_AUTH_REQUIRED, CAMERA_UNREACHABLE' })
  @ApiResponse({ status: 504, type: CameraErrorDto, description: 'CAMERA_TIMEOUT: the camera did not answer in time' })
  sync(): Promise<CameraSyncResultDto> {
    return this.camera.syncClock('requested by the operator');
  }

  @Get('camera')
  @ApiOperation({ summary: 'The camera: connected or not, what it is, its last clock sync' })
  @ApiOkResponse({ type: CameraStatusResponseDto })
  status(): CameraStatusResponseDto {
    return this.camera.status();
  }
}
