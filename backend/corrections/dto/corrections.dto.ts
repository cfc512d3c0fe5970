import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

export const CORRECTION_FORMATS = ['json', 'exiftool', 'geosync'] as const;
export type CorrectionFormat = (typeof CORRECTION_FORMATS)[number];

/** GET /api/timesync/corrections. The ids themselves are checked by the service (coded errors). */
export class CorrectionsQueryDto {
  @ApiPropertyOptional({ enum: CORRECTION_FORMATS, default: 'json', description: 'json: the periods and shifts; exiftool: an argument file for `exiftool -@ FILE -overwrite_original DIR`; geosync: `-geosync=` points of one camera and period' })
  @IsOptional()
  @IsIn(CORRECTION_FORMATS)
  format?: CorrectionFormat;

  @ApiPropertyOptional({ example: 's-20261202-100000-3f9a2c', description: 'Only the photos of this capture session' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  session?: string;

  @ApiPropertyOptional({ example: '083021000123', description: "Only this camera (its serial number or its id)" })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  camera?: string;

  @ApiPropertyOptional({ example: 2, description: 'geosync: the period (1-based, as in the json answer)' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  period?: number;
}
