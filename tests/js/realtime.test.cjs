// Unit tests of static/multica/realtime.js with a fake WebSocket (node --test).
"use strict";
const test = require("node:test");
const assert = require("node:assert");
const { MulticaRealtime } = require("../../static/multica/realtime.js");

function harness() {
  const sockets = [];
  const timers = [];
  class FakeSocket {
    constructor(url) { this.url = url; sockets.push(this); }
    close() { this.onclose && this.onclose(); }
  }
  const events = [];
  const resyncs = [];
  const rt = new MulticaRealtime({
    workspaceId: "w1", url: "ws://x/ws?workspace_id=w1", WebSocketImpl: FakeSocket,
    setTimeoutImpl: (fn) => timers.push(fn),
    onEvent: (f) => events.push(f), onResync: (r) => resyncs.push(r),
  });
  const send = (frame) => sockets[sockets.length - 1].onmessage({ data: JSON.stringify(frame) });
  return { rt, sockets, timers, events, resyncs, send };
}

test("in-order events are delivered without resync", () => {
  const h = harness();
  h.rt.start(); h.sockets[0].onopen();
  for (const seq of [5, 6, 7]) h.send({ type: "issue:updated", payload: {}, seq });
  assert.deepStrictEqual(h.events.map((e) => e.seq), [5, 6, 7]);
  assert.deepStrictEqual(h.resyncs, []);
});

test("a seq gap triggers a resync and the stream continues", () => {
  const h = harness();
  h.rt.start(); h.sockets[0].onopen();
  h.send({ type: "a", seq: 1 });
  h.send({ type: "b", seq: 3 });
  h.send({ type: "c", seq: 4 });
  assert.deepStrictEqual(h.resyncs, ["gap"]);
  assert.deepStrictEqual(h.events.map((e) => e.type), ["a", "c"]);
});

test("seq going backwards (counter reset) also resyncs", () => {
  const h = harness();
  h.rt.start(); h.sockets[0].onopen();
  h.send({ type: "a", seq: 10 });
  h.send({ type: "b", seq: 1 });
  assert.deepStrictEqual(h.resyncs, ["gap"]);
});

test("events without seq (user room) pass through", () => {
  const h = harness();
  h.rt.start(); h.sockets[0].onopen();
  h.send({ type: "inbox:new", payload: {} });
  assert.strictEqual(h.events.length, 1);
});

test("a reconnect resyncs", () => {
  const h = harness();
  h.rt.start(); h.sockets[0].onopen();
  h.sockets[0].close();
  assert.strictEqual(h.timers.length, 1);
  h.timers[0]();
  h.sockets[1].onopen();
  assert.deepStrictEqual(h.resyncs, ["reconnect"]);
});
