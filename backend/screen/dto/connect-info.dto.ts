import { ApiProperty } from '@nestjs/swagger';

export class ConnectInfoDto {
  @ApiProperty({ example: 'PiTimeSync', nullable: true, description: "The access point's name; null when unknown" }) ssid: string | null;
  @ApiProperty({ example: null, nullable: true, description: "The Wi-Fi password, only with AP_SHOW_PASSWORD and for the Pi's screen or a phone on its Wi-Fi" }) password: string | null;
  @ApiProperty({ example: 'http://10.42.0.1/', nullable: true, description: "The page's address on the access point" }) pageUrl: string | null;
  @ApiProperty({ example: '<svg ...>', nullable: true, description: 'QR code (SVG) of WIFI:T:WPA;S:<ssid>;P:<password>;; (the Pi\'s screen and phones on its Wi-Fi only)' }) wifiQrSvg: string | null;
  @ApiProperty({ example: '<svg ...>', nullable: true, description: 'QR code (SVG) of pageUrl' }) pageQrSvg: string | null;
  @ApiProperty({ enum: ['settings', 'networkmanager', 'none'], example: 'networkmanager' }) from: string;
}
