// The console's workplace and the shared typing throttle (handoff/static/lib/) under node's test
// runner: node --test tests/js/
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');

const { throttle, visibleMs } = require('../../handoff/static/lib/typing.js');
const { entryLabel, strings } = require('../../handoff/static/lib/workplace.js');

test('typing signals pass at most once per interval', () => {
  let now = 0;
  const sent = [];
  const notify = throttle(() => sent.push(now), 1000, () => now);
  for (now = 0; now <= 2500; now += 100) notify();
  assert.deepEqual(sent, [0, 1000, 2000]);
  assert.ok(visibleMs(1000) >= 2000);
});

test('a conversation in "my conversations" is named by its user, else account, else id', () => {
  assert.equal(entryLabel({ id: 'abc', account: { user_name: 'Karl Brandt', name: 'Brandt Logistik' } }), 'Karl Brandt');
  assert.equal(entryLabel({ id: 'abc', account: { name: 'Brandt Logistik' } }), 'Brandt Logistik');
  assert.equal(entryLabel({ id: '0123456789abcdef', account: {} }), '01234567');
});

test('the workplace speaks both languages, German with the formal address', () => {
  for (const lang of ['de', 'en']) {
    const s = strings(lang);
    assert.equal(typeof s.load(1, 3), 'string');
    assert.match(s.alert('P1', 9.6), /P1.*10/);
  }
  assert.match(strings('de').mineEmpty, /\bSie\b/);
  assert.equal(strings('fr'), strings('de'));
});
