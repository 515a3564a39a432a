/*
 * Text limits as the live-agent service counts them: bytes of UTF-8, not characters
 * (`max_text_bytes` in the served facts). Shared by the widget and the agent console.
 */
'use strict';

var encoder = new TextEncoder();

/** The length of `text` in bytes of UTF-8 (what the service's `too_long` check counts). */
function utf8Length(text) {
  return encoder.encode(String(text == null ? '' : text)).length;
}

/** Whether `text` fits into `maxBytes` bytes of UTF-8. */
function fits(text, maxBytes) {
  return utf8Length(text) <= maxBytes;
}

module.exports = { utf8Length: utf8Length, fits: fits };
