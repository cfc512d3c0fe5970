import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';

/** POST /api/session/start and the WebSocket `session-start` data. */
export class SessionStartDto {
  @ApiPropertyOptional({ example: 'Milky Way timelapse, 2 bodies', description: 'A name for the session, shown in its report' })
  @IsOptional()
  @IsString()
  @MaxLength(120)
  label?: string;
}
