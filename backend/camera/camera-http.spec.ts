import { HttpService } from '@nestjs/axios';
import { CameraHttp } from './camera-http';

describe(CameraHttp.name, () => {
  it('loads one HttpService on first use and keeps it', async () => {
    const sut = new CameraHttp();
    const first = await sut.get();
    expect(first).toBeInstanceOf(HttpService);
    expect(typeof first.axiosRef.request).toBe('function');
    expect(await sut.get()).toBe(first);
  });

  it('wraps a given HttpService', async () => {
    const given = {} as HttpService;
    expect(await CameraHttp.of(given).get()).toBe(given);
  });
});
