import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createApi } from './api';
import { App } from './App';
import { TimeSyncSocket } from './ws-client';
import './styles.css';

// The socket starts before React renders, so the first time-sync request is answered as soon as it arrives.
const socket = new TimeSyncSocket();
socket.start();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App socket={socket} api={createApi()} />
  </StrictMode>,
);
