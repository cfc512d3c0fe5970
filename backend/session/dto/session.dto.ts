import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional, IsString, MaxLength } from 'class-validator';

/** POST /api/session/start and the WebSocket `session-start` data. */
export class SessionStartDto {
  @ApiPropertyOptional({ example: 'Milky Way timelapse, 2 bodies', description: 'A name for the session, shown in its report' })
  @IsOptional()
  @IsString()
  @MaxLength(120)
  label?: string;

  @ApiPropertyOptional({ example: false, description: "true: correct the cameras even though the Pi's own time is not reliable (else 409 PI_TIME_UNRELIABLE when a camera is connected)" })
  @IsOptional()
  @IsBoolean()
  confirm?: boolean;
}
