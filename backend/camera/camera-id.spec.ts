import { ErrorCode } from '../common/domain-error';
import { errorOf } from '../../test/support/domain-errors';
import { addressId, assertCameraId, cameraIdFor } from './camera-id';

describe('camera ids', () => {
  describe(assertCameraId.name, () => {
    it.each(['083021000123', '00000000-0000-0000-0001-083021000123', '192.168.4.2_8080', 'a', 'x'.repeat(64)])('accepts %s', (id) => {
      expect(assertCameraId(id)).toBe(id);
    });

    it.each([
      ['../etc', '"/" is not allowed'],
      ['<script>alert(1)</script>', '"<" is not allowed'],
      ['a b', '" " is not allowed'],
      ['cam;rm -rf', '";" is not allowed'],
      ['%2e%2e', '"%" is not allowed'],
      ['..', 'only dots'],
      ['', 'it is empty'],
      ['x'.repeat(65), 'longer than 64 characters'],
      [['a', 'b'], 'give one id, not a list'],
      [42, 'expected text'],
    ])('refuses %j as INVALID_CAMERA_ID: %s', (id, why) => {
      const error = errorOf(() => assertCameraId(id));
      expect(error.code).toBe(ErrorCode.INVALID_CAMERA_ID);
      expect(error.message).toContain('is not a camera id');
      expect(error.message).toContain(why);
    });
  });

  describe(cameraIdFor.name, () => {
    it.each([
      [{ serialNumber: '083021000123', guid: 'uuid:abc' }, 'http://10.0.0.2:8080', '083021000123'],
      [{ guid: 'uuid:00000000-0000-0000-0001-00BBC1859FAB' }, 'http://10.0.0.2:8080', '00000000-0000-0000-0001-00BBC1859FAB'],
      [{ guid: '00000000-0000-0000-0001-00BBC1859FAB' }, 'http://10.0.0.2:8080', '00000000-0000-0000-0001-00BBC1859FAB'],
      [{}, 'http://192.168.4.2:8080/ccapi', '192.168.4.2_8080'],
      [{ serialNumber: '  ' }, 'https://192.168.4.2', '192.168.4.2_443'],
      [{ serialNumber: '../../etc/passwd' }, 'http://cam', '..-..-etc-passwd'],
      [{ serialNumber: '<>' }, 'http://cam.local', 'cam.local_80'],
    ])('%j at %s is %s', (identity, url, id) => {
      expect(cameraIdFor(identity, url)).toBe(id);
      expect(assertCameraId(cameraIdFor(identity, url))).toBe(id);
    });
  });

  describe(addressId.name, () => {
    it('names an IPv6 camera without brackets or colons', () => {
      expect(addressId('http://[fe80::1]:8080')).toBe('fe80--1_8080');
    });
  });
});
