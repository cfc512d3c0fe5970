import { useEffect, useState } from 'react';
import type { ConnectInfo } from '../../../backend/protocol/messages';
import type { TimeSyncApi } from '../api';

interface Props {
  api: TimeSyncApi;
  /** Night mode: the light modules red instead of white (a scanner reads the dark-light difference either way). */
  night: boolean;
  /** Fetched again whenever the page (re)connects: the access point may have come up since. */
  online: boolean;
}

/** The light colour of a QR code by night: red only, like everything else on the screen. */
export const NIGHT_QR_LIGHT = '#b30000';

/** The QR code as a picture: an <img> of the server's SVG (never markup in the page), its light part red at night. */
function QrImage({ svg, label, testId, night }: { svg: string; label: string; testId: string; night: boolean }) {
  const shown = night ? svg.replace(/fill="#ffffff"/gi, `fill="${NIGHT_QR_LIGHT}"`) : svg;
  return <img className="qr" src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(shown)}`} alt={label} data-testid={testId} />;
}

/**
 * How a phone joins: the access point's name, then two QR codes (join the Wi-Fi, open the page). Shown on the
 * Pi's own screen while no phone is connected, and one tap away otherwise.
 */
export function ConnectPanel({ api, online, night }: Props) {
  const [info, setInfo] = useState<ConnectInfo | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    if (!online) return;
    let cancelled = false;
    api.connectInfo().then(
      (next) => {
        if (!cancelled) {
          setInfo(next);
          setFailed(false);
        }
      },
      () => {
        if (!cancelled) setFailed(true);
      },
    );
    return () => {
      cancelled = true;
    };
  }, [api, online]);

  if (!info) {
    return (
      <div className="connect" data-testid="connect">
        <p className="muted">{failed ? 'The Pi did not say how to connect; it will try again when it reconnects' : 'Asking the Pi how to connect…'}</p>
      </div>
    );
  }
  const noName = !info.ssid ? (
    <p className="muted small" data-testid="connect-unknown">
      The Wi-Fi name is unknown: set <code>AP_SSID</code> and <code>AP_PASSWORD</code> on the Pi
    </p>
  ) : null;
  return (
    <div className="connect" data-testid="connect">
      {noName}
      <div className="qr-pair">
        {info.wifiQrSvg ? (
          <figure className="qr-box">
            <QrImage svg={info.wifiQrSvg} label={`QR code: join the Wi-Fi ${info.ssid ?? ''}`} testId="qr-wifi" night={night} />
            <figcaption>
              1. Join the Wi-Fi <strong data-testid="connect-ssid">{info.ssid}</strong>
              {info.password ? (
                <>
                  , password <code data-testid="connect-password">{info.password}</code>
                </>
              ) : null}
            </figcaption>
          </figure>
        ) : info.ssid ? (
          <p className="small">
            1. Join the Wi-Fi <strong data-testid="connect-ssid">{info.ssid}</strong>
          </p>
        ) : null}
        {info.pageQrSvg ? (
          <figure className="qr-box">
            <QrImage svg={info.pageQrSvg} label={`QR code: open ${info.pageUrl ?? 'the page'}`} testId="qr-page" night={night} />
            <figcaption>
              {info.ssid ? '2. ' : ''}Open <strong data-testid="connect-url">{info.pageUrl}</strong>
            </figcaption>
          </figure>
        ) : (
          <p className="muted small">The access point's address is unknown (AP_INTERFACE has none; set AP_ADDRESS)</p>
        )}
      </div>
    </div>
  );
}
