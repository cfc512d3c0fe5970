import { cameraMoveWarning, CameraWriteContext, mayWriteCamera } from './camera-write-policy';
import { DEFAULT_POLICY } from './source-policy';

describe(mayWriteCamera.name, () => {
  it.each<[CameraWriteContext['reliability'], boolean, 'refused' | 'warned' | 'allowed']>([
    ['none', false, 'refused'],
    ['none', true, 'warned'],
    ['low', false, 'warned'],
    ['low', true, 'warned'],
    ['medium', false, 'allowed'],
    ['medium', true, 'allowed'],
    ['high', false, 'allowed'],
    ['high', true, 'allowed'],
  ])('reliability %s, confirmed %s: %s', (reliability, confirmed, expected) => {
    const verdict = mayWriteCamera({ reliability, source: reliability === 'none' ? 'none' : 'client', confirmed });
    if (expected === 'refused') {
      expect(verdict).toEqual({ allowed: false, code: 'PI_TIME_UNRELIABLE', reason: expect.stringMatching(/not reliable.*left alone.*confirm/) });
    } else {
      expect(verdict).toEqual({ allowed: true, warning: expected === 'warned' ? expect.stringMatching(/Pi/) : null });
    }
  });

  it('names one camera or several in a refusal', () => {
    expect(mayWriteCamera({ reliability: 'none', source: 'none', confirmed: false })).toMatchObject({ reason: expect.stringContaining('so the camera was left alone') });
    expect(mayWriteCamera({ reliability: 'none', source: 'none', confirmed: false, several: true })).toMatchObject({ reason: expect.stringContaining('so the cameras were left alone') });
  });

  it('says where the Pi got its time in a warning', () => {
    expect(mayWriteCamera({ reliability: 'low', source: 'camera', confirmed: false })).toMatchObject({ warning: expect.stringContaining("a camera's clock") });
  });
});

describe(cameraMoveWarning.name, () => {
  const H = 3_600_000;
  it.each<[string, number, CameraWriteContext['reliability'], boolean]>([
    ['a Pi stepped an hour back, a correct camera moved with it', -H - 6, 'high', true],
    ['half an hour (a zone like India)', 30 * 60_000 + 1500, 'high', true],
    ['a day, exactly', 24 * H, 'medium', true],
    ['an ordinary correction of seconds', 2400, 'high', false],
    ['an ordinary correction of minutes from a fresh Pi', 7 * 60_000, 'high', false],
    ['minutes from a Pi whose time is old', 7 * 60_000, 'low', true],
    ['minutes on confirmation from a Pi without time', -7 * 60_000, 'none', true],
    ['under a minute from a Pi whose time is old', 40_000, 'low', false],
    ['nothing', 0, 'none', false],
  ])('%s (%d ms, reliability %s): warned %s', (_name, moved, reliability, warned) => {
    const warning = cameraMoveWarning('083021000123', moved, { reliability, source: 'client' }, DEFAULT_POLICY);
    if (warned) expect(warning).toMatch(/^Camera 083021000123 was moved by [+-].*Check the Pi's time/);
    else expect(warning).toBeNull();
  });
});
