/*
 * The element builder of the pages' scripts (the widget, the console and their modules).
 * Text goes in as a text node, never as HTML.
 *
 *   make(document, 'p', 'hint', 'Gespeichert.')      // <p class="hint">Gespeichert.</p>
 *   button(document, 'btn', 'Senden', 'submit')     // <button type="submit" class="btn">Senden</button>
 */
'use strict';

/** A new `tag` element of `doc`, with `className` and `text` when given. */
function make(doc, tag, className, text) {
  var node = doc.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = text;
  return node;
}

/** A <button> of `type` (`button` unless given, so it never submits a form by accident). */
function button(doc, className, text, type) {
  var node = make(doc, 'button', className, text);
  node.type = type || 'button';
  return node;
}

module.exports = { make: make, button: button };
