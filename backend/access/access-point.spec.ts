import { NetworkInterfaceInfo } from 'node:os';
import { AppConfig } from '../config/app.config';
import { CommandError, CommandOptions, CommandOutput, CommandRunner } from '../system-clock/timedatectl-clock';
import { AP_MODE_REFRESH_MS, AccessPointPolicy, InterfaceMode, InterfaceModeDetector, IwModeDetector, NetworkInterfaces, normalizeAddress, parseIwInfo } from './access-point';

type Ifaces = ReturnType<NetworkInterfaces['list']>;

class FakeDetector extends InterfaceModeDetector {
  calls: string[] = [];
  constructor(public answer: InterfaceMode | Error = 'ap') {
    super();
  }
  async mode(name: string): Promise<InterfaceMode> {
    this.calls.push(name);
    if (this.answer instanceof Error) throw this.answer;
    return this.answer;
  }
}

const v4 = (cidr: string, extra: Partial<NetworkInterfaceInfo> = {}): NetworkInterfaceInfo =>
  ({ address: cidr.split('/')[0], netmask: '', family: 'IPv4', mac: '', internal: false, cidr, ...extra }) as NetworkInterfaceInfo;
const v6 = (cidr: string, scopeid = 0): NetworkInterfaceInfo => ({ address: cidr.split('/')[0], netmask: '', family: 'IPv6', mac: '', internal: false, cidr, scopeid });

/** wlan0 as NetworkManager's shared access point leaves it, eth0 on the home network, loopback. */
const AP_WLAN0: Ifaces = {
  wlan0: [v4('10.42.0.1/24'), v6('fe80::ba27:ebff:fe01:2/64', 3)],
  eth0: [v4('192.168.1.20/24'), v6('fe80::1:2/64', 2)],
  lo: [v4('127.0.0.1/8', { internal: true })],
};

function policy(overrides: Partial<AppConfig>, ifaces: Ifaces | (() => Ifaces) = {}, detector = new FakeDetector()) {
  const config = Object.assign(new AppConfig(), overrides);
  const list = typeof ifaces === 'function' ? ifaces : () => ifaces;
  return { sut: new AccessPointPolicy(config, { list } as NetworkInterfaces, detector), detector };
}

describe(AccessPointPolicy.name, () => {
  afterEach(() => jest.useRealTimers());

  describe('the first-run demo (simulated clock, DEMO, no AP_SUBNETS)', () => {
    it('trusts loopback besides the access point, and lists it', async () => {
      const { sut } = policy({ CLOCK_BACKEND: 'simulated', DEMO: true }, AP_WLAN0);
      await sut.onModuleInit();
      sut.onModuleDestroy();
      for (const address of ['127.0.0.1', '::ffff:127.0.0.1', '::1', '127.0.0.2']) expect(sut.isAccessPointClient(address)).toBe(true);
      expect(sut.isAccessPointClient('10.42.0.7')).toBe(true);
      expect(sut.isAccessPointClient('192.168.1.30')).toBe(false);
      expect(sut.subnets()).toEqual(['127.0.0.0/8', '::1/128', '10.42.0.1/24', 'fe80::ba27:ebff:fe01:2/64%wlan0']);
    });

    it('never with the system backend, nor with DEMO off or an explicit AP_SUBNETS', async () => {
      for (const overrides of [{ CLOCK_BACKEND: 'system', DEMO: true }, { CLOCK_BACKEND: 'simulated', DEMO: false }, { CLOCK_BACKEND: 'simulated', DEMO: true, AP_SUBNETS: '10.42.0.0/24' }] as Partial<AppConfig>[]) {
        const { sut } = policy(overrides, {}, new FakeDetector('not-wireless'));
        await sut.onModuleInit();
        sut.onModuleDestroy();
        expect([sut.demoLoopback, sut.isAccessPointClient('127.0.0.1'), sut.isAccessPointClient('::1')]).toEqual([false, false, false]);
      }
    });
  });

  describe('with AP_SUBNETS (an explicit list)', () => {
    it('trusts addresses inside AP_SUBNETS, including IPv4-mapped IPv6', () => {
      const { sut } = policy({ AP_SUBNETS: '10.42.0.0/24, 192.168.4.0/24' });
      expect(sut.isAccessPointClient('10.42.0.23')).toBe(true);
      expect(sut.isAccessPointClient('::ffff:192.168.4.7')).toBe(true);
      expect(sut.isAccessPointClient('10.42.1.23')).toBe(false);
      expect(sut.isAccessPointClient('8.8.8.8')).toBe(false);
      expect(sut.subnets()).toEqual(['10.42.0.0/24', '192.168.4.0/24']);
    });

    it('never trusts loopback unless listed', () => {
      expect(policy({ AP_SUBNETS: '10.42.0.0/24' }).sut.isAccessPointClient('127.0.0.1')).toBe(false);
      expect(policy({ AP_SUBNETS: '10.42.0.0/24' }).sut.isAccessPointClient('::1')).toBe(false);
      expect(policy({ AP_SUBNETS: '127.0.0.1/32,::1/128' }).sut.isAccessPointClient('::ffff:127.0.0.1')).toBe(true);
      expect(policy({ AP_SUBNETS: '127.0.0.1/32,::1/128' }).sut.isAccessPointClient('::1')).toBe(true);
    });

    it('asks nothing about the interface: the list is the answer, whatever mode wlan0 is in', async () => {
      const { sut, detector } = policy({ AP_SUBNETS: '192.168.1.0/24' }, AP_WLAN0, new FakeDetector('client'));
      await sut.onModuleInit();
      expect(detector.calls).toEqual([]);
      expect(sut.isAccessPointClient('192.168.1.77')).toBe(true);
      sut.onModuleDestroy();
    });

    it('counts a listed link-local range only for addresses that arrived on AP_INTERFACE', () => {
      const { sut } = policy({ AP_SUBNETS: 'fe80::/10', AP_INTERFACE: 'wlan0' }, AP_WLAN0);
      expect(sut.isAccessPointClient('fe80::99%wlan0')).toBe(true);
      expect(sut.isAccessPointClient('fe80::99%eth0')).toBe(false);
      expect(sut.isAccessPointClient('fe80::99')).toBe(false);
    });
  });

  describe('from AP_INTERFACE, only while it is an access point', () => {
    it("trusts the access point's subnet once its mode has been read as AP", async () => {
      const { sut, detector } = policy({ AP_INTERFACE: 'wlan0' }, AP_WLAN0);
      expect(sut.isAccessPointClient('10.42.0.99')).toBe(false); // not read yet: nobody
      await sut.refresh();
      expect(detector.calls).toEqual(['wlan0']);
      expect(sut.isAccessPointClient('10.42.0.99')).toBe(true);
      expect(sut.isAccessPointClient('::ffff:10.42.0.7')).toBe(true);
      expect(sut.isAccessPointClient('192.168.1.50')).toBe(false); // eth0's network
      expect(sut.isAccessPointClient('127.0.0.1')).toBe(false);
      expect(sut.subnets()).toEqual(['10.42.0.1/24', 'fe80::ba27:ebff:fe01:2/64%wlan0']);
    });

    it.each<InterfaceMode>(['client', 'other', 'not-wireless', 'unknown'])('trusts nobody on wlan0 when it is %s (e.g. a Wi-Fi client of the home network)', async (mode) => {
      const home: Ifaces = { wlan0: [v4('192.168.1.31/24'), v6('fe80::5/64', 3)] };
      const { sut } = policy({ AP_INTERFACE: 'wlan0' }, home, new FakeDetector(mode));
      await sut.refresh();
      expect(sut.isAccessPointClient('192.168.1.44')).toBe(false);
      expect(sut.isAccessPointClient('fe80::44%wlan0')).toBe(false);
      expect(sut.subnets()).toEqual([]);
    });

    it('trusts nobody when the detector fails', async () => {
      const { sut } = policy({ AP_INTERFACE: 'wlan0' }, AP_WLAN0, new FakeDetector(new Error('boom')));
      await sut.refresh();
      expect(sut.isAccessPointClient('10.42.0.99')).toBe(false);
    });

    it('trusts nobody when the access point interface is missing', async () => {
      const { sut } = policy({ AP_INTERFACE: 'wlan0' }, {});
      await sut.refresh();
      expect(sut.isAccessPointClient('10.42.0.99')).toBe(false);
    });

    it('stops trusting at once when the addresses change, and reads the mode again before trusting the new ones', async () => {
      let now: Ifaces = AP_WLAN0;
      const { sut, detector } = policy({ AP_INTERFACE: 'wlan0' }, () => now);
      await sut.refresh();
      expect(sut.isAccessPointClient('10.42.0.99')).toBe(true);
      // wlan0 joins the home network: new addresses, mode not read yet.
      now = { wlan0: [v4('192.168.1.31/24')] };
      detector.answer = 'client';
      expect(sut.isAccessPointClient('192.168.1.44')).toBe(false);
      expect(sut.isAccessPointClient('10.42.0.99')).toBe(false);
      await sut.refresh(); // the read the change started
      expect(detector.calls).toEqual(['wlan0', 'wlan0']);
      expect(sut.isAccessPointClient('192.168.1.44')).toBe(false);
      // Back to an access point.
      now = AP_WLAN0;
      detector.answer = 'ap';
      expect(sut.isAccessPointClient('10.42.0.99')).toBe(false);
      await sut.refresh();
      expect(sut.isAccessPointClient('10.42.0.99')).toBe(true);
    });

    it('reads the mode at start and every AP_MODE_REFRESH_MS, so a mode change without new addresses is seen', async () => {
      jest.useFakeTimers();
      const { sut, detector } = policy({ AP_INTERFACE: 'wlan0' }, AP_WLAN0);
      await sut.onModuleInit();
      expect(sut.isAccessPointClient('10.42.0.99')).toBe(true);
      detector.answer = 'other';
      await jest.advanceTimersByTimeAsync(AP_MODE_REFRESH_MS);
      expect(detector.calls).toHaveLength(2);
      expect(sut.isAccessPointClient('10.42.0.99')).toBe(false);
      sut.onModuleDestroy();
      await jest.advanceTimersByTimeAsync(3 * AP_MODE_REFRESH_MS);
      expect(detector.calls).toHaveLength(2);
    });

    it("trusts an IPv6 link-local address only with the access point's zone, by name or by index", async () => {
      const { sut } = policy({ AP_INTERFACE: 'wlan0' }, AP_WLAN0);
      await sut.refresh();
      expect(sut.isAccessPointClient('fe80::1234%wlan0')).toBe(true);
      expect(sut.isAccessPointClient('fe80::1234%3')).toBe(true); // wlan0's scope id
      expect(sut.isAccessPointClient('fe80::1234%eth0')).toBe(false);
      expect(sut.isAccessPointClient('fe80::1234%2')).toBe(false);
      expect(sut.isAccessPointClient('fe80::1234')).toBe(false); // no zone: could be any interface
      expect(sut.isAccessPointClient('febf::1%wlan0')).toBe(true); // still fe80::/10
    });

    it('does not derive IPv4 link-local (169.254/16) from the interface: every interface has it and it has no zone', async () => {
      const { sut } = policy({ AP_INTERFACE: 'wlan0' }, { wlan0: [v4('169.254.10.1/16'), v4('10.42.0.1/24')] });
      await sut.refresh();
      expect(sut.isAccessPointClient('169.254.3.3')).toBe(false);
      expect(sut.isAccessPointClient('10.42.0.3')).toBe(true);
    });
  });

  it('rejects missing and malformed addresses', () => {
    const { sut } = policy({ AP_SUBNETS: '0.0.0.0/0' });
    expect(sut.isAccessPointClient(undefined)).toBe(false);
    expect(sut.isAccessPointClient('')).toBe(false);
    expect(sut.isAccessPointClient('not-an-ip')).toBe(false);
    expect(sut.isAccessPointClient('%wlan0')).toBe(false);
  });

  it('normalizes only IPv4-mapped addresses and keeps zones', () => {
    expect(normalizeAddress('::ffff:10.0.0.1')).toBe('10.0.0.1');
    expect(normalizeAddress('fe80::1')).toBe('fe80::1');
    expect(normalizeAddress('fe80::1%wlan0')).toBe('fe80::1%wlan0');
  });
});

describe(parseIwInfo.name, () => {
  const info = (type: string) => `Interface wlan0\n\tifindex 3\n\twdev 0x1\n\taddr b8:27:eb:01:02:03\n\tssid TimeSync\n\ttype ${type}\n\twiphy 0\n\tchannel 6 (2437 MHz), width: 20 MHz, center1: 2437 MHz\n\ttxpower 31.00 dBm\n`;

  it.each([
    ['AP', 'ap'],
    ['managed', 'client'],
    ['P2P-GO', 'other'],
    ['monitor', 'other'],
    ['mesh point', 'other'],
  ])('reads "type %s" as %s', (type, mode) => {
    expect(parseIwInfo(info(type))).toBe(mode);
  });

  it('says unknown when there is no type line', () => {
    expect(parseIwInfo('')).toBe('unknown');
  });
});

describe(IwModeDetector.name, () => {
  /** Answers exactly the expected calls, in order; anything else fails the test. */
  class StrictRunner extends CommandRunner {
    constructor(private readonly script: Array<[file: string, args: string[], answer: CommandOutput | CommandError]>) {
      super();
    }
    override async run(file: string, args: readonly string[], _options?: CommandOptions): Promise<CommandOutput> {
      const next = this.script.shift();
      if (!next) throw new Error(`unexpected call: ${file} ${args.join(' ')}`);
      expect([file, [...args]]).toEqual([next[0], next[1]]);
      if (next[2] instanceof CommandError) throw next[2];
      return next[2];
    }
    done(): void {
      expect(this.script).toEqual([]);
    }
  }

  it('asks iw and reads its type line', async () => {
    const runner = new StrictRunner([['iw', ['dev', 'wlan0', 'info'], { stdout: 'Interface wlan0\n\ttype AP\n', stderr: '' }]]);
    expect(await new IwModeDetector(runner).mode('wlan0')).toBe('ap');
    runner.done();
  });

  it('says not-wireless when iw reports no such device (a wired or missing interface)', async () => {
    const error = new CommandError({ file: 'iw', args: [], reason: 'exit', exitCode: 237, stderr: 'command failed: No such device (-19)\n' });
    const runner = new StrictRunner([['iw', ['dev', 'eth0', 'info'], error]]);
    expect(await new IwModeDetector(runner).mode('eth0')).toBe('not-wireless');
    runner.done();
  });

  it('asks NetworkManager when iw is not installed', async () => {
    const runner = new StrictRunner([
      ['iw', ['dev', 'wlan0', 'info'], new CommandError({ file: 'iw', args: [], reason: 'not-found' })],
      ['nmcli', ['-g', 'GENERAL.TYPE,GENERAL.CONNECTION', 'device', 'show', 'wlan0'], { stdout: 'wifi\npi-camera-timesync-ap\n', stderr: '' }],
      ['nmcli', ['-g', '802-11-wireless.mode', 'connection', 'show', 'pi-camera-timesync-ap'], { stdout: 'ap\n', stderr: '' }],
    ]);
    expect(await new IwModeDetector(runner).mode('wlan0')).toBe('ap');
    runner.done();
  });

  it('reads an infrastructure connection as a client, and unknown when neither tool answers', async () => {
    const client = new StrictRunner([
      ['iw', ['dev', 'wlan0', 'info'], new CommandError({ file: 'iw', args: [], reason: 'not-found' })],
      ['nmcli', ['-g', 'GENERAL.TYPE,GENERAL.CONNECTION', 'device', 'show', 'wlan0'], { stdout: 'wifi\nHome\n', stderr: '' }],
      ['nmcli', ['-g', '802-11-wireless.mode', 'connection', 'show', 'Home'], { stdout: 'infrastructure\n', stderr: '' }],
    ]);
    expect(await new IwModeDetector(client).mode('wlan0')).toBe('client');
    const none = new StrictRunner([
      ['iw', ['dev', 'wlan0', 'info'], new CommandError({ file: 'iw', args: [], reason: 'not-found' })],
      ['nmcli', ['-g', 'GENERAL.TYPE,GENERAL.CONNECTION', 'device', 'show', 'wlan0'], new CommandError({ file: 'nmcli', args: [], reason: 'not-found' })],
    ]);
    expect(await new IwModeDetector(none).mode('wlan0')).toBe('unknown');
  });

  it('never passes a strange interface name to a program', async () => {
    const runner = new StrictRunner([]);
    expect(await new IwModeDetector(runner).mode('wlan0; reboot')).toBe('not-wireless');
    expect(await new IwModeDetector(runner).mode('-h')).toBe('not-wireless');
  });
});
