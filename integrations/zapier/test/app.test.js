'use strict';

// The app's perform functions against a live Reengage server (started by tests/integrations/test_zapier_app.py,
// which passes its URL and an API key). Nothing here is mocked: requests go through zapier-platform-core.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const zapier = require('zapier-platform-core');
const App = require('../index');

const appTester = zapier.createAppTester(App);
const base = process.env.REENGAGE_URL;
const authData = { base_url: base, api_key: process.env.REENGAGE_API_KEY };
const live = { skip: !base && 'REENGAGE_URL is not set: run through pytest tests/integrations' };
const bundle = (inputData = {}, extra = {}) => ({ authData, inputData, ...extra });

test('the auth test answers the account and the label names it', live, async () => {
  const account = await appTester(App.authentication.test, bundle());
  assert.equal(account.name, 'Zapier Test Co');
});

test('a wrong or revoked key expires the connection', live, async () => {
  const wrong = { authData: { ...authData, api_key: 'rk_nope_nope' }, inputData: {} };
  await assert.rejects(appTester(App.authentication.test, wrong),
    (error) => error.name === 'ExpiredAuthError' && /refused the API key/.test(error.message));
  await assert.rejects(appTester(App.searches.find_contact.operation.perform, { ...wrong, inputData: {
    lookup_by: 'email', lookup_value: 'zap@example.com' } }), (error) => error.name === 'ExpiredAuthError');
});

test('find or create contact: the search misses, the create makes it, the search then finds it', live, async () => {
  const pair = App.searchOrCreates.find_contact;
  const find = (value) => appTester(App.searches[pair.search].operation.perform,
    bundle({ lookup_by: 'email', lookup_value: value }));
  assert.deepEqual(await find('zap@example.com'), []);
  const contact = await appTester(App.creates[pair.create].operation.perform,
    bundle({ email: 'zap@example.com', first_name: 'Zed', 'properties': { plan: 'pro' } }));
  assert.equal(contact.first_name, 'Zed');
  assert.deepEqual((await find('zap@example.com')).map((c) => c.id), [contact.id]);
  assert.deepEqual(await find('none@example.com'), []);
});

test('searches ask for the identifier the server requires', () => {
  for (const unit of Object.values(App.searches)) {
    const required = unit.operation.inputFields.filter((field) => field.required).map((field) => field.key);
    assert.deepEqual(required, ['lookup_by', 'lookup_value'], unit.key);
  }
});

test('every unit declares output fields covering its sample', () => {
  for (const units of [App.triggers, App.creates, App.searches]) {
    for (const unit of Object.values(units).filter((u) => !u.display.hidden)) {
      const heads = new Set(unit.operation.outputFields.map((field) => field.key.split(/__|\[\]/)[0]));
      assert.deepEqual(Object.keys(unit.operation.sample).filter((key) => !heads.has(key)), [], unit.key);
    }
  }
});

test('id inputs offer a dropdown of records and a search step', live, async () => {
  const idFields = Object.values(App.creates).flatMap((unit) => unit.operation.inputFields)
    .filter((field) => ['contact_id', 'dropoff_id', 'deal_id'].includes(field.key));
  assert.ok(idFields.length >= 3);
  for (const field of idFields) {
    const [list] = field.dynamic.split('.');
    assert.ok(App.triggers[list].display.hidden, field.dynamic);
  }
  assert.ok(idFields.filter((field) => field.key === 'contact_id').every((field) => field.search === 'find_contact.id'));
  const contacts = await appTester(App.triggers.contacts_list.operation.perform, bundle());
  assert.ok(contacts.some((contact) => contact.email === 'zap@example.com' && contact.name !== undefined));
});

test('a bad input comes back as an error naming the field', live, async () => {
  await assert.rejects(
    appTester(App.creates.record_event.operation.perform, bundle({ type: 'x', 'contact.email': 'not-an-email' })),
    /contact\.email/);
});

test('dropdowns list ids and names', live, async () => {
  const phases = await appTester(App.triggers.phases_list.operation.perform, bundle());
  assert.deepEqual(phases.map((p) => p.id), [1, 2, 3, 4, 5]);
  const scenarios = await appTester(App.triggers.scenarios_list.operation.perform, bundle());
  assert.ok(scenarios.some((s) => s.id === 'sales.application_abandoned'));
});

test('every trigger polls an array in the sample shape', live, async () => {
  for (const key of ['dropoff_detected', 'message_due', 'contact_recovered', 'contact_engaged']) {
    const items = await appTester(App.triggers[key].operation.performList, bundle());
    assert.ok(Array.isArray(items), key);
  }
});

test('a REST hook subscription receives a new engagement, signed, in the polling shape', live, async () => {
  const received = [];
  const server = http.createServer((request, response) => {
    let raw = '';
    request.on('data', (chunk) => { raw += chunk; });
    request.on('end', () => {
      received.push({ headers: request.headers, body: JSON.parse(raw) });
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.end('{"status":"success"}');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const targetUrl = `http://127.0.0.1:${server.address().port}/hooks/zap`;
  const engaged = App.triggers.contact_engaged.operation;
  try {
    const hook = await appTester(engaged.performSubscribe, bundle({ engagement: 'replied' }, { targetUrl }));
    assert.ok(hook.id && hook.secret);
    await appTester(App.creates.record_event.operation.perform,
      bundle({ id: 'zap-reply-1', type: 'email.replied', 'contact.email': 'zap@example.com' }));
    await appTester(App.creates.record_event.operation.perform,
      bundle({ id: 'zap-open-1', type: 'email.opened', 'contact.email': 'zap@example.com' }));
    for (let waited = 0; received.length === 0 && waited < 30000; waited += 250) {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    assert.equal(received.length, 1, 'one delivery: the open does not pass the filter');
    assert.match(received[0].headers['reengage-signature'], /^t=\d+,v1=[0-9a-f]{64}$/);
    const [item] = await appTester(engaged.perform, bundle({}, { cleanedRequest: received[0].body }));
    const [polled] = await appTester(engaged.performList, bundle({ engagement: 'replied' }));
    assert.equal(item.id, polled.id);
    assert.deepEqual(Object.keys(item).sort(), Object.keys(engaged.sample).sort());
    await appTester(engaged.performUnsubscribe, bundle({}, { subscribeData: hook }));
  } finally {
    server.close();
  }
});

test('send phase message sends a flow step without a written message', live, async () => {
  const send = App.creates.send_phase_message.operation;
  const required = send.inputFields.filter((field) => field.required).map((field) => field.key);
  assert.deepEqual(required, ['flow']);
  const sent = await appTester(send.perform, bundle({ email: 'zap@example.com', flow: 'sales', phase: 1,
    idempotency_key: 'zap-step-1' }));
  assert.equal(sent.phase, 1);
  assert.equal(sent.created, true);
});

test('send phase message goes through the flow, once per idempotency key', live, async () => {
  const flows = await appTester(App.triggers.flows_list.operation.perform, bundle());
  assert.ok(flows.some((f) => f.id === 'sales'), 'the test server has the sales flow');
  const input = { email: 'zap@example.com', flow: 'sales', idempotency_key: 'zap-run-1',
    'message.subject': 'Hello', 'message.body': 'Your spot is saved.' };
  const first = await appTester(App.creates.send_phase_message.operation.perform, bundle(input));
  const again = await appTester(App.creates.send_phase_message.operation.perform, bundle(input));
  assert.equal(again.id, first.id);
  assert.equal(again.created, false);
});
