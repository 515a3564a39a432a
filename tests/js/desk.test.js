// The console's desk modules (handoff/static/lib/canned.js, notes.js, supervisor.js, csat.js)
// under node's test runner: the "/" shortcut, the matching, the insert, the number formats.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');

const { slashQuery, matchCanned, insertCanned } = require('../../handoff/static/lib/canned.js');
const { stars } = require('../../handoff/static/lib/notes.js');
const { formatWait, percent } = require('../../handoff/static/lib/supervisor.js');
const { ratingFrame } = require('../../handoff/static/lib/csat.js');

const ENTRIES = [
  { key: 'phone-de', title: 'Telefon: Deutschland', text: 'Telefon-Support in Deutschland: +49 30 80098621.' },
  { key: 'phone-at', title: 'Telefon: Österreich', text: 'AT' },
  { key: 'plan-premier', title: 'Support-Abo Premier', text: 'P' },
  { key: 'p1', title: 'Priorität P1', text: 'P1: …' },
];

test('a slash starts a shortcut at the start or after a space, up to the caret', () => {
  assert.deepEqual(slashQuery('/pho', 4), { start: 0, end: 4, query: 'pho' });
  assert.deepEqual(slashQuery('Hallo /Phone-D', 14), { start: 6, end: 14, query: 'phone-d' });
  assert.deepEqual(slashQuery('Hallo /', 7), { start: 6, end: 7, query: '' });
  assert.equal(slashQuery('https://example.com/a', 21), null);  // not after a space
  assert.equal(slashQuery('und/oder', 8), null);
  assert.equal(slashQuery('/p1 danach', 10), null);               // the caret is past it
  assert.deepEqual(slashQuery('/p1 danach', 3), { start: 0, end: 3, query: 'p1' });
});

test('keys that start with the query come first, then keys or titles containing it', () => {
  assert.deepEqual(matchCanned(ENTRIES, 'p').map((e) => e.key), ['phone-de', 'phone-at', 'plan-premier', 'p1']);
  assert.deepEqual(matchCanned(ENTRIES, 'p1').map((e) => e.key), ['p1']);
  assert.deepEqual(matchCanned(ENTRIES, 'österreich').map((e) => e.key), ['phone-at']);
  assert.deepEqual(matchCanned(ENTRIES, 'premier').map((e) => e.key), ['plan-premier']);
  assert.deepEqual(matchCanned(ENTRIES, 'zzz'), []);
  assert.equal(matchCanned(ENTRIES, '').length, 4);
});

test('inserting replaces the shortcut and puts the caret after the text', () => {
  assert.deepEqual(insertCanned('Hallo /pho bis bald', { start: 6, end: 10 }, 'NUMMER'),
    { value: 'Hallo NUMMER bis bald', caret: 12 });
  assert.deepEqual(insertCanned('abc', null, 'X'), { value: 'abcX', caret: 4 });
});

test('numbers as the console shows them', () => {
  assert.equal(stars(4), '★★★★☆');
  assert.equal(stars(9), '★★★★★');
  assert.equal(formatWait(95, 'de'), '1:35 Min.');
  assert.equal(formatWait(5, 'en'), '0:05 min');
  assert.equal(formatWait(null, 'de'), '–');
  assert.equal(percent(0.333, 'de'), '33,3 %');
  assert.equal(percent(0.5, 'en'), '50 %');
  assert.deepEqual(ratingFrame(3, '  gut  '), { type: 'csat', score: 3, comment: 'gut' });
  assert.deepEqual(ratingFrame(5, '   '), { type: 'csat', score: 5 });
});
