/*
 * Multica realtime client: one WebSocket per page, ordered delivery with gap detection.
 *
 * Every workspace event carries a per-workspace, strictly increasing `seq`. When a frame's seq
 * is not last+1 (events were lost), or after any reconnect, the client calls `onResync()` so the
 * page refetches from the API (the source of truth), then continues with live events.
 *
 *   const rt = new MulticaRealtime({ workspaceId, onEvent, onResync });
 *   rt.start();
 */
"use strict";
(function (root) {
  const MIN_BACKOFF = 1000;
  const MAX_BACKOFF = 30000;

  class MulticaRealtime {
    constructor(options) {
      this.workspaceId = options.workspaceId;
      this.onEvent = options.onEvent || (() => {});
      this.onResync = options.onResync || (() => {});
      this.onStatus = options.onStatus || (() => {});
      this.url = options.url || MulticaRealtime.defaultUrl(this.workspaceId);
      this.WebSocketImpl = options.WebSocketImpl || root.WebSocket;
      this.setTimeoutImpl = options.setTimeoutImpl || ((fn, ms) => setTimeout(fn, ms));
      this.lastSeq = null;
      this.connectedOnce = false;
      this.backoff = MIN_BACKOFF;
      this.stopped = false;
      this.socket = null;
    }

    static defaultUrl(workspaceId) {
      const loc = root.location;
      const scheme = loc.protocol === "https:" ? "wss:" : "ws:";
      return `${scheme}//${loc.host}/ws?workspace_id=${encodeURIComponent(workspaceId)}`;
    }

    start() {
      this.stopped = false;
      this.connect();
    }

    stop() {
      this.stopped = true;
      if (this.socket) this.socket.close();
    }

    connect() {
      const socket = new this.WebSocketImpl(this.url);
      this.socket = socket;
      socket.onopen = () => {
        this.backoff = MIN_BACKOFF;
        this.onStatus("open");
        if (this.connectedOnce) this.resync("reconnect");
        this.connectedOnce = true;
      };
      socket.onmessage = (message) => this.handle(message.data);
      socket.onclose = () => {
        this.onStatus("closed");
        if (this.stopped) return;
        const delay = this.backoff * (0.8 + Math.random() * 0.4);
        this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF);
        this.setTimeoutImpl(() => this.connect(), delay);
      };
    }

    handle(data) {
      let frame;
      try {
        frame = JSON.parse(data);
      } catch (err) {
        return;
      }
      if (!frame || typeof frame.type !== "string") return;
      if (typeof frame.seq === "number") {
        const expected = this.lastSeq === null ? null : this.lastSeq + 1;
        if (expected !== null && frame.seq !== expected) {
          // Lost (seq jumped) or stale/reset (seq went back): refetch, then carry on from here.
          this.lastSeq = frame.seq;
          this.resync("gap");
          return;
        }
        this.lastSeq = frame.seq;
      }
      this.onEvent(frame);
    }

    resync(reason) {
      this.onResync(reason);
    }
  }

  root.MulticaRealtime = MulticaRealtime;
  if (typeof module !== "undefined" && module.exports) module.exports = { MulticaRealtime };
})(typeof window !== "undefined" ? window : globalThis);
