import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import request from 'supertest';
import { CameraModule } from '../../backend/camera/camera.module';
import { CameraService } from '../../backend/camera/camera.service';
import { CommonModule } from '../../backend/common/common.module';
import { HttpErrorFilter } from '../../backend/common/error-filters';
import { AppConfig } from '../../backend/config/app.config';
import { AppConfigModule } from '../../backend/config/config.module';
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
      .useValue(cameraConfig({ CAMERA_URL: sim.httpUrl, CAMERA_POLL_INTERVAL: 600_000, DATA_DIR: '/tmp/camera-http-int-spec' }))
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

  it('GET /api/camera gives the status', async () => {
    await camera.check();
    const res = await request(app.getHttpServer()).get('/api/camera').expect(200);
    expect(res.body).toMatchObject({ connected: true, baseUrl: `${sim.httpUrl}/ccapi`, info: { productName: 'Canon EOS R50' } });
  });

  it('POST /api/timesync/camera syncs and answers 200 with the result', async () => {
    await camera.check();
    const res = await request(app.getHttpServer()).post('/api/timesync/camera').expect(200);
    expect(res.body).toMatchObject({ success: true, timezone: 'Asia/Kolkata', datetime: expect.stringMatching(/\+0530$/), dst: false });
    expect(res.body.offset).toBeGreaterThan(4000);
    expect(Math.abs(sim.clock.errorMs())).toBeLessThan(50);
  });

  it('answers 503 CAMERA_BUSY in plain words when the camera is busy', async () => {
    await camera.check();
    sim.setFault({ kind: 'status', status: 503, message: 'Device busy' }, { path: 'datetime' });
    const res = await request(app.getHttpServer()).post('/api/timesync/camera').expect(503);
    expect(res.body).toEqual({ statusCode: 503, code: 'CAMERA_BUSY', message: 'Camera is busy: Device busy' });
    sim.setFault(null);
  });

  it('answers 409 NO_CAMERA once the camera is gone', async () => {
    camera.stop();
    await camera.check();
    sim.setFault({ kind: 'reset' });
    await camera.check();
    await camera.check();
    expect(camera.isConnected()).toBe(false);
    const res = await request(app.getHttpServer()).post('/api/timesync/camera').expect(409);
    expect(res.body).toEqual({ statusCode: 409, code: 'NO_CAMERA', message: 'no camera connected' });
    sim.setFault(null);
  });

  it('is documented in Swagger', () => {
    const doc = SwaggerModule.createDocument(app, new DocumentBuilder().build());
    expect(Object.keys(doc.paths['/api/timesync/camera'].post!.responses)).toEqual(expect.arrayContaining(['200', '409', '503', '502', '504']));
    expect(doc.paths['/api/camera'].get!.responses['200']).toBeDefined();
    expect(doc.components?.schemas?.CameraSyncResultDto).toBeDefined();
  });
});
