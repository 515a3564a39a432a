/*
 * Safe rich text for chat messages, shared by the widget and the agent console.
 *
 *   tokenize('Rufen Sie +49.30.80098621 an oder lesen Sie https://example.com/a.')
 *   -> [{type: 'text', text: 'Rufen Sie '},
 *       {type: 'link', kind: 'phone', text: '+49.30.80098621', href: 'tel:+493080098621'},
 *       {type: 'text', text: ' an oder lesen Sie '},
 *       {type: 'link', kind: 'web', text: 'https://example.com/a', href: 'https://example.com/a'},
 *       {type: 'text', text: '.'}]
 *   appendRichText(parentElement, text)   // the same tokens as DOM nodes
 *
 * Chat text only ever becomes text nodes and textContent, never markup (no innerHTML). Links are
 * made for http:, https: and mailto: (and bare e-mail addresses), each checked with new URL();
 * javascript: and every other scheme stay text. Phone numbers become tel: links whose href holds
 * nothing but "+" and digits, the same rule as `PhoneNumber.tel` in bot/knowledge.py.
 */
'use strict';

var WEB_RE = /(https?:\/\/[^\s<>"']+|mailto:[^\s<>"']+|[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})/g;
var TRAILING_PUNCTUATION = /[.,;:!?)\]}'"»]+$/;
var WEB_PROTOCOLS = ['http:', 'https:', 'mailto:'];

// Digit groups joined by one space, no-break space, dot, hyphen or slash; "(0)" is the trunk
// prefix that is not dialled from abroad ("+49 (0)30 …").
var PHONE_RE = /\+?\d+(?:(?: ?\(0\) ?|[ \u00a0.\-\/])\d+)*/g;
var TRUNK_RE = /\(0\)/g;
// International numbers have at least 7 digits, national ones (leading 0) at least 9, so that
// dates ("01.12.2026"), versions ("5.17") and amounts stay text; E.164 allows 15 at most.
var MIN_INTERNATIONAL_DIGITS = 7;
var MIN_NATIONAL_DIGITS = 9;
var MAX_DIGITS = 15;
var DATE_PREFIX = /^\d{1,2}\.\d{1,2}\.\d{2,4}(?!\d)/;
var GLUED_BEFORE = /[\w.,+\-\/@]/; // "ab0800…", "v1.0800…": part of a longer token, not a number
var GLUED_AFTER = /[A-Za-z0-9_@]/;

function webLink(match) {
  var text = match.replace(TRAILING_PUNCTUATION, '');
  var href = /^(https?:|mailto:)/i.test(text) ? text : 'mailto:' + text;
  var url;
  try { url = new URL(href); } catch (e) { return null; }
  if (WEB_PROTOCOLS.indexOf(url.protocol) === -1) return null;
  return { type: 'link', kind: url.protocol === 'mailto:' ? 'email' : 'web', text: text, href: url.href };
}

function phoneLink(str, match, start) {
  var international = match.charAt(0) === '+';
  var digits = match.replace(TRUNK_RE, '').replace(/\D/g, '');
  if (!international && match.charAt(0) !== '0') return null;
  if (digits.length < (international ? MIN_INTERNATIONAL_DIGITS : MIN_NATIONAL_DIGITS)) return null;
  if (digits.length > MAX_DIGITS || DATE_PREFIX.test(match)) return null;
  if (start > 0 && GLUED_BEFORE.test(str.charAt(start - 1))) return null;
  if (GLUED_AFTER.test(str.charAt(start + match.length))) return null;
  return { type: 'link', kind: 'phone', text: match, href: 'tel:' + (international ? '+' : '') + digits };
}

/** Links found by `pattern` in `str`, as {start, end, token}, in order. */
function scan(str, pattern, make) {
  var found = [];
  var m;
  pattern.lastIndex = 0;
  while ((m = pattern.exec(str)) !== null) {
    var token = make(str, m[0], m.index);
    if (token) found.push({ start: m.index, end: m.index + token.text.length, token: token });
  }
  return found;
}

/** The text split into text and link tokens; joined, their `text`s give back the input. */
function tokenize(text) {
  var str = String(text == null ? '' : text);
  var tokens = [];
  var last = 0;
  function pushText(from, to) {
    if (to > from) tokens.push({ type: 'text', text: str.slice(from, to) });
  }
  function pushWithPhones(from, to) {
    var part = str.slice(from, to);
    var at = 0;
    scan(part, PHONE_RE, phoneLink).forEach(function (link) {
      pushText(from + at, from + link.start);
      tokens.push(link.token);
      at = link.end;
    });
    pushText(from + at, to);
  }
  scan(str, WEB_RE, function (s, match) { return webLink(match); }).forEach(function (link) {
    pushWithPhones(last, link.start);
    tokens.push(link.token);
    last = link.end;
  });
  pushWithPhones(last, str.length);
  return tokens;
}

/** Append `text` to the element `parent`: text nodes, and <a> elements for the links. */
function appendRichText(parent, text) {
  var doc = parent.ownerDocument;
  tokenize(text).forEach(function (token) {
    if (token.type === 'text') {
      parent.appendChild(doc.createTextNode(token.text));
      return;
    }
    var a = doc.createElement('a');
    a.setAttribute('href', token.href);
    a.setAttribute('rel', 'noopener noreferrer');
    if (token.kind === 'web') a.setAttribute('target', '_blank');
    a.textContent = token.text;
    parent.appendChild(a);
  });
}

module.exports = { tokenize: tokenize, appendRichText: appendRichText };
