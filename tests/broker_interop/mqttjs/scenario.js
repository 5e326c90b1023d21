// SPDX-License-Identifier: MIT
// tests/broker_interop/mqttjs/scenario.js - MQTT.js 5.x clients (MQTT 5.0) run one scenario
// against the broker on 127.0.0.1:PORT and print what they observed as ONE JSON line on
// stdout; test_mqttjs.py asserts on it. Exit status 0 when the scenario ran to the end, 1 on
// any error (message on stderr). Every wait is bounded: the whole run fails after 20 s.
//
//   node scenario.js SCENARIO PORT [ARG...]
//
// Owns: the MQTT.js clients of one run (all ended before exit). Thread: node's event loop.
'use strict';

const mqtt = require('mqtt');

const [scenario, portArg, ...args] = process.argv.slice(2);
const port = Number(portArg);
const TIMEOUT_MS = 20000;
const clients = [];

function connect(opts = {}) {
  // Resolves with the client and its CONNACK once connected; rejects on the first error or a
  // refused CONNACK. reconnectPeriod 0: a lost connection is an error here, never retried.
  return new Promise((resolve, reject) => {
    const c = mqtt.connect({
      host: '127.0.0.1',
      port,
      protocolVersion: 5,
      reconnectPeriod: 0,
      connectTimeout: 10000,
      ...opts,
    });
    clients.push(c);
    // The inbox listens from the start: queued messages may arrive with the CONNACK.
    const box = inbox(c);
    const sent = [];
    c.on('packetsend', (p) => {
      if (p.cmd === 'publish') {
        sent.push({ topic: p.topic, topicAlias: (p.properties || {}).topicAlias });
      }
    });
    c.once('connect', (connack) => resolve({ c, connack, box, sent }));
    c.once('error', reject);
  });
}

// A queue of received messages with a bounded wait for the next one.
function inbox(c) {
  const got = [];
  const waiters = [];
  c.on('message', (topic, payload, packet) => {
    const m = {
      topic,
      payload: payload.toString(),
      qos: packet.qos,
      retain: packet.retain,
      properties: packet.properties || {},
    };
    if (m.properties.correlationData) {
      m.properties.correlationData = m.properties.correlationData.toString('hex');
    }
    const w = waiters.shift();
    if (w) w(m);
    else got.push(m);
  });
  return {
    next() {
      if (got.length) return Promise.resolve(got.shift());
      return new Promise((resolve) => waiters.push(resolve));
    },
    async take(n) {
      const out = [];
      for (let i = 0; i < n; i++) out.push(await this.next());
      return out;
    },
    // Messages received before `marker` arrives on markerTopic (published by `pub`).
    async until(pub, markerTopic) {
      await pub.publishAsync(markerTopic, 'marker', { qos: 1 });
      const out = [];
      for (;;) {
        const m = await this.next();
        if (m.topic === markerTopic) return out;
        out.push(m);
      }
    },
  };
}

function connackInfo(connack) {
  return {
    reasonCode: connack.reasonCode,
    sessionPresent: connack.sessionPresent,
    properties: connack.properties || {},
  };
}

const scenarios = {
  // 5.0 CONNECT / CONNACK, then a normal DISCONNECT.
  async connect() {
    const { c, connack } = await connect({ clientId: 'js-connect', clean: true });
    const info = connackInfo(connack);
    await c.endAsync();
    return info;
  },

  // QoS q (args[0]) pub/sub: 5 messages, a QoS 2 subscription.
  async pubsub() {
    const qos = Number(args[0]);
    const { c: sub, box } = await connect({ clientId: 'js-sub-' + qos });
    const granted = await sub.subscribeAsync('js/q/' + qos, { qos: 2 });
    const { c: pub } = await connect({ clientId: 'js-pub-' + qos });
    for (let i = 0; i < 5; i++) {
      await pub.publishAsync('js/q/' + qos, 'm' + i, { qos });
    }
    const msgs = await box.take(5);
    return { granted: granted.map((g) => g.qos), msgs };
  },

  // Retained: set, replace, seen by new subscriptions with RETAIN 1; clear with empty payload.
  async retained() {
    const { c: pub } = await connect({ clientId: 'js-ret-pub' });
    await pub.publishAsync('js/ret/a', 'one', { qos: 1, retain: true });
    await pub.publishAsync('js/ret/a', 'two', { qos: 1, retain: true });
    const { c: s1, box: b1 } = await connect({ clientId: 'js-ret-s1' });
    await s1.subscribeAsync(['js/ret/#', 'js/mark/1'], { qos: 1 });
    const afterSet = await b1.until(pub, 'js/mark/1');
    await pub.publishAsync('js/ret/a', '', { qos: 1, retain: true });
    const live = await b1.next(); // the clearing message, delivered live
    const { c: s2, box: b2 } = await connect({ clientId: 'js-ret-s2' });
    await s2.subscribeAsync(['js/ret/#', 'js/mark/2'], { qos: 1 });
    const afterClear = await b2.until(pub, 'js/mark/2');
    return { afterSet, live, afterClear };
  },

  // User Properties (a repeated key, non-ASCII) and other PUBLISH properties forwarded.
  async userprops() {
    const { c: sub, box } = await connect({ clientId: 'js-up-sub' });
    await sub.subscribeAsync('js/up', { qos: 1 });
    const { c: pub } = await connect({ clientId: 'js-up-pub' });
    await pub.publishAsync('js/up', 'body', {
      qos: 1,
      properties: {
        userProperties: { k: ['v1', 'v2'], 'sch\u00fcssel': 'w\u00e4rt' },
        contentType: 'application/json',
        responseTopic: 'js/reply',
        correlationData: Buffer.from([0, 1, 2, 255]),
        payloadFormatIndicator: true,
      },
    });
    return { msg: await box.next() };
  },

  // Topic Alias from the client: explicit alias then empty topic; then MQTT.js's own
  // automatic alias assignment (autoAssignTopicAlias).
  async topicalias() {
    const { c: sub, box } = await connect({ clientId: 'js-ta-sub' });
    await sub.subscribeAsync('js/ta/#', { qos: 1 });
    const { c: pub, connack } = await connect({ clientId: 'js-ta-pub' });
    const max = (connack.properties || {}).topicAliasMaximum || 0;
    await pub.publishAsync('js/ta/one', 'a', { qos: 1, properties: { topicAlias: 1 } });
    await pub.publishAsync('', 'b', { qos: 1, properties: { topicAlias: 1 } });
    const { c: auto, sent } = await connect({ clientId: 'js-ta-auto', autoAssignTopicAlias: true });
    for (let i = 0; i < 3; i++) await auto.publishAsync('js/ta/auto', 'auto' + i, { qos: 1 });
    const msgs = await box.take(5);
    return { topicAliasMaximum: max, msgs, autoSent: sent };
  },

  // Session resume: Clean Start 0 + Session Expiry; QoS 1/2 queued while offline.
  async session() {
    const opts = {
      clientId: 'js-sess',
      clean: false,
      properties: { sessionExpiryInterval: 300 },
    };
    const first = await connect(opts);
    await first.c.subscribeAsync('js/sess/#', { qos: 2 });
    await first.c.endAsync();
    const { c: pub } = await connect({ clientId: 'js-sess-pub' });
    await pub.publishAsync('js/sess/a', 'q1', { qos: 1 });
    await pub.publishAsync('js/sess/b', 'q2', { qos: 2 });
    await pub.publishAsync('js/sess/c', 'q1 again', { qos: 1 });
    const second = await connect(opts);
    const msgs = await second.box.take(3);
    return {
      firstSessionPresent: first.connack.sessionPresent,
      secondSessionPresent: second.connack.sessionPresent,
      msgs,
    };
  },
};

async function main() {
  const fn = scenarios[scenario];
  if (!fn || !port) {
    throw new Error('usage: node scenario.js {' + Object.keys(scenarios).join('|') + '} PORT');
  }
  const result = await fn();
  process.stdout.write(JSON.stringify(result) + '\n');
}

const timer = setTimeout(() => {
  process.stderr.write('scenario ' + scenario + ': timed out after ' + TIMEOUT_MS + ' ms\n');
  process.exit(1);
}, TIMEOUT_MS);

main().then(
  async () => {
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => {})));
    clearTimeout(timer);
  },
  (err) => {
    const text = err && err.stack ? err.stack : String(err);
    process.stderr.write('scenario ' + scenario + ': ' + text + '\n');
    process.exit(1);
  },
);
