import { AppConfig, cameraUrls, ConfigError, demoTrustsLoopback, demoWantsCamera, gpsdAddress, kioskTokenFile, maskCredentials, shownValue, validateConfig } from './app.config';

describe(validateConfig.name, () => {
  it('reads GPSD_ADDRESS (empty: no GPS) and GPS_OFFSET_MS', () => {
    expect(validateConfig({})).toMatchObject({ GPSD_ADDRESS: '127.0.0.1:2947', GPS_OFFSET_MS: 0 });
    expect(gpsdAddress(validateConfig({}).GPSD_ADDRESS)).toEqual({ host: '127.0.0.1', port: 2947 });
    expect(validateConfig({ GPSD_ADDRESS: '' }).GPSD_ADDRESS).toBe('');
    expect(gpsdAddress(validateConfig({ GPSD_ADDRESS: '  ' }).GPSD_ADDRESS)).toBeNull();
    expect(gpsdAddress(validateConfig({ GPSD_ADDRESS: '[::1]:12947' }).GPSD_ADDRESS)).toEqual({ host: '::1', port: 12947 });
    expect(gpsdAddress(validateConfig({ GPSD_ADDRESS: 'gps.lan' }).GPSD_ADDRESS)).toEqual({ host: 'gps.lan', port: 2947 });
    expect(validateConfig({ GPS_OFFSET_MS: '-120' }).GPS_OFFSET_MS).toBe(-120);
  });

  it.each([
    [{ GPSD_ADDRESS: '127.0.0.1:0' }, /GPSD_ADDRESS: "127.0.0.1:0" is not host:port/],
    [{ GPSD_ADDRESS: '127.0.0.1:99999' }, /GPSD_ADDRESS/],
    [{ GPSD_ADDRESS: 'tcp://127.0.0.1:2947' }, /GPSD_ADDRESS: "tcp:\/\/127.0.0.1:2947" is not host:port \(e.g. 127.0.0.1:2947/],
    [{ GPSD_ADDRESS: '::1:2947' }, /GPSD_ADDRESS/],
    [{ GPSD_ADDRESS: '[gps]:2947' }, /GPSD_ADDRESS/],
    [{ GPSD_ADDRESS: 'op:pw@gps:2947' }, /GPSD_ADDRESS: "\*\*\*@gps:2947"/],
    [{ GPS_OFFSET_MS: '2500' }, /GPS_OFFSET_MS="2500"/],
    [{ GPS_OFFSET_MS: '12.5' }, /GPS_OFFSET_MS/],
  ])('refuses %p, naming it', (env, message) => {
    expect(() => validateConfig(env)).toThrow(ConfigError);
    expect(() => validateConfig(env)).toThrow(message);
  });

  it('reads the time server settings: off by default; chrony with a leader to follow', () => {
    expect(validateConfig({})).toMatchObject({ TIME_SERVER: 'off', TIME_SERVER_FEED_PORT: 10123, CHRONYC: 'chronyc', TIME_SERVER_FALLBACK: 'none' });
    expect(validateConfig({})).toMatchObject({ NTP_FOLLOW: undefined, CHRONY_COMMAND_SOCKET: undefined });
    expect(validateConfig({ TIME_SERVER: 'chrony', NTP_FOLLOW: '10.42.0.1', TIME_SERVER_FALLBACK: 'settime', TIME_SERVER_FEED_PORT: '11123' })).toMatchObject({ TIME_SERVER: 'chrony', NTP_FOLLOW: '10.42.0.1', TIME_SERVER_FALLBACK: 'settime', TIME_SERVER_FEED_PORT: 11123 });
    expect(validateConfig({ TIME_SERVER: 'chrony', NTP_FOLLOW: 'leader-pi.local' }).NTP_FOLLOW).toBe('leader-pi.local');
  });

  it.each([
    [{ TIME_SERVER: 'ntpd' }, /TIME_SERVER="ntpd"/],
    [{ NTP_FOLLOW: '10.42.0.1' }, /NTP_FOLLOW: this Pi follows another through chrony; it needs TIME_SERVER=chrony/],
    [{ TIME_SERVER: 'chrony', NTP_FOLLOW: '10.42.0.1,10.42.0.2' }, /NTP_FOLLOW: .* names more than one server/],
    [{ TIME_SERVER: 'chrony', NTP_FOLLOW: 'ntp://10.42.0.1' }, /NTP_FOLLOW: "ntp:\/\/10.42.0.1" is not a host name or IP address/],
    [{ TIME_SERVER_FEED_PORT: '123' }, /TIME_SERVER_FEED_PORT/],
    [{ TIME_SERVER_FALLBACK: 'timedated' }, /TIME_SERVER_FALLBACK/],
  ])('refuses %p, naming it', (env, message) => {
    expect(() => validateConfig(env)).toThrow(message);
  });

  it('gives the design defaults for an empty environment', () => {
    const config = validateConfig({});
    expect(config).toBeInstanceOf(AppConfig);
    expect(config).toMatchObject({ TIME_SYNC_THRESHOLD: 1000, TIME_SYNC_INTERVAL: 1_800_000, TIME_SYNC_RETRY_DELAY: 5000, PORT: 3000, CLOCK_BACKEND: 'simulated', DATA_DIR: './data', CAMERA_SYNC_ON_CONNECT: true });
    expect(config).toMatchObject({ WS_MAX_FRAMES_PER_SECOND: 100, WS_MAX_BYTES_PER_SECOND: 65_536, HTTP_MAX_WRITES_PER_SECOND: 20 });
    expect(config).toMatchObject({ CAMERA_SYNC_THRESHOLD: 100, CAMERA_CHECK_INTERVAL: 600_000, CAMERA_SPREAD_GOAL_MS: 20 });
  });

  it('reads the hardware clock settings: the sysfs folder (empty: off, not the default) and the drift bound', () => {
    expect(validateConfig({})).toMatchObject({ RTC_SYSFS: '/sys/class/rtc/rtc0', RTC_DRIFT_PPM: 20 });
    expect(validateConfig({ RTC_SYSFS: '' }).RTC_SYSFS).toBe('');
    expect(validateConfig({ RTC_SYSFS: '/tmp/fake-rtc', RTC_DRIFT_PPM: '2.5' })).toMatchObject({ RTC_SYSFS: '/tmp/fake-rtc', RTC_DRIFT_PPM: 2.5 });
    for (const bad of ['0', '0.05', '1001', 'fast', 'Infinity']) expect(() => validateConfig({ RTC_DRIFT_PPM: bad })).toThrow(/RTC_DRIFT_PPM/);
  });

  it('reads the camera spread goal, 0 (no re-write) included', () => {
    expect(validateConfig({ CAMERA_SPREAD_GOAL_MS: '0' })).toMatchObject({ CAMERA_SPREAD_GOAL_MS: 0 });
    expect(validateConfig({ CAMERA_SPREAD_GOAL_MS: '35' })).toMatchObject({ CAMERA_SPREAD_GOAL_MS: 35 });
  });

  it('turns the first-run demo on with the simulated clock only, each part yielding to an explicit setting', () => {
    const first = validateConfig({});
    expect(first.DEMO).toBe(true);
    expect([demoTrustsLoopback(first), demoWantsCamera(first)]).toEqual([true, true]);
    const explicit = validateConfig({ AP_SUBNETS: '10.42.0.0/24', CAMERA_URL: 'http://192.168.4.2:8080' });
    expect([demoTrustsLoopback(explicit), demoWantsCamera(explicit)]).toEqual([false, false]);
    const off = validateConfig({ DEMO: 'false' });
    expect([off.DEMO, demoTrustsLoopback(off), demoWantsCamera(off)]).toEqual([false, false, false]);
    // The Pi: never, whatever else is (not) set.
    const pi = validateConfig({ CLOCK_BACKEND: 'system' });
    expect([pi.DEMO, demoTrustsLoopback(pi), demoWantsCamera(pi)]).toEqual([false, false, false]);
    expect(validateConfig({ CLOCK_BACKEND: 'system', DEMO: 'false' }).DEMO).toBe(false);
    // A config built by hand (unit tests) is no demo unless it says so.
    expect(demoTrustsLoopback(new AppConfig())).toBe(false);
  });

  it('refuses DEMO=true with the system backend, naming both settings', () => {
    expect(() => validateConfig({ CLOCK_BACKEND: 'system', DEMO: 'true' })).toThrow(ConfigError);
    expect(() => validateConfig({ CLOCK_BACKEND: 'system', DEMO: 'true' })).toThrow(/DEMO=true.*CLOCK_BACKEND=simulated/);
    expect(() => validateConfig({ DEMO: 'sometimes' })).toThrow(/DEMO/);
  });

  it('reads the camera threshold and check interval, 0 included', () => {
    expect(validateConfig({ CAMERA_SYNC_THRESHOLD: '0', CAMERA_CHECK_INTERVAL: '0' })).toMatchObject({ CAMERA_SYNC_THRESHOLD: 0, CAMERA_CHECK_INTERVAL: 0 });
    expect(validateConfig({ CAMERA_SYNC_THRESHOLD: '250', CAMERA_CHECK_INTERVAL: '60000' })).toMatchObject({ CAMERA_SYNC_THRESHOLD: 250, CAMERA_CHECK_INTERVAL: 60_000 });
  });

  it('reads typed values', () => {
    const config = validateConfig({ PORT: '8080', SIMULATED_CLOCK_OFFSET_MS: '-259200000', CAMERA_SYNC_ON_CONNECT: 'false', AP_SUBNETS: '10.42.0.0/24,::1/128', CLOCK_BACKEND: 'system' });
    expect(config).toMatchObject({ PORT: 8080, SIMULATED_CLOCK_OFFSET_MS: -259200000, CAMERA_SYNC_ON_CONNECT: false, CLOCK_BACKEND: 'system' });
  });

  it.each([
    [{ PORT: 'abc' }, /PORT="abc"/],
    [{ PORT: '70000' }, /PORT/],
    [{ CLOCK_BACKEND: 'sundial' }, /CLOCK_BACKEND="sundial"/],
    [{ TIME_SYNC_THRESHOLD: '-5' }, /TIME_SYNC_THRESHOLD/],
    [{ TIME_SYNC_INTERVAL: '1.5' }, /TIME_SYNC_INTERVAL/],
    [{ AP_SUBNETS: '10.42.0.0' }, /AP_SUBNETS/],
    [{ AP_SUBNETS: '10.42.0.0/40' }, /AP_SUBNETS/],
    [{ CAMERA_URL: 'ftp://camera' }, /CAMERA_URL: "ftp:\/\/camera" is not an http:\/\/ or https:\/\/ URL/],
    [{ CAMERA_URL: 'http://192.168.4.2:8080,camera.local' }, /CAMERA_URL: "camera.local" is not a URL/],
    [{ CAMERA_URL: 'http://192.168.4.2:8080, ftp://192.168.4.3' }, /"ftp:\/\/192.168.4.3"/],
    [{ CAMERA_URL: 'http://192.168.4.2:8080,http://192.168.4.2:8080/ccapi/' }, /"http:\/\/192.168.4.2:8080\/ccapi\/" is listed twice/],
    [{ CAMERA_URL: 'http://admin:secret@192.168.4.2:8080' }, /CAMERA_USER/],
    [{ CAMERA_URL: ' , ' }, /CAMERA_URL: " , " names no URL/],
    [{ CAMERA_SYNC_ON_CONNECT: 'maybe' }, /CAMERA_SYNC_ON_CONNECT/],
    [{ WS_MAX_FRAMES_PER_SECOND: '10' }, /WS_MAX_FRAMES_PER_SECOND="10"/],
    [{ WS_MAX_FRAMES_PER_SECOND: 'lots' }, /WS_MAX_FRAMES_PER_SECOND/],
    [{ WS_MAX_BYTES_PER_SECOND: '1000' }, /WS_MAX_BYTES_PER_SECOND="1000"/],
    [{ HTTP_MAX_WRITES_PER_SECOND: '0' }, /HTTP_MAX_WRITES_PER_SECOND/],
    [{ CAMERA_SYNC_THRESHOLD: '-1' }, /CAMERA_SYNC_THRESHOLD="-1"/],
    [{ CAMERA_SYNC_THRESHOLD: 'soon' }, /CAMERA_SYNC_THRESHOLD/],
    [{ CAMERA_CHECK_INTERVAL: '2.5' }, /CAMERA_CHECK_INTERVAL/],
    [{ CAMERA_SPREAD_GOAL_MS: '-1' }, /CAMERA_SPREAD_GOAL_MS="-1"/],
    [{ CAMERA_SPREAD_GOAL_MS: '2000' }, /CAMERA_SPREAD_GOAL_MS="2000"/],
    [{ CAMERA_SPREAD_GOAL_MS: 'tight' }, /CAMERA_SPREAD_GOAL_MS/],
    [{ CAMERA_CHECK_INTERVAL: '100000000' }, /CAMERA_CHECK_INTERVAL/],
    [{ AP_SHOW_PASSWORD: 'perhaps' }, /AP_SHOW_PASSWORD/],
    [{ AP_ADDRESS: 'pi.local' }, /AP_ADDRESS: "pi.local" is not an IP address/],
    [{ AP_SSID: 'x'.repeat(33) }, /AP_SSID/],
  ])('stops on %p with a message naming the variable', (env, message) => {
    expect(() => validateConfig(env)).toThrow(ConfigError);
    expect(() => validateConfig(env)).toThrow(message);
  });

  it('reads a comma-separated list of camera URLs, each one checked', () => {
    const config = validateConfig({ CAMERA_URL: 'http://192.168.4.2:8080 , https://192.168.4.3/ccapi,' });
    expect(cameraUrls(config.CAMERA_URL)).toEqual(['http://192.168.4.2:8080', 'https://192.168.4.3/ccapi']);
    expect(cameraUrls(validateConfig({}).CAMERA_URL)).toEqual([]);
  });

  it("reads the access point's settings and where the kiosk secret is kept", () => {
    const config = validateConfig({ AP_SSID: 'PiTimeSync', AP_PASSWORD: 'pw', AP_SHOW_PASSWORD: 'true', AP_ADDRESS: '10.42.0.1', DATA_DIR: '/var/lib/x' });
    expect(config).toMatchObject({ AP_SSID: 'PiTimeSync', AP_PASSWORD: 'pw', AP_SHOW_PASSWORD: true, AP_ADDRESS: '10.42.0.1' });
    expect(kioskTokenFile(config)).toBe('/var/lib/x/kiosk-token');
    expect(kioskTokenFile(validateConfig({ KIOSK_TOKEN_FILE: '/run/screen/secret' }))).toBe('/run/screen/secret');
    expect(validateConfig({}).AP_SHOW_PASSWORD).toBe(false);
  });

  describe('never prints a secret', () => {
    const messageOf = (env: Record<string, string>): string => {
      try {
        validateConfig(env);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as Error).message;
      }
      throw new Error('validateConfig accepted it');
    };

    it.each([
      ['AP_PASSWORD, too long', { AP_PASSWORD: 'Sup3rSecretWifiPassphrase'.repeat(3) }, 'AP_PASSWORD', 'Sup3rSecretWifiPassphrase'],
      ['another setting bad beside the passwords', { PORT: 'eighty', AP_PASSWORD: 'wifi-Pa55', CAMERA_PASSWORD: 'cam-Pa55' }, 'PORT="eighty"', 'Pa55'],
      ['CAMERA_URL with credentials', { CAMERA_URL: 'http://op:pw-Secr3t@192.168.4.2:8080/' }, 'CAMERA_URL: "http://***@192.168.4.2:8080/" carries a user name or password', 'pw-Secr3t'],
      ['CAMERA_URL with credentials and a bad scheme', { CAMERA_URL: 'ftp://op:pw-Secr3t@camera' }, 'CAMERA_URL: "ftp://***@camera" is not an http', 'pw-Secr3t'],
      ['a second URL with credentials and a query', { CAMERA_URL: 'http://192.168.4.2:8080,http://admin:pw-Secr3t@192.168.4.3/?x=1' }, 'CAMERA_URL: "http://***@192.168.4.3/?x=1"', 'pw-Secr3t'],
      ['a URL that does not parse, credentials in it', { CAMERA_URL: 'admin:pw-Secr3t@camera.local' }, 'CAMERA_URL: "***@camera.local" is not an http', 'pw-Secr3t'],
      ['ALLOWED_HOSTS with a URL', { ALLOWED_HOSTS: 'pi.lan,http://u:pw-Secr3t@x' }, 'ALLOWED_HOSTS: "http://***@x" is not a host name', 'pw-Secr3t'],
    ])('%s: names the variable and why, not the value', (_case, env, named, secret) => {
      const message = messageOf(env);
      expect(message).toContain(named);
      expect(message).not.toContain(secret);
    });

    it('shows any *PASSWORD*, *TOKEN*, *SECRET* value as hidden, others masked of URL credentials', () => {
      expect(shownValue('AP_PASSWORD', 'x')).toBe('<hidden>');
      expect(shownValue('SOME_TOKEN', 'x')).toBe('<hidden>');
      expect(shownValue('client_secret', 'x')).toBe('<hidden>');
      expect(shownValue('PORT', 'eighty')).toBe('"eighty"');
      expect(shownValue('CAMERA_URL', 'https://a:b@h:443/ccapi')).toBe('"https://***@h:443/ccapi"');
      expect(maskCredentials('http://a@h, http://b:c@[::1]:8080')).toBe('http://***@h, http://***@[::1]:8080');
    });
  });

  it('reads ALLOWED_HOSTS: names and addresses, comma-separated', () => {
    expect(validateConfig({ ALLOWED_HOSTS: 'timesync.example.lan, 192.168.1.50,[fe80::1]' }).ALLOWED_HOSTS).toBe('timesync.example.lan, 192.168.1.50,[fe80::1]');
    expect(() => validateConfig({ ALLOWED_HOSTS: 'pi.lan:8080' })).toThrow(/ALLOWED_HOSTS: "pi.lan:8080" is not a host name/);
  });
});

describe('camera discovery settings', () => {
  it('defaults to at most 8 cameras and no subnet beyond the access point', () => {
    expect(validateConfig({})).toMatchObject({ CAMERA_MAX: 8, CAMERA_SUBNETS: undefined });
  });

  it('reads CAMERA_SUBNETS and CAMERA_MAX', () => {
    expect(validateConfig({ CAMERA_SUBNETS: '192.168.1.0/24, fd00::/64', CAMERA_MAX: '2' })).toMatchObject({ CAMERA_SUBNETS: '192.168.1.0/24, fd00::/64', CAMERA_MAX: 2 });
  });

  it.each([
    [{ CAMERA_SUBNETS: '192.168.1.0' }, /CAMERA_SUBNETS/],
    [{ CAMERA_SUBNETS: '192.168.1.0/33' }, /CAMERA_SUBNETS: "192.168.1.0\/33" is not a CIDR block/],
    [{ CAMERA_SUBNETS: 'lan/24' }, /CAMERA_SUBNETS/],
    [{ CAMERA_MAX: '0' }, /CAMERA_MAX/],
    [{ CAMERA_MAX: 'many' }, /CAMERA_MAX/],
  ])('refuses %j, naming the variable', (env, message) => {
    expect(() => validateConfig(env)).toThrow(message);
  });
});
