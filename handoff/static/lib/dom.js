/*
 * The element builder of the pages' scripts (the widget, the console and their modules).
 * Text goes in as a text node, never as HTML.
 *
 *   make(document, 'button', 'btn', 'Senden')   // <button class="btn">Senden</button>
 */
'use strict';

/** A new `tag` element of `doc`, with `className` and `text` when given. */
function make(doc, tag, className, text) {
  var node = doc.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = text;
  return node;
}

module.exports = { make: make };
