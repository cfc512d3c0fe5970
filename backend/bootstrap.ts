import { INestApplication, Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { WsAdapter } from '@nestjs/platform-ws';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { json, NextFunction, Request, Response } from 'express';
import { basename, dirname, join } from 'node:path';
import { AppModule } from './app.module';
import { ErrorCode } from './common/domain-error';
import { MAX_FRAME_BYTES } from './protocol/messages';
import { Clock } from './time/clock';
import { createFrameParser } from './time-sync/ws-frames';
import { AppConfig } from './config/app.config';
import { AccessPointInfo, pageUrlOf } from './screen/access-point-info';
import { KioskToken } from './screen/kiosk-token';
import { StartupFacts, startupLines } from './screen/startup-report';
import { AccessPointPolicy } from './time-sync/access-point';

/** The built page (`npm run build:frontend`), from dist/backend when built or from backend/ under ts-node/jest. */
export const FRONTEND_DIR = basename(dirname(__dirname)) === 'dist' ? join(__dirname, '..', 'frontend') : join(__dirname, '..', 'dist', 'frontend');

/**
 * Everything `main.ts` does except listening, so the e2e tests get exactly what production gets.
 */
export async function createApp(options: { logger?: false | ('log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal')[] } = {}): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule, { bodyParser: false, logger: options.logger ?? ['log', 'warn', 'error', 'fatal'] });
  const clock = app.get(Clock);
  // A manual set adds the time spent between arrival and the write to the operator's timestamp.
  app.use((req: Request & { receivedMono?: number }, _res: Response, next: NextFunction) => {
    req.receivedMono = clock.monotonic();
    next();
  });
  app.use(json({ limit: MAX_FRAME_BYTES }), bodyErrors);
  app.useWebSocketAdapter(new WsAdapter(app, { messageParser: createFrameParser(() => clock.monotonic()) }));
  // The built page at `/` (express.static through Nest's own adapter).
  app.useStaticAssets(FRONTEND_DIR);
  app.enableShutdownHooks();

  // Built on the first request to /api/docs, not at start: the kiosk boots faster.
  const documentFactory = () =>
    SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle('Pi Camera TimeSync')
        .setDescription(
          'REST API of the clock-synchronisation kiosk. The live protocol (time-sync-request/response, events, ' +
            'activity_log) runs over the WebSocket at /ws; see the README.',
        )
        .setVersion('1')
        .build(),
    );
  SwaggerModule.setup('api/docs', app, documentFactory, { jsonDocumentUrl: 'api/docs-json' });
  return app;
}

/** body-parser's errors happen before Nest's filters: answer them in the API's error shape here. */
function bodyErrors(error: { type?: string; status?: number } | undefined, _req: Request, res: Response, next: NextFunction): void {
  if (!error) return next();
  if (error.type === 'entity.too.large') {
    res.status(413).json({ statusCode: 413, code: 'BODY_TOO_LARGE', message: `request body over the limit of ${MAX_FRAME_BYTES} bytes` });
  } else if (error.type === 'entity.parse.failed') {
    res.status(400).json({ statusCode: 400, code: ErrorCode.INVALID_JSON, message: 'request body is not valid JSON' });
  } else {
    res.status(error.status ?? 400).json({ statusCode: error.status ?? 400, code: ErrorCode.BAD_REQUEST, message: 'request body could not be read' });
  }
}

export async function listen(app: INestApplication, port: number, host: string): Promise<string> {
  await app.listen(port, host);
  const url = await app.getUrl();
  const logger = new Logger('Main');
  logger.log(`Serving the page, the API (/api/docs) and the WebSocket (/ws) at ${url.replace('[::1]', 'localhost')}`);
  for (const line of await startupFacts(app, url).then(startupLines)) logger[line.level](line.text);
  return url;
}

/** What the start-up lines are made of, read from the running app. */
export async function startupFacts(app: INestApplication, url: string): Promise<StartupFacts> {
  const config = app.get(AppConfig);
  const kiosk = app.get(KioskToken);
  const ap = await app
    .get(AccessPointInfo)
    .details()
    .catch(() => null);
  const port = Number(new URL(url).port || 80);
  return {
    config,
    subnets: app.get(AccessPointPolicy).subnets(),
    url,
    accessPointUrl: ap?.address ? pageUrlOf(ap.address, port) : null,
    kiosk: { path: kiosk.path, available: kiosk.available, created: kiosk.created, problem: kiosk.problem },
  };
}
