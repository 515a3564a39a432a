/*
 * The widget's CSAT rating after an agent resolved the conversation: the service sends
 * `{"type": "csat_request"}`, the widget shows 1–5 stars and an optional comment and sends
 * `{"type": "csat", "score", "comment"?}`; the answer (`csat`, `status: stored`) carries the
 * thanks in the user's language.
 *
 *   buildRating(document, locale, onSubmit)  -> the form element (radio buttons in a fieldset)
 *   ratingFrame(3, '  ok  ') -> { type: 'csat', score: 3, comment: 'ok' }
 */
'use strict';

var dom = require('./dom');
var make = dom.make;

var STRINGS = {
  de: {
    question: 'Wie zufrieden waren Sie mit unserem Support?',
    score: function (n) { return n === 1 ? '1 Stern' : n + ' Sterne'; },
    comment: 'Kommentar (optional)', send: 'Bewertung senden', pick: 'Bitte wählen Sie 1 bis 5 Sterne.'
  },
  en: {
    question: 'How satisfied were you with our support?',
    score: function (n) { return n === 1 ? '1 star' : n + ' stars'; },
    comment: 'Comment (optional)', send: 'Send rating', pick: 'Please choose 1 to 5 stars.'
  }
};

function ratingFrame(score, comment) {
  var frame = { type: 'csat', score: score };
  var text = String(comment || '').trim();
  if (text) frame.comment = text;
  return frame;
}

var counter = 0;

/** The rating form; `onSubmit(frame)` returns whether it was sent (the socket may be down). */
function buildRating(doc, locale, onSubmit, maxLength) {
  var s = STRINGS[locale === 'en' ? 'en' : 'de'];
  var id = 'bolt-csat-' + (++counter);
  var form = make(doc, 'form', 'bolt-csat');
  form.setAttribute('data-csat', 'request');
  var fieldset = make(doc, 'fieldset', 'bolt-csat-set');
  fieldset.appendChild(make(doc, 'legend', 'bolt-csat-question', s.question));
  var scale = make(doc, 'div', 'bolt-csat-scale');
  for (var n = 1; n <= 5; n++) {
    var input = make(doc, 'input', 'bolt-csat-radio');
    input.type = 'radio';
    input.name = id;
    input.value = String(n);
    input.id = id + '-' + n;
    var label = make(doc, 'label', 'bolt-csat-star');
    label.htmlFor = input.id;
    var star = make(doc, 'span', null, '\u2605');
    star.setAttribute('aria-hidden', 'true');
    label.appendChild(star);
    label.appendChild(make(doc, 'span', 'bolt-sr-only', s.score(n)));
    scale.appendChild(input);
    scale.appendChild(label);
  }
  fieldset.appendChild(scale);
  form.appendChild(fieldset);
  var commentLabel = make(doc, 'label', 'bolt-csat-label', s.comment);
  commentLabel.htmlFor = id + '-comment';
  var comment = make(doc, 'textarea', 'bolt-csat-comment');
  comment.id = id + '-comment';
  comment.rows = 2;
  if (maxLength) comment.maxLength = maxLength;
  var hint = make(doc, 'p', 'bolt-csat-hint');
  hint.setAttribute('role', 'status');
  var send = dom.button(doc, 'bolt-csat-send', s.send, 'submit');
  form.appendChild(commentLabel);
  form.appendChild(comment);
  form.appendChild(hint);
  form.appendChild(send);
  form.addEventListener('submit', function (e) {
    e.preventDefault();
    var picked = form.querySelector('input[type=radio]:checked');
    if (!picked) { hint.textContent = s.pick; return; }
    if (onSubmit(ratingFrame(Number(picked.value), comment.value))) {
      send.disabled = true;
      form.setAttribute('data-csat', 'sent');
    }
  });
  return form;
}

module.exports = { buildRating: buildRating, ratingFrame: ratingFrame, STRINGS: STRINGS };
