import { act, fireEvent, render, screen } from '@testing-library/react';
import { CameraState, ErrorCode } from '../../../backend/protocol/vocabulary';
import { makeCamera } from '../../test-support/fakes';
import { ActionError, type PhotoMeasure, type TimeSyncApi } from '../api';
import { MeasureByPhoto } from './MeasureByPhoto';

const ANSWER: PhotoMeasure = { cameraId: '012345678901', file: 'IMG_0042.JPG', namedAfterMs: 620, measurement: { offsetMs: 2345.6, boundMs: 25.8, at: '2026-11-25T08:00:00.000Z' } };

/** An api whose measureByPhoto resolves or rejects when the test says. */
function fakeApi() {
  let settle: { resolve: (a: PhotoMeasure) => void; reject: (e: unknown) => void } | null = null;
  const measureByPhoto = jest.fn((_id: string) => new Promise<PhotoMeasure>((resolve, reject) => (settle = { resolve, reject })));
  return { api: { measureByPhoto } as unknown as TimeSyncApi, measureByPhoto, settle: () => settle! };
}

describe(MeasureByPhoto.name, () => {
  it('says where to point the camera first, presses nothing until asked, then the offset and its bound in words', async () => {
    const { api, measureByPhoto, settle } = fakeApi();
    render(<MeasureByPhoto camera={makeCamera()} api={api} canSetTime online screen="phone" />);
    fireEvent.click(screen.getByTestId('measure-photo-start'));
    expect(screen.getByTestId('measure-photo-hint').textContent).toBe(
      "Point the camera at the slate on the Pi's screen (Time slate), or open /slate on this phone and hold it in front of the camera. Then take the photo.",
    );
    expect(measureByPhoto).not.toHaveBeenCalled();
    fireEvent.click(screen.getByTestId('measure-photo-take'));
    expect(measureByPhoto).toHaveBeenCalledWith('012345678901');
    expect(screen.getByTestId('measure-photo-start').textContent).toBe('Taking the photo…');
    await act(async () => settle().resolve(ANSWER));
    expect(screen.getByTestId('measure-photo-message').textContent).toBe('✓ Camera 2.3 s ahead of the Pi (±26 ms), measured from its photo IMG_0042.JPG');
  });

  it('a refusal is said in words, "not verified", never a figure', async () => {
    const { api, settle } = fakeApi();
    render(<MeasureByPhoto camera={makeCamera()} api={api} canSetTime online screen="phone" />);
    fireEvent.click(screen.getByTestId('measure-photo-start'));
    fireEvent.click(screen.getByTestId('measure-photo-take'));
    const message = 'The camera was not pointed at the slate: its photo IMG_0043.JPG shows no readable slate code. Point it at the slate';
    await act(async () => settle().reject(new ActionError(ErrorCode.NO_SLATE_CODE, message, 422)));
    const shown = screen.getByTestId('measure-photo-message');
    expect(shown.getAttribute('role')).toBe('alert');
    expect(shown.textContent).toBe(`⚠\uFE0E Not verified: ${message}`);
  });

  it('cancel goes back without pressing; on the Pi\'s own screen the slate must be on a phone', () => {
    const { api, measureByPhoto } = fakeApi();
    render(<MeasureByPhoto camera={makeCamera()} api={api} canSetTime online screen="kiosk" />);
    fireEvent.click(screen.getByTestId('measure-photo-start'));
    expect(screen.getByTestId('measure-photo-hint').textContent).toMatch(/^Point the camera at the slate: open \/slate on a phone/);
    fireEvent.click(screen.getByTestId('measure-photo-cancel'));
    expect(screen.queryByTestId('measure-photo-hint')).toBeNull();
    expect(measureByPhoto).not.toHaveBeenCalled();
  });

  it.each([
    [{ canSetTime: false, online: true, state: CameraState.Connected }, "Only the Pi's own screen and phones on the Pi's Wi-Fi can take a photo with a camera"],
    [{ canSetTime: true, online: false, state: CameraState.Connected }, 'Not connected to the Pi'],
    [{ canSetTime: true, online: true, state: CameraState.Disconnected }, 'The camera is not connected'],
    [{ canSetTime: true, online: true, state: CameraState.NeedsCredentials }, 'The camera needs its user name and password before it can take a photo'],
  ])('disabled with the reason: %j', ({ canSetTime, online, state }, reason) => {
    const { api } = fakeApi();
    render(<MeasureByPhoto camera={makeCamera({ state })} api={api} canSetTime={canSetTime} online={online} />);
    const button = screen.getByTestId('measure-photo-start') as HTMLButtonElement;
    expect(button.disabled).toBe(true);
    expect(screen.getByTestId('measure-photo-reason').textContent).toBe(reason);
    expect(button.getAttribute('aria-describedby')).toBe(screen.getByTestId('measure-photo-reason').id);
  });
});
