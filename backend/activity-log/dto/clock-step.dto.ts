import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ActivityType, SyncSource } from '../../protocol/messages';
import { ClockStepRecord } from '../clock-journal';

export class ClockStepDto implements ClockStepRecord {
  @ApiProperty({ example: 1795507200000 }) beforeMs: number;
  @ApiProperty({ example: '2026-11-22T08:00:00.000Z' }) before: string;
  @ApiProperty({ example: 1795766400123 }) afterMs: number;
  @ApiProperty({ example: '2026-11-25T08:00:00.123Z' }) after: string;
  @ApiProperty({ example: 259200123, description: 'How far the clock was moved, beyond the time that passed' }) stepMs: number;
  @ApiProperty({ enum: Object.values(SyncSource), example: SyncSource.Client }) source: SyncSource;
  @ApiProperty({ example: 53211.4, description: 'Monotonic ms of the step within this boot' }) monotonicMs: number;
  @ApiPropertyOptional({ example: 1.4, nullable: true }) errorBoundMs?: number | null;
  @ApiPropertyOptional({ example: '10.42.0.23', nullable: true }) client?: string | null;
}

export class ActivityEntryDto {
  @ApiProperty({ example: '2026-11-25T08:00:00.000Z' }) timestamp: string;
  @ApiProperty({ example: 12, description: 'Order within a server run (the clock may have been stepped between entries)' }) seq: number;
  @ApiProperty({ enum: Object.values(ActivityType), example: ActivityType.Sync }) type: string;
  @ApiProperty({ example: 'Time synchronized from client (offset: 1500ms)' }) message: string;
  @ApiProperty({ example: true }) success: boolean;
  @ApiProperty({ example: { source: 'client', offset: 1500 } }) details: Record<string, unknown>;
}
