import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ActivityType, SyncSource } from '../../protocol/messages';
import { DamagedLine, JournalHealth, JournalStep, STEP_STATES, StepState } from '../clock-journal';

export class ClockStepDto implements JournalStep {
  @ApiProperty({ enum: STEP_STATES, example: 'confirmed', description: 'pending: journaled, never confirmed (the clock may or may not have moved); in a pending step after/afterMs/stepMs are what was intended' })
  state: StepState;
  @ApiProperty({ example: 3, description: 'Line of the journal where the step starts' }) line: number;
  @ApiPropertyOptional({ example: '0b7e4c1e-3f1a-4a53-9a43-2f0f7d0f4a1c', description: 'Absent in steps journaled before the write-ahead journal' }) id?: string;
  @ApiProperty({ example: 1795507200000 }) beforeMs: number;
  @ApiProperty({ example: '2026-11-22T08:00:00.000Z' }) before: string;
  @ApiProperty({ example: 1795766400123 }) afterMs: number;
  @ApiProperty({ example: '2026-11-25T08:00:00.123Z' }) after: string;
  @ApiProperty({ example: 259200123, description: 'How far the clock was moved, beyond the time that passed' }) stepMs: number;
  @ApiProperty({ enum: Object.values(SyncSource), example: SyncSource.Client }) source: SyncSource;
  @ApiProperty({ example: 53211.4, description: 'Monotonic ms of the step within this boot' }) monotonicMs: number;
  @ApiPropertyOptional({ example: '6b1f0c58-5a53-4a4e-9d1c-6f9bb0a2e6e1', nullable: true, description: "The kernel's boot id: which boot monotonicMs belongs to" }) bootId?: string | null;
  @ApiPropertyOptional({ example: 1.4, nullable: true }) errorBoundMs?: number | null;
  @ApiPropertyOptional({ example: '10.42.0.23', nullable: true }) client?: string | null;
  @ApiPropertyOptional({ example: 'timedatectl did not answer in time', description: 'failed / unknown: why' }) error?: string;
}

export class DamagedLineDto implements DamagedLine {
  @ApiProperty({ enum: ['damaged'] }) state: 'damaged';
  @ApiProperty({ example: 18 }) line: number;
  @ApiProperty({ example: '{"id":"0b7e4c1e","state":"pend' }) preview: string;
  @ApiProperty({ example: 'the line has no end: its write was cut short and never acknowledged' }) reason: string;
}

export class JournalHealthDto implements JournalHealth {
  @ApiProperty({ example: false }) writable: boolean;
  @ApiProperty({ example: '/var/lib/pi-camera-timesync/clock-journal.jsonl' }) path: string;
  @ApiProperty({ example: 'The clock-change journal /var/lib/pi-camera-timesync/clock-journal.jsonl cannot be written: the file system is read-only (EROFS)', nullable: true }) error: string | null;
}

export class JournalReportDto {
  @ApiProperty({ type: [ClockStepDto], description: 'Every step that moved or may have moved the clock' }) steps: ClockStepDto[];
  @ApiProperty({ type: [ClockStepDto], description: 'Steps never confirmed: the clock may or may not have moved' }) pending: ClockStepDto[];
  @ApiProperty({ type: [ClockStepDto], description: 'Attempts that left the clock alone' }) failed: ClockStepDto[];
  @ApiProperty({ type: [DamagedLineDto] }) damaged: DamagedLineDto[];
  @ApiProperty({ type: JournalHealthDto }) health: JournalHealthDto;
}

export class ActivityEntryDto {
  @ApiProperty({ example: '2026-11-25T08:00:00.000Z' }) timestamp: string;
  @ApiProperty({ example: 12, description: 'Order within a server run (the clock may have been stepped between entries)' }) seq: number;
  @ApiProperty({ example: 81234, required: false, description: "When, on the server's monotonic clock (ms): plus the status's piWallMinusMonotonicMs, the moment in the Pi's current time" }) monotonicMs?: number;
  @ApiProperty({ enum: Object.values(ActivityType), example: ActivityType.Sync }) type: string;
  @ApiProperty({ example: 'Time synchronized from the phone at 10.42.0.23 (offset: +1.5 s ±1.2 ms)' }) message: string;
  @ApiProperty({ example: true }) success: boolean;
  @ApiProperty({ example: { source: 'client', offset: 1500 } }) details: Record<string, unknown>;
}
