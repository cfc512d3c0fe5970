import { OnModuleDestroy, UseFilters } from '@nestjs/common';
import { ConnectedSocket, MessageBody, OnGatewayConnection, OnGatewayDisconnect, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Subscription } from 'rxjs';
import type { WebSocket } from 'ws';
import { AccessService } from '../access/access.service';
import { permits } from '../access/access-rules';
import { Caller, callerOfUpgrade } from '../access/caller';
import { RefusalLog } from '../access/refusal-log';
import { ActivityLogService } from '../activity-log/activity-log.service';
import { DomainError, ErrorCode } from '../common/domain-error';
import { DomainEvent, EventBus } from '../common/event-bus';
import { ConnectionBudget } from '../common/rate-budget';
import { assertEmpty, assertValid } from '../common/validate';
import { AppConfig } from '../config/app.config';
import { EventType, PROTOCOL_VERSION, Screen, ServerFrame } from '../protocol/messages';
import { SessionStartDto } from '../session/dto/session.dto';
import { SessionControl } from '../session/session-control';
import { Clock } from '../time/clock';
import { DurationTracker } from '../time/duration-tracker';
import { RESPONSE_TIMEOUT_MS } from '../sources/phone/burst-tracker';
import { CameraCommands } from '../time-sync/camera-commands';
import { ManualTimeDto, SyncCameraDto, TimeSyncResponseDto } from '../time-sync/dto/time-sync.dto';
import { TimeSyncService } from '../time-sync/time-sync.service';
import { WsErrorFilter } from './ws-error.filter';
import { arrivalOf, INVALID_FRAME, loopWatch, readLagOf, shed } from './ws-frames';

/** Frames above this are closed by ws itself; frames between MAX_FRAME_BYTES and this get an error frame. */
const HARD_PAYLOAD_LIMIT = 1024 * 1024;
/** A connection closed for flooding gets this long to read its error and close frames, then is cut. */
const SHED_GRACE_MS = 1000;

/** A Buffer sent as text (not binary), and never copied or masked by ws: the same bytes serve every page. */
const TEXT_FRAME = { binary: false, compress: false } as const;

const EVENT_FRAMES = new Set<string>(Object.values(EventType));

interface Page {
  id: string;
  caller: Caller;
  screen: Screen;
  /** May be a time source (a phone on the access point; never the Pi's own screen). */
  trusted: boolean;
  send(frame: ServerFrame): number;
  /** Closed for going over its budget: nothing more from it is handled. */
  shed?: boolean;
}

/**
 * `/ws`: the design's frames, and the only place domain events become frames (one way out): nothing else
 * holds a socket. On connect a page gets `hello` (protocol version), the status and the whole activity log;
 * then each event as an event frame, each new activity entry as an `activity_log` update, and exactly one
 * status frame per change. What a page may do is asked of AccessService; the work is TimeSync's and the
 * Session module's.
 */
@UseFilters(WsErrorFilter)
@WebSocketGateway({ path: '/ws', maxPayload: HARD_PAYLOAD_LIMIT })
export class PagesGateway implements OnGatewayConnection, OnGatewayDisconnect, OnModuleDestroy {
  private readonly pages = new Map<WebSocket, Page>();
  private readonly subscription: Subscription;
  /** A status broadcast is pending: changes that come together (an event, its log entries) share one status frame. */
  private statusDue: NodeJS.Immediate | null = null;

  constructor(
    private readonly service: TimeSyncService,
    private readonly access: AccessService,
    private readonly clock: Clock,
    private readonly activity: ActivityLogService,
    bus: EventBus,
    private readonly cameras: CameraCommands,
    private readonly config: AppConfig,
    private readonly refusals: RefusalLog,
    private readonly durations: DurationTracker,
    private readonly sessions: SessionControl,
  ) {
    this.subscription = bus.events$.subscribe((event) => this.onEvent(event));
  }

  onModuleDestroy(): void {
    this.subscription.unsubscribe();
    if (this.statusDue) clearImmediate(this.statusDue);
  }

  /**
   * Synchronous on purpose: the page is known to the service before its first frame can be handled. The Pi's
   * own screen presents the kiosk secret in the URL (`/ws?kiosk=<secret>`).
   */
  handleConnection(client: WebSocket, request: IncomingMessage): void {
    const caller = callerOfUpgrade(request);
    const address = caller.address;
    const send = (frame: ServerFrame): number => {
      // Encoded first, then stamped right before ws frames it and writes it to the socket (synchronously):
      // a probe's send time is part of the round trip, and a stamp before the write keeps it causal.
      const bytes = Buffer.from(JSON.stringify(frame));
      const sentMono = this.clock.monotonic();
      if (client.readyState === client.OPEN) client.send(bytes, TEXT_FRAME);
      return sentMono;
    };
    const screen = this.access.screenOf(caller);
    const page: Page = { id: randomUUID(), caller, screen, trusted: permits(screen, 'be-time-source'), send };
    this.pages.set(client, page);
    // Registered before Nest's own message listener (Nest binds its handlers after handleConnection), so a
    // frame over the budget is counted, and the connection shed, before that frame is parsed.
    const budget = new ConnectionBudget({ framesPerSecond: this.config.WS_MAX_FRAMES_PER_SECOND, bytesPerSecond: this.config.WS_MAX_BYTES_PER_SECOND }, this.clock.monotonic());
    client.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
      if (page.shed) return;
      const over = budget.admit(byteLength(data), this.clock.monotonic());
      if (over) this.shed(client, page, over);
    });
    send({ type: 'hello', protocolVersion: PROTOCOL_VERSION, connectionId: page.id, trusted: page.trusted, maySetTime: permits(screen, 'set-time'), screen });
    const sendProbe = (serverTime: number, requestId: string): number => {
      // The loop is watched until this probe's answer is due, so a late read of it is seen (ws-frames.ts).
      loopWatch.watch(RESPONSE_TIMEOUT_MS);
      return send({ type: 'time-sync-request', serverTime, requestId });
    };
    this.service.connect({ id: page.id, address, trusted: page.trusted, sendProbe });
    void this.statusFor(page).then((frame) => {
      page.send(frame);
      page.send({ type: 'activity_log', timestamp: this.iso(), data: { entries: this.activity.entries(), full: true } });
    });
  }

  handleDisconnect(client: WebSocket): void {
    const page = this.pages.get(client);
    this.pages.delete(client);
    if (page) this.service.disconnect(page.id);
  }

  @SubscribeMessage('time-sync-response')
  onTimeSyncResponse(@ConnectedSocket() client: WebSocket, @MessageBody() data: object): void {
    const receivedMono = arrivalOf(data) ?? this.clock.monotonic();
    assertValid(TimeSyncResponseDto, data, 'time-sync-response');
    this.service.handleResponse(this.page(client).id, data as TimeSyncResponseDto, receivedMono, readLagOf(data) ?? 0);
  }

  @SubscribeMessage('manual-time-sync')
  async onManualTimeSync(@ConnectedSocket() client: WebSocket, @MessageBody() data: object) {
    const receivedMono = arrivalOf(data) ?? this.clock.monotonic();
    const body = assertValid(ManualTimeDto, data, 'manual-time-sync');
    const result = await this.service.setManually(this.page(client).caller, body, receivedMono);
    // Arrival to applied (the journal's fsyncs, the clock write and the events' fan-out included).
    this.durations.record('manual-set', Math.max(0, this.clock.monotonic() - receivedMono));
    return { type: 'manual-time-sync-result', timestamp: this.iso(), data: { success: true, ...result } };
  }

  @SubscribeMessage('get-time-sync-status')
  async onGetStatus(@ConnectedSocket() client: WebSocket, @MessageBody() data: object) {
    assertEmpty(data, 'get-time-sync-status');
    return this.statusFor(this.page(client));
  }

  @SubscribeMessage('sync-camera')
  async onSyncCamera(@ConnectedSocket() client: WebSocket, @MessageBody() data: object) {
    const body = assertValid(SyncCameraDto, data, 'sync-camera');
    // The outcome reaches every page as camera-sync events and the status; nothing more to answer.
    await this.cameras.sync(this.page(client).caller, body.id, 'requested from a page', body.confirm === true);
    return undefined;
  }

  @SubscribeMessage('use-client-time')
  async onUseClientTime(@ConnectedSocket() client: WebSocket, @MessageBody() data: object) {
    assertEmpty(data, 'use-client-time');
    const page = this.page(client);
    // A phone offers its own time; the Pi's own screen has none to offer and answers for the phone in the decision.
    await this.service.useClientTime(page.caller, page.trusted ? page.id : null);
    return undefined;
  }

  /** The same as POST /api/session/start: the answer (cameras after the start's corrections) comes back to this page; every page sees the status change. */
  @SubscribeMessage('session-start')
  async onSessionStart(@ConnectedSocket() client: WebSocket, @MessageBody() data: object) {
    const body = assertValid(SessionStartDto, data, 'session-start');
    const result = await this.sessions.start(this.page(client).caller, body);
    return { type: 'session-result', timestamp: this.iso(), data: { action: 'start', session: result } };
  }

  /** The same as POST /api/session/stop: the report comes back to this page. */
  @SubscribeMessage('session-stop')
  async onSessionStop(@ConnectedSocket() client: WebSocket, @MessageBody() data: object) {
    assertEmpty(data, 'session-stop');
    const report = await this.sessions.stop(this.page(client).caller);
    return { type: 'session-result', timestamp: this.iso(), data: { action: 'stop', report } };
  }

  @SubscribeMessage(INVALID_FRAME)
  onInvalidFrame(@MessageBody() data: { code: string; message: string }): never {
    throw new DomainError(data.code as DomainError['code'], data.message);
  }

  /** Over its budget: told once (RATE_LIMITED), logged once per interval, closed; its buffered frames are dropped. */
  private shed(client: WebSocket, page: Page, over: 'frames' | 'bytes'): void {
    page.shed = true;
    shed(client);
    const limit = over === 'frames' ? `${this.config.WS_MAX_FRAMES_PER_SECOND} frames` : `${this.config.WS_MAX_BYTES_PER_SECOND} bytes`;
    const message = `${page.caller.address} sent more than ${limit} per second over the WebSocket; the connection was closed`;
    this.refusals.note(page.caller.address, ErrorCode.RATE_LIMITED, message, { connection: page.id });
    page.send({ type: 'error', data: { code: ErrorCode.RATE_LIMITED, message } });
    client.close(1008, ErrorCode.RATE_LIMITED);
    // Stop reading what it still sends; the close handshake gets a moment, then the socket is cut.
    client.pause();
    setTimeout(() => client.terminate(), SHED_GRACE_MS).unref();
  }

  // ---- one way out ----------------------------------------------------------------------------------

  private onEvent(event: DomainEvent): void {
    if (event.name === 'activity') {
      this.broadcast({ type: 'activity_log', timestamp: this.iso(), data: { entries: [event.data], full: false } });
      return;
    }
    if (EVENT_FRAMES.has(event.name)) {
      const data = event.name === 'camera-connected' || event.name === 'camera-disconnected' ? { ...event.data, cameraId: event.data.id } : event.data;
      this.broadcast({ type: 'event', eventType: event.name, timestamp: this.iso(), data } as ServerFrame);
    }
    this.statusSoon();
  }

  private statusSoon(): void {
    if (this.statusDue || !this.pages.size) return;
    this.statusDue = setImmediate(() => {
      this.statusDue = null;
      void this.broadcastStatus();
    });
  }

  /**
   * Each page gets the status with its own `canSetTime` and `screen`; the activity log travels in its own frames.
   * Serialized once per (canSetTime, screen), not once per page: with 200 pages that was most of the cost of a change.
   */
  private async broadcastStatus(): Promise<void> {
    const { activityLog: _log, ...base } = await this.service.status();
    const timestamp = this.iso();
    const texts = new Map<string, Buffer>();
    for (const [client, page] of this.pages) {
      const canSetTime = this.access.maySetTime(page.caller);
      const key = `${canSetTime}/${page.screen}`;
      let text = texts.get(key);
      if (text === undefined) texts.set(key, (text = Buffer.from(JSON.stringify({ type: 'time-sync-status', timestamp, data: { ...base, canSetTime, screen: page.screen } } satisfies ServerFrame))));
      if (client.readyState === client.OPEN) client.send(text, TEXT_FRAME);
    }
  }

  private async statusFor(page: Page): Promise<ServerFrame> {
    const { activityLog: _log, ...data } = await this.service.status(page.caller);
    return { type: 'time-sync-status', timestamp: this.iso(), data };
  }

  /**
   * One frame for every page: serialised and UTF-8 encoded once, then the same bytes handed to each socket (ws
   * only adds its 2-4 byte header per page). Timed apart (`fanout-serialise`, `fanout-send`).
   */
  private broadcast(frame: ServerFrame): void {
    const t0 = this.clock.monotonic();
    const bytes = Buffer.from(JSON.stringify(frame));
    const t1 = this.clock.monotonic();
    for (const client of this.pages.keys()) if (client.readyState === client.OPEN) client.send(bytes, TEXT_FRAME);
    this.durations.record('fanout-serialise', t1 - t0);
    this.durations.record('fanout-send', this.clock.monotonic() - t1);
  }

  private page(client: WebSocket): Page {
    return this.pages.get(client) ?? { id: '', caller: { address: '', kioskToken: null }, screen: Screen.Other, trusted: false, send: () => 0 };
  }

  private iso(): string {
    return new Date(this.clock.now()).toISOString();
  }
}

function byteLength(data: Buffer | ArrayBuffer | Buffer[]): number {
  if (Array.isArray(data)) return data.reduce((n, b) => n + b.length, 0);
  return data instanceof ArrayBuffer ? data.byteLength : data.length;
}
