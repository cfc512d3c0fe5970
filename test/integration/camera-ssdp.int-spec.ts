import { firstValueFrom, filter, take, toArray } from 'rxjs';
import { CANON_SEARCH_TARGET, SsdpDiscovery, SsdpEvent, SsdpOptions } from '../../backend/camera/ssdp';
import { CameraStatus } from '../../backend/protocol/messages';
import { SsdpHub } from '../camera-sim/sim-ssdp';
import { CameraSim, startCameraSim, startCameraSims } from '../camera-sim/sim';
import { cameraConfig, newService, ServiceHarness } from './camera-harness';

jest.setTimeout(20_000);

/**
 * Everything on loopback: M-SEARCH goes unicast to the simulator's responder, NOTIFY comes unicast to us. Loopback
 * is where cameras may be here, on the simulators' own ports.
 */
const loopback = (sim: CameraSim, ...sims: CameraSim[]): Partial<SsdpOptions> => ({
  admit: (address) => address === '127.0.0.1',
  accessPorts: [sim, ...sims].flatMap((s) => [s.httpUrl, s.httpsUrl].filter((u): u is string => u !== null).map((u) => Number(new URL(u).port))),
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
    const found: SsdpEvent[] = [];
    sut.events$.subscribe((e) => found.push(e));
    const [camera, ...more] = await sut.search(1000);
    expect(more).toEqual([]);
    expect(found).toEqual([{ type: 'found', camera }]);
    expect(camera).toEqual({
      address: '127.0.0.1',
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
    await expect(lonely.search(300)).resolves.toEqual([]);
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
    await expect(byebye).resolves.toEqual({ type: 'byebye', usn: `${sim.usn}::${CANON_SEARCH_TARGET}`, from: '127.0.0.1' });
  });
});

describe('CameraService with discovery (no CAMERA_URL)', () => {
  let sims: CameraSim[];
  let hub: SsdpHub;
  let h: ServiceHarness;

  /** Two cameras on a loopback "network": the search goes to the hub and each camera answers from its own socket. */
  beforeEach(async () => {
    sims = await startCameraSims(2, { ssdpPort: 0 }, (i) => ({ advertise: i ? 'https' : 'http', clockOffsetMs: i ? 5_000 : -5_000 }));
    hub = new SsdpHub(sims.map((sim) => sim.ssdp!.responder));
    const port = await hub.start();
    h = newService(cameraConfig({ CAMERA_URL: undefined, CAMERA_DISCOVERY: true }), { ssdp: { ...loopback(sims[0], sims[1]), searchPort: port } });
  });
  afterEach(async () => {
    h.close();
    await hub.close();
    await Promise.all(sims.map((sim) => sim.close()));
  });

  const target = () => ({ address: '127.0.0.1', port: h.ssdp.listenPort });

  it('adopts every camera that answers the search, at the advertised URL, and syncs them together', async () => {
    await h.service.check();
    expect(h.service.statuses().map((s) => [s.id, s.state, s.baseUrl]).sort()).toEqual([
      ['083021000123', 'connected', `${sims[0].httpUrl}/ccapi`],
      ['083021000124', 'connected', `${sims[1].httpsUrl}/ccapi`],
    ]);
    expect(h.service.statuses().map((s) => s.info?.guid).sort()).toEqual(sims.map((sim) => sim.usn.slice(5)).sort());
    const outcomes = await h.service.syncAll('test');
    expect(outcomes.map((o) => o.success)).toEqual([true, true]);
    expect(hub.received[0]).toContain(`ST: ${CANON_SEARCH_TARGET}`);
  });

  it('adopts a camera that announces itself at once, while a search is still waiting for answers', async () => {
    await hub.close(); // nobody answers searches now: each one waits its whole MX
    h.service.start();
    await new Promise<void>((resolve) => {
      const wait = () => (h.ssdp.searching && h.ssdp.listenPort ? resolve() : setTimeout(wait, 5));
      wait();
    });
    const adopted = firstValueFrom(h.service.connection$.pipe(filter((s: CameraStatus) => s.state === 'connected')));
    await sims[1].notify('alive', target());
    const status = await adopted;
    // Connected before the search that was running when the camera spoke has ended.
    expect(h.ssdp.searching).toBe(true);
    expect(status).toMatchObject({ id: '083021000124', baseUrl: `${sims[1].httpsUrl}/ccapi` });
  });

  it('follows byebye: disconnected and not polled back, connected again when it announces itself', async () => {
    h.service.start();
    const both = firstValueFrom(h.service.connection$.pipe(take(2), toArray()));
    await both;
    const gone = firstValueFrom(h.service.connection$);
    await sims[0].notify('byebye', target());
    await expect(gone).resolves.toMatchObject({ id: '083021000123', state: 'disconnected', lastError: 'the camera signed off the network' });
    // A camera that signed off no longer answers searches either; it still answers HTTP, but is not polled back.
    hub.responders.splice(0, 1);
    const requests = sims[0].requests.length;
    await h.service.check();
    expect(sims[0].requests.length).toBe(requests);
    expect(h.service.statuses().map((s) => [s.id, s.state])).toEqual([
      ['083021000124', 'connected'],
      ['083021000123', 'disconnected'],
    ]);
    const back = firstValueFrom(h.service.connection$);
    await sims[0].notify('alive', target());
    await expect(back).resolves.toMatchObject({ id: '083021000123', state: 'connected' });
    expect(h.service.statuses()).toHaveLength(2);
  });
});
