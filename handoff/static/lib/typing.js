/*
 * Typing indicators (CONTRACT.md: widget `typing` frame, POST /api/conversations/{id}/typing):
 * a throttle so a burst of key presses sends one signal per interval, shared by the widget and
 * the agent console. `now` is injectable for tests.
 */
'use strict';

/** Returns `notify()`: calls `send()` at most once per `intervalMs`. */
function throttle(send, intervalMs, now) {
  var clock = now || function () { return Date.now(); };
  var last = -Infinity;
  return function notify() {
    var t = clock();
    if (t - last < intervalMs) return false;
    last = t;
    send();
    return true;
  };
}

/** How long an indicator stays visible after the last signal (a bit over two intervals). */
function visibleMs(intervalMs) {
  return Math.max(3000, intervalMs * 2.5);
}

module.exports = { throttle: throttle, visibleMs: visibleMs };
