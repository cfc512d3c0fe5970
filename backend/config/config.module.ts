import { Global, Module } from '@nestjs/common';
import { DemoCamera, withDemoCamera } from '../dev/demo-camera';
import { AppConfig, demoWantsCamera, validateConfig } from './app.config';

/**
 * Provides the validated AppConfig (with the demo camera's URL when the demo starts one). Tests override it
 * with `overrideProvider(AppConfig)`, which starts no demo camera.
 */
@Global()
@Module({
  providers: [
    {
      provide: AppConfig,
      useFactory: () => {
        const config = validateConfig(process.env);
        return withDemoCamera(config, demoWantsCamera(config));
      },
    },
    { provide: DemoCamera, inject: [AppConfig], useFactory: (config: AppConfig) => new DemoCamera(config) },
  ],
  exports: [AppConfig, DemoCamera],
})
export class AppConfigModule {}
