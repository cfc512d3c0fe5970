import { ArgumentsHost, BadRequestException, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { WsException } from '@nestjs/websockets';
import type { Response } from 'express';
import { DomainError, ErrorCode, HTTP_STATUS_OF } from './domain-error';

interface Mapped {
  status: number;
  code: string;
  message: string;
}

/** One mapping from anything thrown to a code and plain words; internals never leak (HTTP here, WebSocket in gateway/). */
export function mapError(error: unknown, logger: Logger): Mapped {
  if (error instanceof DomainError) return { status: HTTP_STATUS_OF[error.code] ?? 400, code: error.code, message: error.message };
  if (error instanceof BadRequestException) {
    const body = error.getResponse() as { message?: string | string[] };
    const message = Array.isArray(body.message) ? body.message.join('; ') : body.message ?? error.message;
    return { status: 400, code: ErrorCode.BAD_REQUEST, message };
  }
  if (error instanceof HttpException) {
    const body = error.getResponse();
    const message = typeof body === 'string' ? body : (body as { message?: string }).message ?? error.message;
    return { status: error.getStatus(), code: error.getStatus() === 404 ? 'NOT_FOUND' : `HTTP_${error.getStatus()}`, message: String(message) };
  }
  if (error instanceof WsException) return { status: 400, code: ErrorCode.BAD_REQUEST, message: String(error.message) };
  logger.error(error instanceof Error ? error.stack ?? error.message : String(error));
  return { status: 500, code: ErrorCode.INTERNAL, message: 'internal error; see the server log' };
}

/** HTTP: `{ statusCode, code, message }`. */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpError');
  catch(error: unknown, host: ArgumentsHost): void {
    const { status, code, message } = mapError(error, this.logger);
    const response = host.switchToHttp().getResponse<Response>();
    if (response.headersSent) return;
    response.status(status).json({ statusCode: status, code, message });
  }
}
