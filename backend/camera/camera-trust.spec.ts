import { AppConfig } from '../config/app.config';
import { CameraAddressPolicy } from './camera-trust';

const config = (o: Partial<AppConfig>) => Object.assign(new AppConfig(), o);
const accessPoint = { isAccessPointClient: (a: string) => a.startsWith('10.42.0.') };

describe(CameraAddressPolicy.name, () => {
  it.each([
    ['10.42.0.5', {}, 'access-point'],
    ['::ffff:10.42.0.5', {}, 'access-point'],
    ['192.168.1.50', {}, null],
    ['192.168.1.50', { CAMERA_SUBNETS: '192.168.1.0/24' }, 'camera-subnets'],
    ['192.168.2.50', { CAMERA_SUBNETS: '192.168.1.0/24' }, null],
    ['fd00::7', { CAMERA_SUBNETS: '192.168.1.0/24, fd00::/64' }, 'camera-subnets'],
    ['192.168.7.9', { CAMERA_URL: 'http://192.168.7.9:8080' }, 'camera-url'],
    ['192.168.7.10', { CAMERA_URL: 'http://192.168.7.9:8080' }, null],
    ['127.0.0.1', {}, null],
    ['not-an-address', { CAMERA_SUBNETS: '0.0.0.0/0' }, null],
  ] as Array<[string, Partial<AppConfig>, string | null]>)('%s with %j: %s', (address, settings, origin) => {
    expect(CameraAddressPolicy.of(config(settings), accessPoint).originOf(address)).toBe(origin);
  });

  it('without an access point (no AP mode), only CAMERA_URL and CAMERA_SUBNETS count', () => {
    const sut = CameraAddressPolicy.of(config({ CAMERA_SUBNETS: '192.168.1.0/24' }), null);
    expect(sut.originOf('10.42.0.5')).toBeNull();
    expect(sut.originOf('192.168.1.2')).toBe('camera-subnets');
  });
});
