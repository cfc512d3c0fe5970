import { Controller, Get, Req } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { AppConfig } from '../config/app.config';
import { AccessService } from '../access/access.service';
import { callerOfRequest } from '../access/caller';
import { ConnectInfo, KIOSK_HEADER } from '../protocol/messages';
import { AccessPointInfo, pageUrlOf, wifiQrText } from './access-point-info';
import { ConnectInfoDto } from './dto/connect-info.dto';
import { qrSvg } from './qr';

@ApiTags('screen')
@Controller('api/screen')
export class ScreenController {
  constructor(
    private readonly access: AccessService,
    private readonly accessPoint: AccessPointInfo,
    private readonly config: AppConfig,
  ) {}

  @Get('connect')
  @ApiOperation({
    summary: "How a phone joins the Pi's Wi-Fi and opens the page: the access point's name, the page's address and their QR codes",
    description:
      "Shown on the Pi's own screen while no phone is connected. The Wi-Fi QR code (it carries the password) only for the Pi's own screen " +
      '(kiosk secret in the x-kiosk-token header) and phones on the access point; the password as text only with AP_SHOW_PASSWORD.',
  })
  @ApiHeader({ name: KIOSK_HEADER, required: false, description: "The kiosk secret (the Pi's own screen)" })
  @ApiOkResponse({ type: ConnectInfoDto })
  async connect(@Req() request: Request): Promise<ConnectInfo> {
    const insider = this.access.may(callerOfRequest(request), 'see-wifi-password');
    const ap = await this.accessPoint.details();
    // The port this request came in on: the page's address on the access point is the same server.
    const pageUrl = ap.address ? pageUrlOf(ap.address, request.socket.localPort ?? this.config.PORT) : null;
    const wifi = insider && ap.ssid ? wifiQrText(ap.ssid, ap.password) : null;
    return {
      ssid: ap.ssid,
      password: insider && this.config.AP_SHOW_PASSWORD ? ap.password : null,
      pageUrl,
      wifiQrSvg: wifi ? await qrSvg(wifi) : null,
      pageQrSvg: pageUrl ? await qrSvg(pageUrl) : null,
      from: ap.from,
    };
  }
}
