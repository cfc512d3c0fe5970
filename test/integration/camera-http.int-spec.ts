import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import request from 'supertest';
import { CAMERA_ID_PATTERN } from '../../backend/camera/camera-id';
import { CameraModule } from '../../backend/camera/camera.module';
import { CameraService } from '../../backend/camera/camera.service';
import { CommonModule } from '../../backend/common/common.module';
import { HttpErrorFilter } from '../../backend/common/error-filters';
import { AppConfig } from '../../backend/config/app.config';
import { AppConfigModule } from '../../backend/config/config.module';
import { CameraState } from '../../backend/protocol/messages';
import { SystemClock } from '../../backend/system-clock/system-clock';
import { TimeModule } from '../../backend/time/time.module';
import { CameraSim, startCameraSim } from '../camera-sim/sim';
import { cameraConfig, ZoneOnlySystemClock } from './camera-harness';

jest.setTimeout(20_000);

/** CameraModule as Nest wires it (not the whole app), behind the HTTP error filter, against the simulator. */
describe('Camera REST API', () => {
  let sim: CameraSim;
  let app: INestApplication;
  let camera: CameraService;

  beforeAll(async () => {
    sim = await startCameraSim({ httpsPort: false, clockOffsetMs: -5_000 });
    const moduleRef = await Test.createTestingModule({ imports: [AppConfigModule, TimeModule, CommonModule, CameraModule] })
      .overrideProvider(AppConfig)
      .useValue(cameraConfig({ CAMERA_URL: `${sim.httpUrl},http://127.0.0.1:9`, CAMERA_POLL_INTERVAL: 600_000, DATA_DIR: '/tmp/camera-http-int-spec' }))
      .overrideProvider(SystemClock)
      .useValue(new ZoneOnlySystemClock('Asia/Kolkata'))
      .compile();
    moduleRef.useLogger(['error']);
    app = moduleRef.createNestApplication({ logger: ['error'] });
    app.useGlobalFilters(new HttpErrorFilter());
    await app.init();
    camera = app.get(CameraService);
  });
  afterAll(async () => {
    await app.close();
    await sim.close();
  });

  it('GET /api/cameras lists every camera by id; GET /api/camera gives the first', async () => {
    await camera.check();
    const list = (await request(app.getHttpServer()).get('/api/cameras').expect(200)).body;
    expect(list).toEqual([
      {
        id: '083021000123',
        state: 'connected',
        connected: true,
        baseUrl: `${sim.httpUrl}/ccapi`,
        info: { productName: 'Canon EOS R50', serialNumber: '083021000123', firmwareVersion: '1.2.0', manufacturer: 'Canon Inc.', guid: sim.usn.slice(5) },
        lastSync: null,
        lastError: null,
      },
      { id: '127.0.0.1_9', state: 'disconnected', connected: false, baseUrl: 'http://127.0.0.1:9/ccapi', info: null, lastSync: null, lastError: expect.stringContaining('refused the connection') },
    ]);
    const first = (await request(app.getHttpServer()).get('/api/camera').expect(200)).body;
    expect(first).toEqual(list[0]);
  });

  it('shows the last sync of each camera', async () => {
    await camera.check();
    await camera.syncAll('test');
    const [status] = (await request(app.getHttpServer()).get('/api/cameras').expect(200)).body;
    expect(status.lastSync).toEqual({ success: true, at: expect.any(String), offsetMs: expect.any(Number), residualMs: expect.any(Number), residualBoundMs: expect.any(Number), verified: true, written: true, outcome: 'written-verified' });
    expect(status.lastSync.offsetMs).toBeGreaterThan(4000);
  });

  it('has no unguarded write path: POST /api/timesync/camera belongs to TimeSync, with the access-point check', async () => {
    await request(app.getHttpServer()).post('/api/timesync/camera').expect(404);
  });

  it('is documented in Swagger, the state enum from the vocabulary', () => {
    const doc = SwaggerModule.createDocument(app, new DocumentBuilder().build());
    expect(doc.paths['/api/cameras'].get!.responses['200']).toBeDefined();
    expect(doc.paths['/api/camera'].get!.responses['200']).toBeDefined();
    const schema = doc.components?.schemas?.CameraStatusResponseDto as { properties: Record<string, { enum?: string[]; pattern?: string }> };
    expect(schema.properties.state.enum).toEqual(Object.values(CameraState));
    expect(schema.properties.id.pattern).toBe(CAMERA_ID_PATTERN.source);
  });
});
