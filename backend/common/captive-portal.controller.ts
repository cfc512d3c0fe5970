import { Controller, Get, Redirect } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';

/**
 * Phones on an access point without internet probe these URLs; a redirect to the page makes them open it
 * by themselves (with the access point's DNS pointing every name at the Pi, see kiosk/README.md).
 */
@ApiTags('captive portal')
@Controller()
export class CaptivePortalController {
  @Get(['generate_204', 'gen_204', 'hotspot-detect.html', 'library/test/success.html', 'connecttest.txt', 'ncsi.txt', 'canonical.html', 'success.txt'])
  @Redirect('/', 302)
  @ApiOperation({ summary: 'Captive-portal probes of Android, iOS, Windows and Firefox: redirected to the page' })
  @ApiResponse({ status: 302, description: 'Location: /' })
  probe(): void {}
}
