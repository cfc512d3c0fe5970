// The baseline of `npm run bench`: a bare NestJS app with one controller, the ws adapter and Swagger.
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { WsAdapter } from '@nestjs/platform-ws';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

@Controller('api')
class HealthController {
  @Get('health')
  health() {
    return { ok: true };
  }
}

@Module({ controllers: [HealthController] })
class BareModule {}

async function main() {
  const app = await NestFactory.create(BareModule, { logger: ['error'] });
  app.useWebSocketAdapter(new WsAdapter(app));
  SwaggerModule.setup('api/docs', app, SwaggerModule.createDocument(app, new DocumentBuilder().setTitle('bare').build()));
  await app.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
  console.log(`LISTENING ${await app.getUrl()}`);
}
void main();
