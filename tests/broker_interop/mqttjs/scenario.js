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
      return this.before(markerTopic);
    },
    // Messages received before one on markerTopic (published by someone else) arrives.
    async before(markerTopic) {
      const out = [];
      for (;;) {
        const m = await this.next();
        if (m.topic === markerTopic) return out;
        out.push(m);
      }
    },
  };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// End a client's connection without DISCONNECT, as a crash would (the Server must treat it as
// a network failure: Will, session kept). Resolves once the socket is closed.
function drop(c) {
  return new Promise((resolve) => {
    c.stream.once('close', () => resolve());
    c.stream.destroy();
  });
}

// The PUBLISH packets a client receives, as they come off the wire (before MQTT.js resolves a
// Topic Alias): topic as sent (empty when only the alias is), alias, payload.
function wireLog(c) {
  const log = [];
  c.on('packetreceive', (p) => {
    if (p.cmd === 'publish') {
      log.push({
        topic: p.topic.toString(),
        topicAlias: (p.properties || {}).topicAlias,
        payload: p.payload.toString(),
      });
    }
  });
  return log;
}

// Subscription Identifier(s) of a received message as a sorted list (MQTT.js gives a number
// for one, an array for several, nothing for none).
function subIds(m) {
  const v = m.properties.subscriptionIdentifier;
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).slice().sort((a, b) => a - b);
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

  // Shared subscription $share/g/js/sh/t with two MQTT.js members (QoS 1 and QoS 0): 20
  // messages, each to one member; then a marker on a plain topic both subscribe to, so a
  // duplicate (which would come before it) is seen.
  async shared() {
    const { c: a, box: ba } = await connect({ clientId: 'js-sh-a' });
    const { c: b, box: bb } = await connect({ clientId: 'js-sh-b' });
    const ga = await a.subscribeAsync({ '$share/g/js/sh/t': { qos: 1 }, 'js/sh/mark': { qos: 1 } });
    const gb = await b.subscribeAsync({ '$share/g/js/sh/t': { qos: 0 }, 'js/sh/mark': { qos: 1 } });
    const { c: pub } = await connect({ clientId: 'js-sh-pub' });
    const n = 20;
    for (let i = 0; i < n; i++) await pub.publishAsync('js/sh/t', String(i), { qos: 1 });
    await pub.publishAsync('js/sh/mark', 'marker', { qos: 1 });
    const brief = (m) => ({ payload: m.payload, qos: m.qos, topic: m.topic });
    const gotA = (await ba.before('js/sh/mark')).map(brief);
    const gotB = (await bb.before('js/sh/mark')).map(brief);
    return {
      n,
      granted: [ga.map((g) => g.qos), gb.map((g) => g.qos)],
      a: gotA,
      b: gotB,
    };
  },

  // Request/response: the requester publishes to the service topic with a Response Topic and
  // Correlation Data; the responder answers on that Response Topic with the Correlation Data
  // it received. Two requests in flight, told apart by their Correlation Data.
  async reqresp() {
    const { c: req, box: reqBox } = await connect({ clientId: 'js-rr-req' });
    await req.subscribeAsync('js/rr/reply/js-rr-req', { qos: 1 });
    const { c: resp, box: respBox } = await connect({ clientId: 'js-rr-resp' });
    await resp.subscribeAsync('js/rr/svc', { qos: 1 });
    const corr = [Buffer.from([0, 0xff, 0x10, 0x80]), Buffer.from('req-2\u00e9', 'utf8')];
    for (let i = 0; i < 2; i++) {
      await req.publishAsync('js/rr/svc', 'question ' + i, {
        qos: 1,
        properties: { responseTopic: 'js/rr/reply/js-rr-req', correlationData: corr[i] },
      });
    }
    const requests = await respBox.take(2);
    for (const m of requests) {
      await resp.publishAsync(m.properties.responseTopic, 'answer to ' + m.payload, {
        qos: 1,
        properties: { correlationData: Buffer.from(m.properties.correlationData, 'hex') },
      });
    }
    const replies = await reqBox.take(2);
    return { sentCorrelation: corr.map((b) => b.toString('hex')), requests, replies };
  },

  // Topic Aliases from the broker: a subscriber that allows 2 (CONNECT Topic Alias Maximum)
  // and one that allows none get 3 topics, 3 rounds each. The wire log shows what the broker
  // sent; MQTT.js resolves aliases (and disconnects on an unknown or too large one).
  async serveralias() {
    const max = 2;
    const { c: sub, box } = await connect({
      clientId: 'js-sa-sub',
      properties: { topicAliasMaximum: max },
    });
    const wire = wireLog(sub);
    await sub.subscribeAsync('js/sa/#', { qos: 1 });
    const { c: plain, box: plainBox } = await connect({ clientId: 'js-sa-plain' });
    const plainWire = wireLog(plain);
    await plain.subscribeAsync('js/sa/#', { qos: 1 });
    const { c: pub } = await connect({ clientId: 'js-sa-pub' });
    const sent = [];
    for (let round = 0; round < 3; round++) {
      for (const t of ['a', 'b', 'c']) {
        const topic = 'js/sa/long/topic/name/' + t;
        sent.push({ topic, payload: t + round });
        await pub.publishAsync(topic, t + round, { qos: 1 });
      }
    }
    const brief = (m) => ({ topic: m.topic, payload: m.payload });
    const msgs = (await box.take(sent.length)).map(brief);
    const plainMsgs = (await plainBox.take(sent.length)).map(brief);
    return { max, sent, msgs, wire, plainMsgs, plainWire };
  },

  // Message Expiry: a persistent session's subscriber goes offline; three messages are queued
  // (expiry 1 s, expiry 60 s, none); after 2.5 s it resumes.
  async msgexpiry() {
    const opts = {
      clientId: 'js-mexp',
      clean: false,
      properties: { sessionExpiryInterval: 300 },
    };
    const first = await connect(opts);
    await first.c.subscribeAsync('js/mexp/#', { qos: 1 });
    await first.c.endAsync();
    const { c: pub } = await connect({ clientId: 'js-mexp-pub' });
    await pub.publishAsync('js/mexp/short', 'short', {
      qos: 1,
      properties: { messageExpiryInterval: 1 },
    });
    await pub.publishAsync('js/mexp/long', 'long', {
      qos: 1,
      properties: { messageExpiryInterval: 60 },
    });
    await pub.publishAsync('js/mexp/none', 'none', { qos: 1 });
    await sleep(2500); // the 1 s interval passing while queued is what is tested
    const second = await connect(opts);
    const msgs = await second.box.until(pub, 'js/mexp/marker');
    return { sessionPresent: second.connack.sessionPresent, msgs };
  },

  // Subscription Identifiers: each subscription's own id; an overlapping pair; none; a
  // replaced subscription's new id; the largest id (268,435,455, 4-byte VBI).
  async subid() {
    const { c, box } = await connect({ clientId: 'js-sid' });
    await c.subscribeAsync('js/sid/a/+', { qos: 1, properties: { subscriptionIdentifier: 5 } });
    await c.subscribeAsync('js/sid/a/x', { qos: 1, properties: { subscriptionIdentifier: 77 } });
    await c.subscribeAsync('js/sid/b', {
      qos: 1,
      properties: { subscriptionIdentifier: 268435455 },
    });
    await c.subscribeAsync(['js/sid/c', 'js/sid/mark'], { qos: 1 });
    const { c: pub } = await connect({ clientId: 'js-sid-pub' });
    const brief = (m) => ({ topic: m.topic, payload: m.payload, ids: subIds(m) });
    await pub.publishAsync('js/sid/a/y', 'one', { qos: 1 });
    await pub.publishAsync('js/sid/b', 'big', { qos: 1 });
    await pub.publishAsync('js/sid/c', 'none', { qos: 1 });
    await pub.publishAsync('js/sid/a/x', 'both', { qos: 1 });
    const first = (await box.until(pub, 'js/sid/mark')).map(brief);
    // Replacing js/sid/b's subscription replaces its identifier too ([MQTT-3.8.4-3]).
    await c.subscribeAsync('js/sid/b', { qos: 1, properties: { subscriptionIdentifier: 9 } });
    await pub.publishAsync('js/sid/b', 'replaced', { qos: 1 });
    const second = (await box.until(pub, 'js/sid/mark')).map(brief);
    return { first, second };
  },

  // No Local: a subscriber with nl does not get its own messages on that subscription, it
  // does get another client's; a subscriber without nl gets both.
  async nolocal() {
    const { c: nl, box: nlBox } = await connect({ clientId: 'js-nl' });
    await nl.subscribeAsync({ 'js/nl/t': { qos: 1, nl: true }, 'js/nl/mark': { qos: 1 } });
    const { c: other, box: otherBox } = await connect({ clientId: 'js-nl-other' });
    await other.subscribeAsync('js/nl/t', { qos: 1 });
    await nl.publishAsync('js/nl/t', 'own', { qos: 1 });
    await other.publishAsync('js/nl/t', 'theirs', { qos: 1 });
    const brief = (m) => ({ topic: m.topic, payload: m.payload });
    // The marker comes from the No Local client itself, after its own message.
    const nlGot = (await nlBox.until(nl, 'js/nl/mark')).map(brief);
    const otherGot = (await otherBox.take(2)).map(brief);
    return { nlGot, otherGot };
  },

  // Retain Handling 0/1/2 at (re-)subscription, and Retain As Published on live delivery.
  async retainopts() {
    const { c: pub } = await connect({ clientId: 'js-rh-pub' });
    await pub.publishAsync('js/rh/t', 'kept', { qos: 1, retain: true });
    const brief = (m) => ({ payload: m.payload, retain: m.retain });
    const { c, box } = await connect({ clientId: 'js-rh-sub' });
    await c.subscribeAsync('js/rh/mark', { qos: 1 });
    const step = async (client, b, rh) => {
      await client.subscribeAsync('js/rh/t', { qos: 1, rh });
      return (await b.until(pub, 'js/rh/mark')).map(brief);
    };
    const rh1New = await step(c, box, 1);
    const rh1Again = await step(c, box, 1);
    const rh0Again = await step(c, box, 0);
    const { c: d, box: dBox } = await connect({ clientId: 'js-rh-sub2' });
    await d.subscribeAsync('js/rh/mark', { qos: 1 });
    const rh2New = await step(d, dBox, 2);

    const { c: rap, box: rapBox } = await connect({ clientId: 'js-rap' });
    await rap.subscribeAsync('js/rap/t', { qos: 1, rap: true });
    const { c: norap, box: norapBox } = await connect({ clientId: 'js-norap' });
    await norap.subscribeAsync('js/rap/t', { qos: 1, rap: false });
    await pub.publishAsync('js/rap/t', 'r', { qos: 1, retain: true });
    await pub.publishAsync('js/rap/t', 'n', { qos: 1, retain: false });
    const rapGot = (await rapBox.take(2)).map(brief);
    const norapGot = (await norapBox.take(2)).map(brief);
    // A new subscription with Retain As Published gets the stored message with RETAIN 1.
    const { c: late, box: lateBox } = await connect({ clientId: 'js-rap-late' });
    await late.subscribeAsync({ 'js/rap/t': { qos: 1, rap: true }, 'js/rh/mark': { qos: 1 } });
    const lateGot = (await lateBox.until(pub, 'js/rh/mark')).map(brief);
    await pub.publishAsync('js/rap/t', '', { qos: 1, retain: true }); // clear
    await pub.publishAsync('js/rh/t', '', { qos: 1, retain: true });
    return { rh1New, rh1Again, rh0Again, rh2New, rapGot, norapGot, lateGot };
  },

  // Will Delay Interval 1 s on two clients whose connections drop at the same time: one
  // resumes its session at once (its Will must not be sent), the other does not (its Will is
  // sent after about 1 s). The watcher sees a marker published right after the drops first;
  // a second marker once 2 s have passed closes the window for the resumed client's Will.
  async willdelay() {
    const { c: w, box } = await connect({ clientId: 'js-wd-watch' });
    await w.subscribeAsync('js/wd/#', { qos: 1 });
    const persistent = (id, delay) => ({
      clientId: id,
      clean: false,
      properties: { sessionExpiryInterval: 10 },
      will: {
        topic: 'js/wd/' + id,
        payload: 'will of ' + id,
        qos: 1,
        retain: false,
        properties: { willDelayInterval: delay },
      },
    });
    const { c: back } = await connect(persistent('js-wd-back', 1));
    const { c: gone } = await connect(persistent('js-wd-gone', 1));
    await Promise.all([drop(back), drop(gone)]);
    const dropped = Date.now();
    const resumed = await connect({
      clientId: 'js-wd-back',
      clean: false,
      properties: { sessionExpiryInterval: 10 },
    });
    await w.publishAsync('js/wd/mark1', 'marker', { qos: 1 });
    const events = [];
    for (;;) {
      const m = await box.next();
      events.push({ topic: m.topic, payload: m.payload, afterMs: Date.now() - dropped });
      if (m.topic === 'js/wd/js-wd-gone') break;
    }
    await sleep(Math.max(0, 2000 - (Date.now() - dropped))); // past the resumed one's delay
    const late = await box.until(w, 'js/wd/mark2');
    return {
      resumedSessionPresent: resumed.connack.sessionPresent,
      events,
      late: late.map((m) => ({ topic: m.topic, payload: m.payload })),
    };
  },

  // Session Expiry: two persistent sessions with one subscription each go offline and get a
  // queued message; one has Session Expiry 1 s, the other 300 s. After 2.5 s the first is
  // gone (Session Present 0, no queued message, no subscription), the second resumes.
  async sessexpiry() {
    const opts = (id, expiry) => ({
      clientId: id,
      clean: false,
      properties: { sessionExpiryInterval: expiry },
    });
    for (const [id, expiry] of [['js-sx-short', 1], ['js-sx-long', 300]]) {
      const { c } = await connect(opts(id, expiry));
      await c.subscribeAsync('js/sx/' + id, { qos: 1 });
      await c.endAsync();
    }
    const { c: pub } = await connect({ clientId: 'js-sx-pub' });
    await pub.publishAsync('js/sx/js-sx-short', 'queued', { qos: 1 });
    await pub.publishAsync('js/sx/js-sx-long', 'queued', { qos: 1 });
    await sleep(2500); // the 1 s Session Expiry Interval passing is what is tested
    const brief = (m) => ({ topic: m.topic, payload: m.payload });
    const out = {};
    for (const id of ['js-sx-short', 'js-sx-long']) {
      const { c, connack, box } = await connect(opts(id, 300));
      await c.subscribeAsync('js/sx/mark/' + id, { qos: 1 });
      await pub.publishAsync('js/sx/' + id, 'live', { qos: 1 });
      const got = await box.until(pub, 'js/sx/mark/' + id);
      out[id] = { sessionPresent: connack.sessionPresent, msgs: got.map(brief) };
    }
    return out;
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
