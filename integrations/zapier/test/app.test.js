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

test('a wrong key is an authentication error', live, async () => {
  const wrong = { authData: { ...authData, api_key: 'rk_nope_nope' }, inputData: {} };
  await assert.rejects(appTester(App.authentication.test, wrong), /refused the API key/);
});

test('update contact, then find it; a search with no match is empty', live, async () => {
  const contact = await appTester(App.creates.update_contact.operation.perform,
    bundle({ email: 'zap@example.com', first_name: 'Zed', 'properties': { plan: 'pro' } }));
  assert.equal(contact.first_name, 'Zed');
  const found = await appTester(App.searches.find_contact.operation.perform, bundle({ email: 'zap@example.com' }));
  assert.deepEqual(found.map((c) => c.id), [contact.id]);
  const none = await appTester(App.searches.find_contact.operation.perform, bundle({ email: 'none@example.com' }));
  assert.deepEqual(none, []);
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
