// handoff/static/lib/dom.js under node's test runner: the element builder every page script uses.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');

const { make, button } = require('../../handoff/static/lib/dom.js');

// Only what the builder touches of a DOM document: elements with a class and a text.
const doc = { createElement: (tag) => ({ tagName: tag, className: '', textContent: '' }) };

test('make sets the class and the text only when given', () => {
  assert.deepEqual(make(doc, 'p', 'hint', 'Gespeichert.'), { tagName: 'p', className: 'hint', textContent: 'Gespeichert.' });
  assert.deepEqual(make(doc, 'div'), { tagName: 'div', className: '', textContent: '' });
  assert.equal(make(doc, 'span', null, 0).textContent, 0);  // 0 is a text, null and undefined are none
});

test('a button is of type button unless told otherwise, so it never submits a form by accident', () => {
  assert.equal(button(doc, 'btn', 'Abbrechen').type, 'button');
  const send = button(doc, 'btn btn-primary', 'Senden', 'submit');
  assert.deepEqual([send.tagName, send.className, send.textContent, send.type], ['button', 'btn btn-primary', 'Senden', 'submit']);
  assert.equal(button(doc, 'bolt-send', null, 'submit').textContent, '');
});
