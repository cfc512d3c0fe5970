import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createApi } from './api';
import { App } from './App';
import { takeKioskToken } from './kiosk';
import { defaultSocketUrl, TimeSyncSocket } from './ws-client';
import './styles.css';

// The Pi's own screen is opened with its secret (`/?kiosk=...`): kept for this tab, dropped from the address bar.
const kioskToken = takeKioskToken();

// The socket starts before React renders, so the first time-sync request is answered as soon as it arrives.
const socket = new TimeSyncSocket({ url: defaultSocketUrl(window.location, kioskToken) });
socket.start();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App socket={socket} api={createApi(undefined, undefined, kioskToken)} />
  </StrictMode>,
);
