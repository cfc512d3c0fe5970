import { Injectable } from '@nestjs/common';
import type { HttpService } from '@nestjs/axios';

/**
 * @nestjs/axios's HttpService for the camera, with axios loaded on the first camera request rather than at
 * boot: a Pi that has no camera yet starts faster and smaller (see `npm run bench`).
 */
@Injectable()
export class CameraHttp {
  private service?: Promise<HttpService>;

  /** Wraps a given HttpService (tests, benchmarks). */
  static of(service: HttpService): CameraHttp {
    const http = new CameraHttp();
    http.service = Promise.resolve(service);
    return http;
  }

  get(): Promise<HttpService> {
    this.service ??= Promise.all([import('@nestjs/axios'), import('axios')]).then(([{ HttpService }, axios]) => new HttpService(axios.default.create()));
    return this.service;
  }
}
