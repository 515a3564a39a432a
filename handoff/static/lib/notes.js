/*
 * The agent console's side panel for one conversation: internal notes (agents only: the service
 * never sends them to the widget), the customer's CSAT rating, and the transcript downloads.
 *
 *   renderNotes(container, conversation, { strings, clock, richText, agentName, onAdd })
 *   renderCsat(container, csat, strings)        // nothing when unrated
 *   stars(4) -> '★★★★☆'
 *   downloadTranscript(fetchBlob, id, 'txt')    // fetchBlob(path) -> Promise<Blob>
 */
'use strict';

var dom = require('./dom');
var make = dom.make;

var STRINGS = {
  de: {
    notes: 'Interne Notizen', notesHint: 'Nur für Agenten sichtbar, nie für den Kunden.',
    notesEmpty: 'Noch keine Notizen.', noteLabel: 'Interne Notiz', notePlaceholder: 'Notiz für das Team …',
    addNote: 'Notiz speichern', noteAdded: 'Notiz gespeichert.',
    csat: 'Kundenbewertung', csatOf: function (n) { return n + ' von 5 Sternen'; },
    transcriptTitle: 'Gesprächsverlauf exportieren', exportTxt: 'Als Text', exportJson: 'Als JSON',
    exportTxtLabel: 'Gesprächsverlauf als Text herunterladen', exportJsonLabel: 'Gesprächsverlauf als JSON herunterladen'
  },
  en: {
    notes: 'Internal notes', notesHint: 'Visible to agents only, never to the customer.',
    notesEmpty: 'No notes yet.', noteLabel: 'Internal note', notePlaceholder: 'A note for the team …',
    addNote: 'Save note', noteAdded: 'Note saved.',
    csat: 'Customer rating', csatOf: function (n) { return n + ' of 5 stars'; },
    transcriptTitle: 'Export the transcript', exportTxt: 'As text', exportJson: 'As JSON',
    exportTxtLabel: 'Download the transcript as text', exportJsonLabel: 'Download the transcript as JSON'
  }
};

function stars(score) {
  var n = Math.max(0, Math.min(5, Number(score) || 0));
  return new Array(n + 1).join('\u2605') + new Array(5 - n + 1).join('\u2606');
}

var formCounter = 0;

/** The notes section: the list (oldest first) and a form to add one. Keeps a typed draft. */
function renderNotes(container, conversation, opts) {
  var doc = container.ownerDocument;
  var s = opts.strings;
  var draft = container.querySelector('textarea');
  var kept = draft ? draft.value : '';
  var hadFocus = draft && doc.activeElement === draft;
  while (container.firstChild) container.removeChild(container.firstChild);
  formCounter += 1;
  container.appendChild(make(doc, 'h3', 'card-title', s.notes));
  container.appendChild(make(doc, 'p', 'notes-hint', s.notesHint));
  var notes = conversation.notes || [];
  if (notes.length) {
    var list = make(doc, 'ul', 'notes-list');
    notes.forEach(function (n) {
      var li = make(doc, 'li', 'note');
      var meta = make(doc, 'div', 'note-meta');
      meta.appendChild(make(doc, 'span', 'note-agent', opts.agentName(n.agent)));
      var time = make(doc, 'time', 'note-time', opts.clock(n.at));
      if (n.at) time.setAttribute('datetime', n.at);
      meta.appendChild(time);
      li.appendChild(meta);
      var text = make(doc, 'p', 'note-text');
      opts.richText.appendRichText(text, n.text);
      li.appendChild(text);
      list.appendChild(li);
    });
    container.appendChild(list);
  } else {
    container.appendChild(make(doc, 'p', 'notes-empty', s.notesEmpty));
  }
  var form = make(doc, 'form', 'note-form');
  var inputId = 'note-input-' + formCounter;
  var label = make(doc, 'label', 'sr-only', s.noteLabel);
  label.htmlFor = inputId;
  var input = make(doc, 'textarea', 'note-input');
  input.id = inputId;
  input.rows = 2;
  input.placeholder = s.notePlaceholder;
  input.value = kept;
  if (opts.maxLength) input.maxLength = opts.maxLength;
  var button = dom.button(doc, 'btn btn-secondary', s.addNote, 'submit');
  form.appendChild(label);
  form.appendChild(input);
  form.appendChild(button);
  form.addEventListener('submit', function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text) { input.focus(); return; }
    button.disabled = true;
    opts.onAdd(text).then(function () { input.value = ''; }, function () { /* the caller says why */ })
      .then(function () { button.disabled = false; });
  });
  container.appendChild(form);
  if (hadFocus) input.focus();
}

/** The rating the customer gave after the resolve. */
function renderCsat(container, csat, strings) {
  var doc = container.ownerDocument;
  while (container.firstChild) container.removeChild(container.firstChild);
  container.hidden = !csat;
  if (!csat) return;
  container.appendChild(make(doc, 'h3', 'card-title', strings.csat));
  var p = make(doc, 'p', 'csat-score');
  var shown = make(doc, 'span', 'csat-stars', stars(csat.score));
  shown.setAttribute('aria-hidden', 'true');
  p.appendChild(shown);
  p.appendChild(make(doc, 'span', 'csat-value', ' ' + strings.csatOf(csat.score)));
  container.appendChild(p);
  if (csat.comment) container.appendChild(make(doc, 'blockquote', 'csat-comment', csat.comment));
}

/** Save `blob` as a file named `filename` (a click on a temporary link). */
function saveBlob(blob, filename) {
  var url = URL.createObjectURL(blob);
  var a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  document.body.removeChild(a);
  setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
}

/** Download the transcript (the API needs the bearer token, so a plain link cannot). */
function downloadTranscript(fetchBlob, id, format) {
  return fetchBlob('/api/conversations/' + encodeURIComponent(id) + '/transcript?format=' + format).then(function (blob) {
    saveBlob(blob, 'transcript-' + id + '.' + format);
  });
}

module.exports = { STRINGS: STRINGS, stars: stars, renderNotes: renderNotes, renderCsat: renderCsat, downloadTranscript: downloadTranscript, saveBlob: saveBlob };
