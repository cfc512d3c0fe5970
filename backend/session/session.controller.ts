import { Body, Controller, Get, HttpCode, Param, Post, Req } from '@nestjs/common';
import { ApiBadRequestResponse, ApiConflictResponse, ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { DomainError } from '../common/domain-error';
import { callerOfRequest } from '../access/caller';
import { ErrorBodyDto } from '../time-sync/dto/time-sync.dto';
import { SessionStartDto } from './dto/session.dto';
import { SessionService } from './session.service';

@ApiTags('sessions')
@Controller('api/session')
export class SessionController {
  constructor(private readonly sessions: SessionService) {}

  @Get()
  @ApiOperation({ summary: 'The capture session running (or null) and every session in the journal, newest first' })
  @ApiOkResponse({ schema: { example: { session: { id: 's-20261202-100000-3f9a2c', startedAt: '2026-12-02T10:00:00.000Z', startedBy: '10.42.0.23', label: null }, sessions: [] } } })
  async get() {
    // The running session is known without the journal; the list needs it (JOURNAL_UNREADABLE is said, not thrown).
    const listed = await this.sessions.list().then(
      (sessions) => ({ sessions }),
      (error: unknown) => ({ sessions: [], error: error instanceof DomainError ? { code: error.code, message: error.message } : { code: 'INTERNAL', message: 'the journal could not be read' } }),
    );
    return { session: this.sessions.current(), ...listed };
  }

  @Post('start')
  @HttpCode(200)
  @ApiOperation({
    summary: "Start a capture session (the Pi's own screen and access-point clients: the same authority as setting the clock)",
    description:
      'Every connected camera is measured and corrected, and the answer says each camera\'s offset after that (camera minus Pi, ms). Until the stop, neither the Pi nor a camera ' +
      'is stepped automatically: syncs keep measuring and reporting, a step needs the operator (a manual set, or use-client-time on the decision shown).',
  })
  @ApiOkResponse({ schema: { example: { id: 's-20261202-100000-3f9a2c', startedAt: '2026-12-02T10:00:00.000Z', label: null, cameras: [{ cameraId: '083021000123', serial: '083021000123', success: true, correctedFromMs: 3012, offsetMs: 4, boundMs: 6, verified: true }] } } })
  @ApiBadRequestResponse({ type: ErrorBodyDto, description: 'BAD_REQUEST (body)' })
  @ApiForbiddenResponse({ type: ErrorBodyDto, description: 'NOT_ACCESS_POINT_CLIENT' })
  @ApiConflictResponse({ type: ErrorBodyDto, description: "SESSION_RUNNING; PI_TIME_UNRELIABLE: a camera is connected and the Pi's own time is not reliable, so it would be corrected to a wrong time: nothing was touched (set the Pi's time, or start with confirm: true)" })
  @ApiServiceUnavailableResponse({ type: ErrorBodyDto, description: 'JOURNAL_UNWRITABLE: the session\'s corrections could not be recorded; nothing was touched' })
  start(@Req() request: Request, @Body() body: SessionStartDto) {
    return this.sessions.start(callerOfRequest(request), body);
  }

  @Post('stop')
  @HttpCode(200)
  @ApiOperation({ summary: 'Stop the capture session: every camera measured, the report (also kept under DATA_DIR/sessions/<id>.json)' })
  @ApiOkResponse({ description: 'The session report: per camera the offset at start and end, drift, writes, the Pi\'s steps, and the correction for its photos' })
  @ApiForbiddenResponse({ type: ErrorBodyDto, description: 'NOT_ACCESS_POINT_CLIENT' })
  @ApiConflictResponse({ type: ErrorBodyDto, description: 'NO_SESSION' })
  @ApiServiceUnavailableResponse({ type: ErrorBodyDto, description: 'JOURNAL_UNWRITABLE: the session runs on' })
  stop(@Req() request: Request) {
    return this.sessions.stop(callerOfRequest(request));
  }

  @Get(':id/report')
  @ApiOperation({ summary: "A session's report (a running one: so far)" })
  @ApiOkResponse({ description: 'The session report' })
  @ApiBadRequestResponse({ type: ErrorBodyDto, description: 'INVALID_SESSION_ID' })
  @ApiNotFoundResponse({ type: ErrorBodyDto, description: 'UNKNOWN_SESSION' })
  report(@Param('id') id: string) {
    return this.sessions.report(id);
  }
}
