// The realtime channel (/api/v1/ws): the token goes as a subprotocol, never
// in the URL. A dropped socket reconnects with exponential backoff and
// jitter; every (re)open calls onOpen, whose job is to catch up from the
// inbox, since messages sent while offline are not replayed.

import { session } from './api.js';

export function connectLive({ onMessage, onOpen, onState }) {
  let ws = null;
  let delay = 1000;
  let timer = null;
  let stopped = false;

  function open() {
    const s = session.get();
    if (stopped || !s) return;
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    try {
      ws = new WebSocket(`${scheme}//${location.host}/api/v1/ws`, ['bearer', s.token]);
    } catch {
      retry();
      return;
    }
    ws.onopen = () => {
      delay = 1000;
      onState('live');
      onOpen();
    };
    ws.onmessage = (e) => {
      let m;
      try { m = JSON.parse(e.data); } catch { return; }
      onMessage(m);
    };
    ws.onclose = () => {
      ws = null;
      if (!stopped) retry();
    };
  }

  function retry() {
    onState('offline');
    clearTimeout(timer);
    timer = setTimeout(open, delay * (0.5 + Math.random() / 2));
    delay = Math.min(delay * 2, 30000);
  }

  addEventListener('online', () => { if (!ws && !stopped) { delay = 1000; open(); } });
  open();
  return {
    close() {
      stopped = true;
      clearTimeout(timer);
      if (ws) ws.close(1000);
    },
  };
}
