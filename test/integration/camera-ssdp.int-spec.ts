import { firstValueFrom, filter } from 'rxjs';
import { CANON_SEARCH_TARGET, SsdpDiscovery, SsdpOptions } from '../../backend/camera/ssdp';
import { CameraSim, startCameraSim } from '../camera-sim/sim';
import { cameraConfig, newService, ServiceHarness } from './camera-harness';

jest.setTimeout(20_000);

/** Everything on loopback: M-SEARCH goes unicast to the simulator's responder, NOTIFY comes unicast to us. */
const loopback = (sim: CameraSim): Partial<SsdpOptions> => ({
  searchAddress: '127.0.0.1',
  searchPort: sim.ssdp!.port,
  searchBindAddress: '127.0.0.1',
  listenAddress: '127.0.0.1',
  listenPort: 0,
  multicastGroup: null,
  mx: 1,
});

describe(`${SsdpDiscovery.name} over loopback`, () => {
  let sim: CameraSim;
  let sut: SsdpDiscovery;

  beforeEach(async () => {
    sim = await startCameraSim({ ssdpPort: 0, httpsPort: false });
    sut = new SsdpDiscovery(loopback(sim));
  });
  afterEach(async () => {
    sut.close();
    await sim.close();
  });

  it('finds the camera with a real M-SEARCH (real CRLF, Canon\'s search target) and reads X_accessURL (pitfall 16)', async () => {
    const camera = await sut.searchFirst(2000);
    expect(camera).toEqual({
      accessUrl: `${sim.httpUrl}/ccapi`,
      usn: `${sim.usn}::${CANON_SEARCH_TARGET}`,
      location: sim.descriptionUrl,
      friendlyName: 'Canon EOS R50',
      modelName: 'Canon EOS R50',
      serialNumber: '083021000123',
      udn: sim.usn,
      nickname: 'EOSR50',
      onService: false,
    });
    const search = sim.ssdp!.responder.received[0];
    expect(search.startsWith('M-SEARCH * HTTP/1.1\r\n')).toBe(true);
    expect(search).toContain(`\r\nST: ${CANON_SEARCH_TARGET}\r\n`);
    expect(search).toContain('\r\nMAN: "ssdp:discover"\r\n');
    expect(search.endsWith('\r\n\r\n')).toBe(true);
    expect(search).not.toContain('\\r\\n');
  });

  it('gives up quietly when no camera answers', async () => {
    const lonely = new SsdpDiscovery({ ...loopback(sim), searchPort: 9 });
    await expect(lonely.searchFirst(300)).resolves.toBeNull();
    lonely.close();
  });

  it('hears NOTIFY ssdp:alive (with the description read) and ssdp:byebye', async () => {
    expect(await sut.listen()).toBe(true);
    const target = { address: '127.0.0.1', port: sut.listenPort };
    const alive = firstValueFrom(sut.events$.pipe(filter((e) => e.type === 'alive')));
    await sim.notify('alive', target);
    await expect(alive).resolves.toEqual({ type: 'alive', camera: expect.objectContaining({ accessUrl: `${sim.httpUrl}/ccapi`, usn: `${sim.usn}::${CANON_SEARCH_TARGET}` }) });
    const byebye = firstValueFrom(sut.events$.pipe(filter((e) => e.type === 'byebye')));
    await sim.notify('byebye', target);
    await expect(byebye).resolves.toEqual({ type: 'byebye', usn: `${sim.usn}::${CANON_SEARCH_TARGET}` });
  });
});

describe('CameraService with discovery (no CAMERA_URL)', () => {
  let sim: CameraSim;
  let h: ServiceHarness;

  beforeEach(async () => {
    sim = await startCameraSim({ ssdpPort: 0, advertise: 'https' });
    h = newService(cameraConfig({ CAMERA_URL: undefined, CAMERA_DISCOVERY: true }), { ssdp: loopback(sim) });
  });
  afterEach(async () => {
    h.close();
    await sim.close();
  });

  it('searches, connects to the advertised URL and syncs over it', async () => {
    await h.service.check();
    expect(h.service.status()).toMatchObject({ connected: true, baseUrl: `${sim.httpsUrl}/ccapi` });
    await expect(h.service.syncClock('test')).resolves.toMatchObject({ success: true });
    expect(Math.abs(sim.clock.errorMs())).toBeLessThan(50);
  });

  it('connects when the camera announces itself and disconnects when it says goodbye', async () => {
    h.service.start();
    // Let the first search (which also finds it) run its course, then start from "gone".
    await firstValueFrom(h.service.connection$);
    const ssdp = (h.service as unknown as { ssdp: SsdpDiscovery }).ssdp;
    const target = { address: '127.0.0.1', port: ssdp.listenPort };
    const gone = firstValueFrom(h.service.connection$);
    await sim.notify('byebye', target);
    await expect(gone).resolves.toMatchObject({ connected: false, lastError: 'the camera signed off the network' });
    const back = firstValueFrom(h.service.connection$);
    await sim.notify('alive', target);
    await expect(back).resolves.toMatchObject({ connected: true });
  });
});
