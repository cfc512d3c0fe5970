import { CallHandler, ExecutionContext, Injectable, NestInterceptor, OnModuleDestroy } from '@nestjs/common';
import type { Request, Response } from 'express';
import multer, { MulterError } from 'multer';
import { mkdtempSync, rmSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finalize, Observable } from 'rxjs';
import { callerOfRequest } from '../access/caller';
import { DomainError, ErrorCode } from '../common/domain-error';
import { AppConfig } from '../config/app.config';
import { MAX_SLATE_PHOTOS, SlateService } from './slate.service';

/** The form field that carries the photos. */
export const SLATE_PHOTO_FIELD = 'photos';

/**
 * Reads a multipart upload of slate photos into a private temporary folder (a Pi's memory is small; a camera's
 * JPEG is 5-20 MB), after the caller was found allowed to send them, so a stranger's upload is never read.
 * Multer's refusals become coded errors: a photo over SLATE_MAX_PHOTO_BYTES is PHOTO_TOO_LARGE (413). The files
 * are removed when the answer has gone out.
 */
@Injectable()
export class SlateUploadInterceptor implements NestInterceptor, OnModuleDestroy {
  private readonly dir = mkdtempSync(join(tmpdir(), 'timesync-slate-'));
  private readonly upload: ReturnType<ReturnType<typeof multer>['array']>;

  constructor(
    private readonly config: AppConfig,
    private readonly slate: SlateService,
  ) {
    this.upload = multer({
      dest: this.dir,
      limits: { fileSize: config.SLATE_MAX_PHOTO_BYTES, files: MAX_SLATE_PHOTOS, fields: 4, parts: MAX_SLATE_PHOTOS + 4, fieldNameSize: 64, fieldSize: 1024, headerPairs: 32 },
    }).array(SLATE_PHOTO_FIELD, MAX_SLATE_PHOTOS);
  }

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const req = context.switchToHttp().getRequest<Request>();
    const res = context.switchToHttp().getResponse<Response>();
    this.slate.authorize(callerOfRequest(req));
    await new Promise<void>((resolve, reject) => this.upload(req, res, (error: unknown) => (error ? reject(this.coded(error)) : resolve())));
    const files = (req.files as Express.Multer.File[] | undefined) ?? [];
    return next.handle().pipe(finalize(() => void Promise.all(files.map((f) => unlink(f.path).catch(() => undefined)))));
  }

  onModuleDestroy(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private coded(error: unknown): DomainError {
    if (error instanceof MulterError) {
      switch (error.code) {
        case 'LIMIT_FILE_SIZE':
          return new DomainError(ErrorCode.PHOTO_TOO_LARGE, `the photo ${JSON.stringify(error.field ?? '')} is larger than the ${Math.round(this.config.SLATE_MAX_PHOTO_BYTES / 1_048_576)} MiB a slate photo may be (SLATE_MAX_PHOTO_BYTES): send the camera's JPEG, not a RAW file`);
        case 'LIMIT_FILE_COUNT':
          return new DomainError(ErrorCode.TOO_MANY_PHOTOS, `more than ${MAX_SLATE_PHOTOS} photos in one request: send at most ${MAX_SLATE_PHOTOS} at a time`);
        case 'LIMIT_UNEXPECTED_FILE':
          return new DomainError(ErrorCode.BAD_REQUEST, `a file in the form field ${JSON.stringify(error.field ?? '')}: send the photos in the field "${SLATE_PHOTO_FIELD}"`);
        default:
          return new DomainError(ErrorCode.BAD_REQUEST, `the upload was refused: ${error.message}`);
      }
    }
    return new DomainError(ErrorCode.BAD_REQUEST, `the upload could not be read: ${error instanceof Error ? error.message : String(error)}`);
  }
}
