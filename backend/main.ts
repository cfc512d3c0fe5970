import 'reflect-metadata';
import './common/defer-module';
import { ConfigError, validateConfig } from './config/app.config';

async function main(): Promise<void> {
  // Checked here before Nest loads, so a bad setting gives one plain message and exit code 2, not a stack
  // trace; AppConfigModule validates the same environment again for the app itself.
  let config;
  try {
    config = validateConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
  const { createApp, listen } = await import('./bootstrap');
  const app = await createApp();
  await listen(app, config.PORT, config.HOST);
}

void main();
