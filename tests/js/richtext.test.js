// The shared safe renderer (handoff/static/lib/richtext.js) under node's test runner:
//   node --test tests/js/        (make test-js; make test runs it)
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');

const { tokenize, appendRichText } = require('../../handoff/static/lib/richtext.js');
const { utf8Length, fits } = require('../../handoff/static/lib/text.js');

/** A minimal DOM that records what the renderer builds and refuses any way to inject markup. */
class FakeNode {
  constructor(doc, tag, text) {
    this.ownerDocument = doc;
    this.tagName = tag;
    this.text = text;
    this.attributes = {};
    this.children = [];
  }
  appendChild(child) { this.children.push(child); return child; }
  setAttribute(name, value) { this.attributes[name] = String(value); }
  set textContent(value) { this.text = String(value); }
  get textContent() { return this.tagName === '#text' ? this.text : this.children.map((c) => c.textContent).join('') || this.text || ''; }
  set innerHTML(_) { throw new Error('innerHTML must never be used'); }
  set outerHTML(_) { throw new Error('outerHTML must never be used'); }
  insertAdjacentHTML() { throw new Error('insertAdjacentHTML must never be used'); }
}
class FakeDocument {
  createTextNode(text) { return new FakeNode(this, '#text', text); }
  createElement(tag) { return new FakeNode(this, tag.toLowerCase()); }
  write() { throw new Error('document.write must never be used'); }
}
function render(text) {
  const parent = new FakeDocument().createElement('p');
  appendRichText(parent, text);
  return parent;
}
function links(text) {
  return tokenize(text).filter((t) => t.type === 'link').map((t) => [t.kind, t.text, t.href]);
}

test('plain text stays one text token, whatever it holds', () => {
  for (const text of ['Hallo!', '', '<b>fett</b>', '<img src=x onerror="alert(1)">', 'a & b < c']) {
    const tokens = tokenize(text);
    assert.deepEqual(tokens, text ? [{ type: 'text', text }] : []);
  }
  assert.deepEqual(tokenize(null), []);
  assert.deepEqual(tokenize(42), [{ type: 'text', text: '42' }]);
});

test('joined tokens give back the input exactly', () => {
  const samples = [
    'Telefon-Support in Japan: +81 120427732 oder +81 0053.132.0070 Durchwahl 2.',
    'Siehe https://example.com/hilfe?x=1, oder schreiben Sie an support@example.com.',
    'Rufen Sie +49 (0)30 80098621 an – oder mailto:a@b.de (Betreff: P1).',
    '<script>alert(1)</script> +49 30 1234567"><img src=x>',
  ];
  for (const text of samples) assert.equal(tokenize(text).map((t) => t.text).join(''), text);
});

test('web and e-mail links: http, https and mailto only, trailing punctuation left out', () => {
  assert.deepEqual(links('Mehr unter https://support.example.com/artikel/42.'), [
    ['web', 'https://support.example.com/artikel/42', 'https://support.example.com/artikel/42'],
  ]);
  assert.deepEqual(links('(siehe http://example.com)'), [['web', 'http://example.com', 'http://example.com/']]);
  assert.deepEqual(links('Schreiben Sie an support@example.com!'), [
    ['email', 'support@example.com', 'mailto:support@example.com'],
  ]);
  assert.deepEqual(links('mailto:billing@example.com?subject=Rechnung'), [
    ['email', 'mailto:billing@example.com?subject=Rechnung', 'mailto:billing@example.com?subject=Rechnung'],
  ]);
  for (const text of ['javascript:alert(1)', 'JaVaScRiPt:alert(1)', 'data:text/html,<b>x</b>',
    'vbscript:msgbox(1)', 'file:///etc/passwd', 'ftp://example.com/x']) {
    assert.deepEqual(links(text), [], text);
  }
});

test('the seed\'s phone numbers become tel: links of their digits', () => {
  const numbers = {
    '+1.888.799.9666': 'tel:+18887999666',
    '+43.3162 31266': 'tel:+43316231266',
    '0800.761.2618': 'tel:08007612618',
    '+49.30.80098621': 'tel:+493080098621',
    '+49 0800.0010429': 'tel:+4908000010429',
    '000.800.050.2040': 'tel:0008000502040',
    '+39 07611811003': 'tel:+3907611811003',
    '+81 0053.132.0070': 'tel:+8100531320070',
    '+852.3002.3757': 'tel:+85230023757',
  };
  for (const [number, href] of Object.entries(numbers)) {
    assert.deepEqual(links(`Telefon: ${number} Durchwahl 2.`), [['phone', number, href]], number);
  }
});

test('other ways of writing numbers: spaces, hyphens, slashes, (0), no-break spaces', () => {
  assert.deepEqual(links('+49 (0)30 80098621'), [['phone', '+49 (0)30 80098621', 'tel:+493080098621']]);
  assert.deepEqual(links('030/80098621-0'), [['phone', '030/80098621-0', 'tel:030800986210']]);
  assert.deepEqual(links('+49\u00a030\u00a080098621'), [['phone', '+49\u00a030\u00a080098621', 'tel:+493080098621']]);
  assert.deepEqual(links('Nummern: +81 120427732 oder +81 0053.132.0070'), [
    ['phone', '+81 120427732', 'tel:+81120427732'],
    ['phone', '+81 0053.132.0070', 'tel:+8100531320070'],
  ]);
});

test('dates, versions, times, amounts, ids and codes stay text', () => {
  for (const text of [
    'am 01.12.2026 um 10:30', 'seit dem 01.12.2026 15:30 Uhr', 'Version 5.17.3', 'Meeting-ID 123 4567 8901',
    'Kosten: 0,50 €', 'Fehler 0x80070005', 'Ticket T-00012345', 'IP 10.0.0.1', 'P1 in 4 Stunden',
    'Hostschlüssel 123456', 'ab0800123456', '+49', '0800 123', 'Konto acc-business',
    '1234567890123456789 Ziffern', '+1234567890123456789',
  ]) {
    assert.deepEqual(links(text), [], text);
  }
});

test('links inside web addresses are not split into phone numbers', () => {
  assert.deepEqual(links('https://example.com/call/+4930800986210'), [
    ['web', 'https://example.com/call/+4930800986210', 'https://example.com/call/+4930800986210'],
  ]);
  assert.deepEqual(links('kontakt+0800123456789@example.com'), [
    ['email', 'kontakt+0800123456789@example.com', 'mailto:kontakt+0800123456789@example.com'],
  ]);
});

test('rendering builds text nodes and safe <a> elements only', () => {
  const payload = '<img src=x onerror="window.__xss=1"> +49 30 1234567"><script>x()</script> https://e.com/"onmouseover="x';
  const p = render(payload);
  assert.equal(p.textContent, payload);
  const anchors = p.children.filter((c) => c.tagName === 'a');
  assert.deepEqual(p.children.map((c) => c.tagName), ['#text', 'a', '#text', 'a', '#text']);
  assert.deepEqual(anchors[0].attributes, { href: 'tel:+49301234567', rel: 'noopener noreferrer' });
  assert.equal(anchors[0].textContent, '+49 30 1234567');
  assert.equal(anchors[1].attributes.href, 'https://e.com/');
  assert.equal(anchors[1].attributes.target, '_blank');
  assert.equal(anchors[1].attributes.rel, 'noopener noreferrer');
  for (const node of p.children) {
    if (node.tagName === 'a') assert.match(node.attributes.href, /^(tel:\+?\d+|https?:\/\/|mailto:)/);
    else assert.equal(node.tagName, '#text');
  }
});

test('a tel: href never carries anything but "+" and digits', () => {
  const tricky = ['+49 30 1234567"onclick="x', '+49 30 1234567<', '+49 (0)30 1234567\'', '0800-1234567/\\'];
  for (const text of tricky) {
    for (const t of tokenize(text).filter((x) => x.kind === 'phone')) assert.match(t.href, /^tel:\+?\d+$/, text);
  }
});

test('text limits count bytes of UTF-8 as the service does', () => {
  assert.equal(utf8Length('abc'), 3);
  assert.equal(utf8Length('ä'), 2);
  assert.equal(utf8Length('€'), 3);
  assert.equal(utf8Length('😀'), 4);
  assert.equal(utf8Length('ä'.repeat(2100)), 4200);
  assert.equal(fits('ä'.repeat(2048), 4096), true);
  assert.equal(fits('ä'.repeat(2049), 4096), false);
  assert.equal(fits('x'.repeat(4096), 4096), true);
});
