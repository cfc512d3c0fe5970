import { OnModuleDestroy, UseFilters } from '@nestjs/common';
import { ConnectedSocket, MessageBody, OnGatewayConnection, OnGatewayDisconnect, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Subscription } from 'rxjs';
import type { WebSocket } from 'ws';
import { ActivityLogService } from '../activity-log/activity-log.service';
import { DomainError } from '../common/domain-error';
import { WsErrorFilter } from '../common/error-filters';
import { EventBus } from '../common/event-bus';
import { assertEmpty, assertValid } from '../common/validate';
import { ServerFrame } from '../protocol/messages';
import { Clock } from '../time/clock';
import { AccessPointPolicy, normalizeAddress } from './access-point';
import { CameraClockPort } from './camera-port';
import { ManualTimeDto, TimeSyncResponseDto } from './dto/time-sync.dto';
import { TimeSyncService } from './time-sync.service';
import { arrivalOf, INVALID_FRAME } from './ws-frames';

/** Frames above this are closed by ws itself; frames between MAX_FRAME_BYTES and this get an error frame. */
const HARD_PAYLOAD_LIMIT = 1024 * 1024;

/** `/ws`: the design's frames; every page gets the status and the activity log on connect. */
@UseFilters(WsErrorFilter)
@WebSocketGateway({ path: '/ws', maxPayload: HARD_PAYLOAD_LIMIT })
export class TimeSyncGateway implements OnGatewayConnection, OnGatewayDisconnect, OnModuleDestroy {
  private readonly ids = new WeakMap<WebSocket, { id: string; address: string }>();
  private readonly clients = new Set<WebSocket>();
  private readonly subscription: Subscription;

  constructor(
    private readonly service: TimeSyncService,
    private readonly clock: Clock,
    private readonly accessPoint: AccessPointPolicy,
    private readonly activity: ActivityLogService,
    bus: EventBus,
    private readonly camera: CameraClockPort,
  ) {
    this.subscription = bus.frames$.subscribe((frame) => this.broadcast(frame));
  }

  onModuleDestroy(): void {
    this.subscription.unsubscribe();
  }

  /** Synchronous on purpose: the page is known to the service before its first frame can be handled. */
  handleConnection(client: WebSocket, request: IncomingMessage): void {
    const address = normalizeAddress(request.socket.remoteAddress ?? '');
    const id = randomUUID();
    this.ids.set(client, { id, address });
    this.clients.add(client);
    const send = (frame: ServerFrame): number => {
      const text = JSON.stringify(frame);
      // Stamped as the frame is handed to the socket: a probe's send time is part of the round trip.
      const sentMono = this.clock.monotonic();
      if (client.readyState === client.OPEN) client.send(text);
      return sentMono;
    };
    this.service.connect({ id, address, trusted: this.accessPoint.isAccessPointClient(address), send });
    void this.service.status(address).then((data) => {
      send({ type: 'time-sync-status', timestamp: new Date(this.clock.now()).toISOString(), data });
      send(this.activity.frame());
    });
  }

  handleDisconnect(client: WebSocket): void {
    const known = this.ids.get(client);
    this.clients.delete(client);
    if (known) this.service.disconnect(known.id);
  }

  @SubscribeMessage('time-sync-response')
  onTimeSyncResponse(@ConnectedSocket() client: WebSocket, @MessageBody() data: object): void {
    const receivedMono = arrivalOf(data) ?? this.clock.monotonic();
    assertValid(TimeSyncResponseDto, data, 'time-sync-response');
    this.service.handleResponse(this.who(client).id, data as TimeSyncResponseDto, receivedMono);
  }

  @SubscribeMessage('manual-time-sync')
  async onManualTimeSync(@ConnectedSocket() client: WebSocket, @MessageBody() data: object) {
    const receivedMono = arrivalOf(data) ?? this.clock.monotonic();
    const body = assertValid(ManualTimeDto, data, 'manual-time-sync');
    const result = await this.service.setManually(this.who(client).address, body, receivedMono);
    return { type: 'manual-time-sync-result', timestamp: new Date(this.clock.now()).toISOString(), data: { success: true, ...result } };
  }

  @SubscribeMessage('get-time-sync-status')
  async onGetStatus(@ConnectedSocket() client: WebSocket, @MessageBody() data: object) {
    assertEmpty(data, 'get-time-sync-status');
    return { type: 'time-sync-status', timestamp: new Date(this.clock.now()).toISOString(), data: await this.service.status(this.who(client).address) };
  }

  @SubscribeMessage('sync-camera')
  async onSyncCamera(@MessageBody() data: object) {
    assertEmpty(data, 'sync-camera');
    await this.camera.syncClock('requested from the page');
    return undefined;
  }

  @SubscribeMessage(INVALID_FRAME)
  onInvalidFrame(@MessageBody() data: { code: string; message: string }): never {
    throw new DomainError(data.code as DomainError['code'], data.message);
  }

  private who(client: WebSocket): { id: string; address: string } {
    return this.ids.get(client) ?? { id: '', address: '' };
  }

  private broadcast(frame: ServerFrame): void {
    const text = JSON.stringify(frame);
    for (const client of this.clients) if (client.readyState === client.OPEN) client.send(text);
  }
}
