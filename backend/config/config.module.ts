import { Global, Module } from '@nestjs/common';
import { AppConfig, validateConfig } from './app.config';

/** Provides the validated AppConfig. Tests override it with `overrideProvider(AppConfig)`. */
@Global()
@Module({
  providers: [{ provide: AppConfig, useFactory: () => validateConfig(process.env) }],
  exports: [AppConfig],
})
export class AppConfigModule {}
