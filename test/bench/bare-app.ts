// The baseline of `npm run bench`: a bare NestJS app with one controller, the ws adapter (one gateway at /ws,
// so pages can connect) and Swagger (BARE_SWAGGER=0 leaves it out).
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { WsAdapter } from '@nestjs/platform-ws';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';

@Controller('api')
class HealthController {
  @Get('health')
  health() {
    return { ok: true };
  }
}

@WebSocketGateway({ path: '/ws' })
class EchoGateway {
  @SubscribeMessage('ping')
  ping(): { event: string; data: number } {
    return { event: 'pong', data: Date.now() };
  }
}

@Module({ controllers: [HealthController], providers: [EchoGateway] })
class BareModule {}

async function main() {
  const app = await NestFactory.create(BareModule, { logger: ['error'] });
  app.useWebSocketAdapter(new WsAdapter(app));
  if (process.env.BARE_SWAGGER !== '0') {
    const { DocumentBuilder, SwaggerModule } = await import('@nestjs/swagger');
    SwaggerModule.setup('api/docs', app, SwaggerModule.createDocument(app, new DocumentBuilder().setTitle('bare').build()));
  }
  await app.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
  console.log(`LISTENING ${await app.getUrl()}`);
}
void main();
