import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { WebSocket } from 'ws';
import { mapError } from '../common/error-filters';
import { ErrorFrame } from '../protocol/messages';

/** WebSocket: an error frame (the same mapping as HTTP's, `mapError`); the connection stays open. */
@Catch()
export class WsErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('WsError');
  catch(error: unknown, host: ArgumentsHost): void {
    const { code, message } = mapError(error, this.logger);
    const client = host.switchToWs().getClient<WebSocket>();
    const frame: ErrorFrame = { type: 'error', data: { code, message } };
    if (client.readyState === client.OPEN) client.send(JSON.stringify(frame));
  }
}
