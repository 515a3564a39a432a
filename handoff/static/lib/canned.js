/*
 * Canned answers in the agent console (`GET /api/canned?lang=`, built by the service from the
 * knowledge data): a list to pick from by click, and the "/" shortcut in the reply box.
 *
 *   slashQuery('Hallo /pho', 10)        -> { start: 6, query: 'pho' }   (null when no shortcut)
 *   matchCanned(entries, 'pho')         -> entries whose key starts with / title contains it
 *   insertCanned('Hallo /pho', {start: 6, end: 10}, 'Telefon …') -> { value, caret }
 *   attachPicker({ input, button, host, load, strings })   // the DOM part
 */
'use strict';

var STRINGS = {
  de: { title: 'Textbausteine', button: 'Textbausteine', none: 'Kein Textbaustein passt.',
        hint: 'Tippen Sie / für Textbausteine.' },
  en: { title: 'Canned answers', button: 'Canned answers', none: 'No canned answer matches.',
        hint: 'Type / for canned answers.' }
};

var SLASH_RE = /(^|\s)\/([A-Za-z0-9_-]*)$/;
var MAX_SHOWN = 8;

/** The "/word" right before the caret (at the start or after a space), or null. */
function slashQuery(value, caret) {
  var before = String(value || '').slice(0, caret == null ? undefined : caret);
  var m = SLASH_RE.exec(before);
  if (!m) return null;
  return { start: before.length - m[2].length - 1, end: before.length, query: m[2].toLowerCase() };
}

/** Entries for `query`: keys starting with it first, then keys or titles containing it. */
function matchCanned(entries, query) {
  var q = String(query || '').toLowerCase();
  if (!q) return entries.slice();
  var first = [], then = [];
  entries.forEach(function (e) {
    var key = String(e.key).toLowerCase(), title = String(e.title).toLowerCase();
    if (key.indexOf(q) === 0) first.push(e);
    else if (key.indexOf(q) !== -1 || title.indexOf(q) !== -1) then.push(e);
  });
  return first.concat(then);
}

/** `value` with the range replaced by `text`; the caret goes right after it. */
function insertCanned(value, range, text) {
  var v = String(value || '');
  var start = range ? range.start : v.length, end = range ? range.end : v.length;
  var next = v.slice(0, start) + text + v.slice(end);
  return { value: next, caret: start + text.length };
}

var counter = 0;

/**
 * The picker: a listbox under the reply box. Typing "/" plus letters filters it (arrows move,
 * Enter or Tab inserts, Escape closes); the button shows every entry for a click. `load()`
 * returns a Promise of the entries (in the conversation's language).
 */
function attachPicker(opts) {
  var doc = opts.input.ownerDocument;
  var list = doc.createElement('ul');
  var id = 'canned-' + (++counter);
  list.id = id;
  list.className = 'canned-list';
  list.setAttribute('role', 'listbox');
  list.setAttribute('aria-label', opts.strings.title);
  list.hidden = true;
  opts.host.appendChild(list);
  var shown = [], active = -1, range = null, fromButton = false;

  function close() {
    list.hidden = true;
    shown = []; active = -1; range = null;
    opts.input.removeAttribute('aria-activedescendant');
    if (opts.button) opts.button.setAttribute('aria-expanded', 'false');
  }

  function mark() {
    Array.prototype.forEach.call(list.children, function (li, i) {
      li.setAttribute('aria-selected', i === active ? 'true' : 'false');
    });
    if (active >= 0 && list.children[active]) {
      opts.input.setAttribute('aria-activedescendant', list.children[active].id);
      if (list.children[active].scrollIntoView) list.children[active].scrollIntoView({ block: 'nearest' });
    }
  }

  function choose(entry) {
    var result = insertCanned(opts.input.value, range, entry.text);
    opts.input.value = result.value;
    close();
    opts.input.focus();
    opts.input.setSelectionRange(result.caret, result.caret);
    if (opts.onInsert) opts.onInsert(entry);
  }

  function show(entries) {
    while (list.firstChild) list.removeChild(list.firstChild);
    shown = fromButton ? entries : entries.slice(0, MAX_SHOWN);
    if (!shown.length) {
      var empty = doc.createElement('li');
      empty.className = 'canned-empty';
      empty.setAttribute('role', 'option');
      empty.setAttribute('aria-disabled', 'true');
      empty.setAttribute('aria-selected', 'false');
      empty.id = id + '-none';
      empty.textContent = opts.strings.none;
      list.appendChild(empty);
      active = -1;
    } else {
      shown.forEach(function (entry, i) {
        var li = doc.createElement('li');
        li.id = id + '-' + i;
        li.className = 'canned-item';
        li.setAttribute('role', 'option');
        li.setAttribute('data-key', entry.key);
        var key = doc.createElement('span');
        key.className = 'canned-key';
        key.textContent = '/' + entry.key;
        var title = doc.createElement('span');
        title.className = 'canned-title';
        title.textContent = entry.title;
        li.appendChild(key);
        li.appendChild(title);
        // mousedown keeps the focus in the reply box; click inserts.
        li.addEventListener('mousedown', function (e) { e.preventDefault(); });
        li.addEventListener('click', function () { choose(entry); });
        list.appendChild(li);
      });
      active = 0;
    }
    list.hidden = false;
    if (opts.button) opts.button.setAttribute('aria-expanded', 'true');
    mark();
  }

  function update() {
    var q = slashQuery(opts.input.value, opts.input.selectionStart);
    fromButton = false;
    if (!q) { close(); return; }
    range = q;
    opts.load().then(function (entries) {
      var now = slashQuery(opts.input.value, opts.input.selectionStart);
      if (now && now.start === q.start) show(matchCanned(entries, now.query));
    });
  }

  opts.input.setAttribute('aria-controls', id);
  opts.input.addEventListener('input', update);
  // Leaving the reply box closes the list, unless the focus went to its button or came back.
  opts.input.addEventListener('blur', function () {
    setTimeout(function () { if (doc.activeElement !== opts.button && doc.activeElement !== opts.input) close(); }, 150);
  });
  opts.input.addEventListener('keydown', function (e) {
    if (list.hidden) return;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      e.stopImmediatePropagation();
      if (!shown.length) return;
      active = (active + (e.key === 'ArrowDown' ? 1 : shown.length - 1)) % shown.length;
      mark();
    } else if ((e.key === 'Enter' || e.key === 'Tab') && active >= 0 && shown[active]) {
      e.preventDefault();
      e.stopImmediatePropagation();
      choose(shown[active]);
    } else if (e.key === 'Escape') {
      e.preventDefault();
      e.stopImmediatePropagation();
      close();
    }
  }, true);
  if (opts.button) {
    opts.button.setAttribute('aria-haspopup', 'listbox');
    opts.button.setAttribute('aria-expanded', 'false');
    opts.button.setAttribute('aria-controls', id);
    opts.button.addEventListener('click', function () {
      if (!list.hidden) { close(); return; }
      fromButton = true;
      var caret = opts.input.selectionStart == null ? opts.input.value.length : opts.input.selectionStart;
      range = { start: caret, end: opts.input.selectionEnd == null ? caret : opts.input.selectionEnd };
      opts.load().then(function (entries) { show(entries); opts.input.focus(); });
    });
  }
  return { close: close, list: list };
}

module.exports = { STRINGS: STRINGS, slashQuery: slashQuery, matchCanned: matchCanned, insertCanned: insertCanned, attachPicker: attachPicker };
