import { INestApplication, Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { json, NextFunction, Request, Response } from 'express';
import type { IncomingMessage, Server } from 'node:http';
import { basename, dirname, join } from 'node:path';
import { AppModule } from './app.module';
import { ErrorCode, HTTP_STATUS_OF } from './common/domain-error';
import { inspectJson, JsonProblem, scanJsonDepth } from './common/json-guard';
import { KeyedBudget } from './common/rate-budget';
import { RefusalLog } from './access/refusal-log';
import { portalUrl } from './common/captive-portal.controller';
import { hostRefusal, OwnHosts, redirectsToPage, Refusal, RequestFacts, upgradeRefusal, writeRefusal } from './common/same-origin';
import { AppConfig } from './config/app.config';
import { DemoCamera } from './dev/demo-camera';
import { MAX_FRAME_BYTES } from './protocol/messages';
import { Clock } from './time/clock';
import { AccessPointInfo, pageUrlOf } from './screen/access-point-info';
import { KioskToken } from './access/kiosk-token';
import { StartupFacts, startupLines } from './screen/startup-report';
import { AccessPointPolicy, normalizeAddress } from './access/access-point';
import { GuardedWsAdapter } from './gateway/ws-frames';

/** The built page (`npm run build:frontend`), from dist/backend when built or from backend/ under ts-node/jest. */
export const FRONTEND_DIR = basename(dirname(__dirname)) === 'dist' ? join(__dirname, '..', 'frontend') : join(__dirname, '..', 'dist', 'frontend');

/**
 * Everything `main.ts` does except listening, so the e2e tests get exactly what production gets.
 */
export async function createApp(options: { logger?: false | ('log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal')[] } = {}): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule, { bodyParser: false, logger: options.logger ?? ['log', 'warn', 'error', 'fatal'] });
  const clock = app.get(Clock);
  // A manual set adds the time spent between arrival and the write to the operator's timestamp: stamped as
  // soon as Node has read the request's head, ahead of Express and every middleware.
  (app.getHttpServer() as Server).prependListener('request', (req: IncomingMessage & { receivedMono?: number }) => {
    req.receivedMono = clock.monotonic();
  });
  const config = app.get(AppConfig);
  const refusals = app.get(RefusalLog);
  // First of all: no page, API or socket for another Host (DNS rebinding), no write from another origin.
  const ownHosts = new OwnHosts({ apAddress: config.AP_ADDRESS, allowedHosts: config.ALLOWED_HOSTS });
  app.use(refuseWhen(hostRefusal, ownHosts, refusals), refuseWhen(writeRefusal, ownHosts, refusals));
  app.use(writeBudget(config.HTTP_MAX_WRITES_PER_SECOND, clock, refusals));
  // Depth is checked on the raw text before JSON.parse, keys after it; both before class-transformer runs.
  app.use(guardJson((req) => req.query), json({ limit: MAX_FRAME_BYTES, verify: (_req, _res, buf) => refuseIf(scanJsonDepth(buf.toString('utf8'))) }), bodyErrors, guardJson((req) => req.body));
  app.useWebSocketAdapter(
    new GuardedWsAdapter(app, () => clock.monotonic(), (req) => {
      const refusal = upgradeRefusal(factsOf(req, req.url ?? '/'), ownHosts);
      if (refusal) refusals.note(normalizeAddress(req.socket.remoteAddress ?? ''), refusal.code, `WebSocket refused: ${refusal.message}`);
      return refusal;
    }),
  );
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

function factsOf(req: IncomingMessage, path: string): RequestFacts {
  return { method: req.method ?? 'GET', path, headers: req.headers, localPort: req.socket.localPort, secure: 'encrypted' in req.socket && Boolean(req.socket.encrypted) };
}

/** A request the check refuses is answered here, coded, and noted once per client and interval. */
function refuseWhen(check: (req: RequestFacts, own: OwnHosts) => Refusal | null, own: OwnHosts, refusals: RefusalLog) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const facts = factsOf(req, req.path);
    const refusal = check(facts, own);
    if (!refusal) return next();
    if (redirectsToPage(facts, refusal)) {
      res.set('Cache-Control', 'no-store').redirect(302, portalUrl({ host: undefined, localAddress: req.socket.localAddress, localPort: req.socket.localPort, ownNames: [] }));
      return;
    }
    refusals.note(normalizeAddress(req.socket.remoteAddress ?? ''), refusal.code, refusal.message);
    res.status(refusal.status).set('Cache-Control', 'no-store').json({ statusCode: refusal.status, code: refusal.code, message: refusal.message });
  };
}

/** REST writes (POST under /api) per address and second; over the budget: 429 RATE_LIMITED, logged once per interval. */
function writeBudget(perSecond: number, clock: Clock, refusals: RefusalLog) {
  const budget = new KeyedBudget(perSecond);
  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.method !== 'POST' || !req.path.startsWith('/api/')) return next();
    const address = normalizeAddress(req.socket.remoteAddress ?? '');
    if (budget.take(address, clock.monotonic())) return next();
    const message = `${address} made more than ${perSecond} requests that change something per second; try again in a moment`;
    refusals.note(address, ErrorCode.RATE_LIMITED, message);
    res.status(429).set('Retry-After', '1').json({ statusCode: 429, code: ErrorCode.RATE_LIMITED, message });
  };
}

class JsonGuardError extends Error {
  readonly status = 400;
  constructor(readonly problem: JsonProblem) {
    super(problem.message);
  }
}

function refuseIf(problem: JsonProblem | null): void {
  if (problem) throw new JsonGuardError(problem);
}

/** Forbidden keys (and depth) in the query string or the parsed body of an API request, before anything copies them. */
function guardJson(part: (req: Request) => unknown) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const problem = req.path.startsWith('/api/') ? inspectJson(part(req)) : null;
    if (!problem) return next();
    const status = HTTP_STATUS_OF[problem.code] ?? 400;
    res.status(status).json({ statusCode: status, code: problem.code, message: problem.message });
  };
}

/** body-parser's errors happen before Nest's filters: answer them in the API's error shape here. */
function bodyErrors(error: { type?: string; status?: number } | undefined, _req: Request, res: Response, next: NextFunction): void {
  if (!error) return next();
  if (error instanceof JsonGuardError) {
    res.status(400).json({ statusCode: 400, code: error.problem.code, message: error.problem.message });
  } else if (error.type === 'entity.too.large') {
    res.status(413).json({ statusCode: 413, code: ErrorCode.BODY_TOO_LARGE, message: `request body over the limit of ${MAX_FRAME_BYTES} bytes` });
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
  const policy = app.get(AccessPointPolicy);
  return {
    config,
    subnets: policy.subnets(),
    demo: { loopbackTrusted: policy.demoLoopback, cameraUrl: app.get(DemoCamera).url },
    url,
    accessPointUrl: ap?.address ? pageUrlOf(ap.address, port) : null,
    kiosk: { path: kiosk.path, available: kiosk.available, created: kiosk.created, problem: kiosk.problem },
  };
}
