import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { takeKioskToken } from '../kiosk';
import { createSlateApi } from './slate-api';
import { SlatePage } from './SlatePage';
import '../styles.css';
import './slate.css';

// Opened from the main page in the same tab on the Pi's own screen: its kiosk secret is kept for the tab.
const kioskToken = takeKioskToken();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <SlatePage api={createSlateApi(undefined, undefined, kioskToken)} />
  </StrictMode>,
);
