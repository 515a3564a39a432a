/*
 * Bolt chat widget: one script tag, no build step.
 *
 *   <script src="https://<host>/static/widget.js" data-locale="de" defer></script>
 *
 * Speaks the `/ws/chat` protocol of CONTRACT.md. Every text from the user, the bot or an agent is
 * rendered by lib/richtext.js (text nodes only; links for http, https, mailto and phone numbers),
 * so the widget works under a CSP without 'unsafe-inline' and never turns chat text into markup.
 *
 * The service serves this file assembled with the modules it requires and with its facts (text
 * limit, names): still one script, see handoff/assets.py.
 *
 * Every message carries a `client_id` and stays in `state.outbox` until the service acknowledges
 * it (`ack`): after a reconnect (a live-agent instance died, the network dropped) it is sent
 * again, and the service processes it once.
 */
(function () {
  'use strict';

  if (window.BoltWidget && window.BoltWidget.version) return; // embedded twice: keep the first

  var richText = require('./lib/richtext');
  var dom = require('./lib/dom');
  var textLimit = require('./lib/text');
  var csat = require('./lib/csat');
  var facts = require('./facts');
  var typingSignals = require('./lib/typing');

  var script = document.currentScript;
  var scriptUrl = new URL((script && script.src) || '/static/widget.js', location.href);
  var STORAGE_KEY = 'bolt-widget:v1';
  var OPEN_KEY = 'bolt-widget:open';
  var BACKOFF_BASE_MS = 500;
  var BACKOFF_MAX_MS = 30000;
  var TYPING_TIMEOUT_MS = 25000;
  // History replayed after a resume arrives right after `welcome`; it must not count as unread.
  var REPLAY_WINDOW_MS = 1500;
  // How long a reload waits for the page to hand over the signed-in person's token.
  var IDENTITY_WAIT_MS = 5000;

  var STRINGS = {
    de: {
      open: 'Chat mit Bolt öffnen',
      openUnread: function (n) { return 'Chat mit Bolt öffnen, ' + n + (n === 1 ? ' ungelesene Nachricht' : ' ungelesene Nachrichten'); },
      close: 'Chat schließen',
      title: 'Bolt',
      subtitle: 'Virtueller Support-Assistent',
      liveSupport: 'Live-Support',
      dialog: 'Support-Chat mit Bolt',
      log: 'Chatverlauf',
      input: 'Ihre Nachricht',
      placeholder: 'Stellen Sie Ihre Frage …',
      send: 'Senden',
      typingBot: 'Bolt schreibt …',
      typingAgent: 'Mitarbeiter:in schreibt …',
      you: 'Sie',
      bot: 'Bolt',
      agent: 'Support-Mitarbeiter:in',
      suggestions: 'Vorschläge',
      queued: 'Sie warten auf eine:n Mitarbeiter:in',
      position: function (p) { return 'Position ' + p + ' in der Warteschlange'; },
      wait: function (m) { return m <= 1 ? 'ca. 1 Minute' : 'ca. ' + m + ' Minuten'; },
      connectedAgent: function (name) { return name ? 'Sie chatten mit ' + name : 'Sie chatten mit unserem Support-Team'; },
      connecting: 'Verbinde …',
      reconnecting: 'Verbindung unterbrochen – neuer Versuch …',
      offline: 'Offline – Ihre Nachricht wird gesendet, sobald die Verbindung steht.',
      online: 'Online',
      welcome: 'Hallo! Ich bin Bolt, der virtuelle Assistent des Supports. Fragen Sie mich nach Support-Plänen, Telefonnummern oder Prioritäten.',
      privacy: 'Keine Passwörter, Hostschlüssel oder Kartendaten teilen.',
      tooLong: 'Die Nachricht ist zu lang. Bitte kürzen Sie sie oder senden Sie sie in mehreren Teilen.',
      newConversation: 'Neues Gespräch'
    },
    en: {
      open: 'Open chat with Bolt',
      openUnread: function (n) { return 'Open chat with Bolt, ' + n + (n === 1 ? ' unread message' : ' unread messages'); },
      close: 'Close chat',
      title: 'Bolt',
      subtitle: 'Virtual support assistant',
      liveSupport: 'Live support',
      dialog: 'Support chat with Bolt',
      log: 'Conversation',
      input: 'Your message',
      placeholder: 'Ask a question …',
      send: 'Send',
      typingBot: 'Bolt is typing …',
      typingAgent: 'An agent is typing …',
      you: 'You',
      bot: 'Bolt',
      agent: 'Support agent',
      suggestions: 'Suggestions',
      queued: 'Waiting for a support agent',
      position: function (p) { return 'Position ' + p + ' in the queue'; },
      wait: function (m) { return m <= 1 ? 'about 1 minute' : 'about ' + m + ' minutes'; },
      connectedAgent: function (name) { return name ? 'You are chatting with ' + name : 'You are chatting with our support team'; },
      connecting: 'Connecting …',
      reconnecting: 'Connection lost – retrying …',
      offline: 'Offline – your message will be sent once we are connected again.',
      online: 'Online',
      welcome: 'Hi! I am Bolt, the support team\'s virtual assistant. Ask me about support plans, phone numbers or priorities.',
      privacy: 'Never share passwords, host keys or card numbers.',
      tooLong: 'That message is too long. Please shorten it or send it in several parts.',
      newConversation: 'New conversation'
    }
  };

  function normalizeLocale(value) {
    var v = String(value || '').toLowerCase();
    if (v.indexOf('en') === 0) return 'en';
    if (v.indexOf('de') === 0) return 'de';
    return null;
  }

  var state = {
    locale: normalizeLocale(script && script.getAttribute('data-locale')) ||
      normalizeLocale(document.documentElement.lang) || normalizeLocale(navigator.language) || 'de',
    token: null,
    sub: null,
    conversationId: null,
    ws: null,
    connected: false,
    attempt: 0,
    reconnectTimer: null,
    outbox: [], // {clientId, text, node, sent}: not yet acknowledged by the service, oldest first
    awaitingHistory: false,
    open: false,
    unread: 0,
    mode: 'bot', // bot | queued | agent
    agentName: null,
    replayUntil: 0,
    typingTimer: null,
    identityPending: false,
    identityTimer: null,
    covering: false, // the open panel covers the page (small screens)
    started: false
  };

  function t(key) { return STRINGS[state.locale][key]; }

  /* ---------- storage ---------- */

  function loadStored() {
    try {
      var raw = window.localStorage.getItem(STORAGE_KEY);
      return raw ? JSON.parse(raw) : {};
    } catch (e) { return {}; }
  }
  function saveStored() {
    try {
      window.localStorage.setItem(STORAGE_KEY, JSON.stringify({ conversationId: state.conversationId, sub: state.sub }));
    } catch (e) { /* private mode: the conversation just won't survive a reload */ }
  }
  function loadOpen() {
    try { return window.sessionStorage.getItem(OPEN_KEY) === '1'; } catch (e) { return false; }
  }
  function saveOpen() {
    try { window.sessionStorage.setItem(OPEN_KEY, state.open ? '1' : '0'); } catch (e) { /* ignore */ }
  }

  // Only used to tell whether the signed-in person changed; the server verifies the token.
  function subjectOf(token) {
    if (!token) return null;
    try {
      var part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      while (part.length % 4) part += '=';
      return JSON.parse(atob(part)).sub || null;
    } catch (e) { return null; }
  }

  /* ---------- DOM helpers ---------- */

  function el(tag, className, text) { return dom.make(document, tag, className, text); }

  var SVG_NS = 'http://www.w3.org/2000/svg';
  function icon(paths, size) {
    var svg = document.createElementNS(SVG_NS, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('width', String(size || 24));
    svg.setAttribute('height', String(size || 24));
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false');
    paths.forEach(function (d) {
      var p = document.createElementNS(SVG_NS, 'path');
      p.setAttribute('d', d);
      svg.appendChild(p);
    });
    return svg;
  }
  var ICON_CHAT = ['M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z'];
  var ICON_CLOSE = ['M6 6l12 12M18 6L6 18'];
  var ICON_SEND = ['M3 11.5L21 3l-8.5 18-2.2-7.3L3 11.5z'];
  var ICON_BOLT = ['M13 2L4.5 13.5H11L10 22l8.5-11.5H12L13 2z'];
  var ICON_AGENT = ['M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zm-7 8c0-3.3 3.1-6 7-6s7 2.7 7 6'];

  function formatTime(at) {
    var d = at ? new Date(at) : new Date();
    if (isNaN(d.getTime())) d = new Date();
    return d.toLocaleTimeString(state.locale === 'en' ? 'en-GB' : 'de-DE', { hour: '2-digit', minute: '2-digit' });
  }

  /* ---------- build the UI ---------- */

  var ui = {};

  function loadStyles() {
    if (document.querySelector('link[data-bolt-widget]')) return;
    var link = document.createElement('link');
    link.rel = 'stylesheet';
    link.href = new URL('widget.css', scriptUrl).href;
    link.setAttribute('data-bolt-widget', '');
    document.head.appendChild(link);
  }

  function build() {
    var root = el('div', 'bolt-widget');
    root.setAttribute('data-state', 'closed');

    var launcher = dom.button(document, 'bolt-launcher');
    launcher.setAttribute('aria-expanded', 'false');
    launcher.setAttribute('aria-controls', 'bolt-panel');
    launcher.appendChild(icon(ICON_CHAT, 28));
    var closeGlyph = icon(ICON_CLOSE, 26);
    closeGlyph.setAttribute('class', 'bolt-launcher-close');
    launcher.appendChild(closeGlyph);
    var badge = el('span', 'bolt-badge');
    badge.hidden = true;
    badge.setAttribute('aria-hidden', 'true');
    launcher.appendChild(badge);

    var panel = el('section', 'bolt-panel');
    panel.id = 'bolt-panel';
    panel.setAttribute('role', 'dialog');
    panel.hidden = true;

    var header = el('div', 'bolt-header');
    var avatar = el('span', 'bolt-avatar');
    avatar.appendChild(icon(ICON_BOLT, 22));
    var heading = el('div', 'bolt-heading');
    var title = el('h2', 'bolt-title');
    var statusLine = el('p', 'bolt-subtitle');
    var dot = el('span', 'bolt-dot');
    dot.setAttribute('aria-hidden', 'true');
    var statusText = el('span', 'bolt-status-text');
    statusLine.appendChild(dot);
    statusLine.appendChild(statusText);
    heading.appendChild(title);
    heading.appendChild(statusLine);
    var closeBtn = dom.button(document, 'bolt-close');
    closeBtn.appendChild(icon(ICON_CLOSE, 20));
    header.appendChild(avatar);
    header.appendChild(heading);
    header.appendChild(closeBtn);

    var banner = el('div', 'bolt-banner');
    banner.setAttribute('role', 'status');
    banner.hidden = true;
    var bannerIcon = el('span', 'bolt-banner-icon');
    bannerIcon.appendChild(icon(ICON_AGENT, 20));
    var bannerBody = el('div', 'bolt-banner-body');
    var bannerTitle = el('strong', 'bolt-banner-title');
    var bannerDetail = el('span', 'bolt-banner-detail');
    bannerBody.appendChild(bannerTitle);
    bannerBody.appendChild(bannerDetail);
    banner.appendChild(bannerIcon);
    banner.appendChild(bannerBody);

    var conn = el('div', 'bolt-connection');
    conn.setAttribute('role', 'status');
    conn.hidden = true;

    var log = el('div', 'bolt-log');
    log.setAttribute('role', 'log');
    log.setAttribute('aria-live', 'polite');
    log.setAttribute('aria-relevant', 'additions');
    log.tabIndex = 0;

    var typing = el('div', 'bolt-typing');
    typing.hidden = true;
    var dots = el('span', 'bolt-typing-dots');
    dots.setAttribute('aria-hidden', 'true');
    dots.appendChild(el('span'));
    dots.appendChild(el('span'));
    dots.appendChild(el('span'));
    var typingText = el('span', 'bolt-typing-text');
    typing.appendChild(dots);
    typing.appendChild(typingText);

    var form = el('form', 'bolt-composer');
    form.noValidate = true;
    var label = el('label', 'bolt-sr-only');
    label.htmlFor = 'bolt-input';
    var input = el('textarea', 'bolt-input');
    input.id = 'bolt-input';
    input.rows = 1;
    // A cap that never refuses a text that fits: every UTF-16 unit takes at least one byte.
    input.maxLength = facts.max_text_bytes;
    input.setAttribute('autocomplete', 'off');
    var send = dom.button(document, 'bolt-send', null, 'submit');
    send.appendChild(icon(ICON_SEND, 20));
    form.appendChild(label);
    form.appendChild(input);
    form.appendChild(send);

    var foot = el('p', 'bolt-footnote');

    panel.appendChild(header);
    panel.appendChild(banner);
    panel.appendChild(conn);
    panel.appendChild(log);
    panel.appendChild(typing);
    panel.appendChild(form);
    panel.appendChild(foot);
    root.appendChild(panel);
    root.appendChild(launcher);
    document.body.appendChild(root);

    ui = {
      root: root, launcher: launcher, badge: badge, panel: panel, title: title, statusText: statusText,
      closeBtn: closeBtn, banner: banner, bannerTitle: bannerTitle, bannerDetail: bannerDetail, conn: conn,
      log: log, typing: typing, typingText: typingText, form: form, label: label, input: input, send: send, foot: foot
    };

    launcher.addEventListener('click', function () { if (state.open) close(); else open(); });
    closeBtn.addEventListener('click', function () { close(); });
    panel.addEventListener('keydown', function (e) {
      if (e.key === 'Escape') { e.preventDefault(); close(); }
      else if (e.key === 'Tab' && state.covering) keepFocusInside(e);
    });
    // While the panel covers the page (a phone), focus that lands outside it comes back.
    document.addEventListener('focusin', function (e) {
      if (state.open && state.covering && !root.contains(e.target)) ui.input.focus();
    });
    window.addEventListener('resize', function () { if (state.open) updateCovering(); });
    input.addEventListener('keydown', function (e) {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        submit();
      }
    });
    input.addEventListener('input', autosize);
    input.addEventListener('input', onUserTyping);
    form.addEventListener('submit', function (e) { e.preventDefault(); submit(); });
    applyLocale();
  }

  function autosize() {
    ui.input.rows = Math.min(5, Math.max(1, ui.input.value.split('\n').length));
  }

  function applyLocale() {
    ui.root.setAttribute('lang', state.locale);
    ui.panel.setAttribute('aria-label', t('dialog'));
    ui.title.textContent = t('title');
    ui.closeBtn.setAttribute('aria-label', t('close'));
    ui.log.setAttribute('aria-label', t('log'));
    ui.label.textContent = t('input');
    ui.input.placeholder = t('placeholder');
    ui.send.setAttribute('aria-label', t('send'));
    ui.foot.textContent = t('privacy');
    renderStatus();
    renderBadge();
    renderBanner();
    var greeting = ui.log.querySelector('.bolt-greeting .bolt-bubble');
    if (greeting) greeting.textContent = t('welcome');
  }

  /* ---------- rendering ---------- */

  function scrollToEnd() {
    ui.log.scrollTop = ui.log.scrollHeight;
  }

  function clearLog() {
    while (ui.log.firstChild) ui.log.removeChild(ui.log.firstChild);
  }

  function addGreeting() {
    var msg = el('div', 'bolt-msg bolt-msg--bot bolt-greeting');
    msg.appendChild(el('p', 'bolt-bubble', t('welcome')));
    ui.log.appendChild(msg);
  }

  function removeQuickReplies() {
    var groups = ui.log.querySelectorAll('.bolt-quick');
    for (var i = 0; i < groups.length; i++) groups[i].parentNode.removeChild(groups[i]);
  }

  function renderMessage(from, text, opts) {
    opts = opts || {};
    var kind = ['user', 'bot', 'agent', 'system'].indexOf(from) === -1 ? 'system' : from;
    var msg = el('div', 'bolt-msg bolt-msg--' + kind);
    msg.setAttribute('data-from', kind);
    if (kind === 'system') {
      var note = el('p', 'bolt-bubble');
      richText.appendRichText(note, text);
      msg.appendChild(note);
    } else {
      var meta = el('div', 'bolt-meta');
      var who = kind === 'user' ? t('you') : kind === 'bot' ? t('bot') : (opts.name || state.agentName || t('agent'));
      meta.appendChild(el('span', 'bolt-sender', who));
      var time = el('time', 'bolt-time', formatTime(opts.at));
      if (opts.at) time.dateTime = opts.at;
      meta.appendChild(time);
      var bubble = el('p', 'bolt-bubble');
      richText.appendRichText(bubble, text);
      msg.appendChild(meta);
      msg.appendChild(bubble);
    }
    if (opts.pending) msg.classList.add('bolt-pending');
    ui.log.appendChild(msg);

    if (opts.buttons && opts.buttons.length) {
      var group = el('div', 'bolt-quick');
      group.setAttribute('role', 'group');
      group.setAttribute('aria-label', t('suggestions'));
      opts.buttons.forEach(function (b) {
        if (!b || (b.title == null && b.payload == null)) return;
        var title = String(b.title != null ? b.title : b.payload);
        var payload = String(b.payload != null ? b.payload : b.title);
        var btn = dom.button(document, 'bolt-quick-btn', title);
        btn.addEventListener('click', function () { sendText(payload, title); });
        group.appendChild(btn);
      });
      ui.log.appendChild(group);
    }
    scrollToEnd();
    return msg;
  }

  function renderStatus() {
    var text = state.connected ? (state.mode === 'agent' ? t('liveSupport') : t('subtitle'))
      : (state.attempt > 0 ? t('reconnecting') : (state.started ? t('connecting') : t('subtitle')));
    ui.statusText.textContent = text;
    ui.root.setAttribute('data-connection', state.connected ? 'online' : (state.started ? 'offline' : 'idle'));
    var showConn = state.started && !state.connected && state.attempt > 0;
    ui.conn.hidden = !showConn;
    var unsent = state.outbox.some(function (item) { return !item.sent; });
    ui.conn.textContent = showConn ? (unsent ? t('offline') : t('reconnecting')) : '';
  }

  function renderBadge() {
    ui.badge.hidden = state.unread === 0 || state.open;
    ui.badge.textContent = state.unread > 9 ? '9+' : String(state.unread);
    ui.launcher.setAttribute('aria-label', state.open ? t('close') : (state.unread ? t('openUnread')(state.unread) : t('open')));
  }

  function renderBanner() {
    if (state.mode === 'queued') {
      ui.banner.hidden = false;
      ui.banner.setAttribute('data-mode', 'queued');
      ui.bannerTitle.textContent = t('queued');
      var parts = [];
      if (state.position != null) parts.push(t('position')(state.position));
      if (state.waitMinutes != null) parts.push(t('wait')(state.waitMinutes));
      ui.bannerDetail.textContent = parts.join(' · ');
    } else if (state.mode === 'agent') {
      ui.banner.hidden = false;
      ui.banner.setAttribute('data-mode', 'agent');
      ui.bannerTitle.textContent = t('connectedAgent')(state.agentName);
      ui.bannerDetail.textContent = '';
    } else {
      ui.banner.hidden = true;
      ui.banner.removeAttribute('data-mode');
    }
    ui.root.setAttribute('data-mode', state.mode);
    scrollToEnd(); // the banner takes room from the log: keep the latest message in view
  }

  function showTyping(who) {
    ui.typingText.textContent = who === 'agent' ? t('typingAgent') : t('typingBot');
    ui.typing.hidden = false;
    clearTimeout(state.typingTimer);
    state.typingTimer = setTimeout(hideTyping, who === 'agent' ? 6000 : TYPING_TIMEOUT_MS);
    scrollToEnd();
  }
  function hideTyping() {
    clearTimeout(state.typingTimer);
    ui.typing.hidden = true;
    if (ui.log) scrollToEnd();
  }

  /* ---------- open / close ---------- */

  function open() {
    if (!ui.root) return;
    state.open = true;
    state.unread = 0;
    ui.panel.hidden = false;
    ui.root.setAttribute('data-state', 'open');
    ui.launcher.setAttribute('aria-expanded', 'true');
    updateCovering();
    renderBadge();
    saveOpen();
    ensureConnected();
    scrollToEnd();
    ui.input.focus();
  }

  function close() {
    if (!ui.root) return;
    var hadFocus = ui.root.contains(document.activeElement);
    state.open = false;
    ui.panel.hidden = true;
    ui.root.setAttribute('data-state', 'closed');
    ui.launcher.setAttribute('aria-expanded', 'false');
    updateCovering();
    renderBadge();
    saveOpen();
    if (hadFocus) ui.launcher.focus();
  }

  /**
   * On a small screen the open panel covers the whole page (widget.css): then it is a modal
   * dialog, Tab cycles inside it and the page behind does not scroll. On a desktop it is not.
   */
  function updateCovering() {
    var box = ui.panel.getBoundingClientRect();
    var view = document.documentElement;
    state.covering = state.open && box.width >= view.clientWidth - 1 && box.height >= window.innerHeight - 1;
    ui.panel.setAttribute('aria-modal', String(state.covering));
    ui.root.setAttribute('data-covering', String(state.covering));
    view.classList.toggle('bolt-widget-covering', state.covering);
  }

  function focusableInPanel() {
    var nodes = ui.panel.querySelectorAll('button, [href], textarea, input, select, [tabindex]');
    return Array.prototype.filter.call(nodes, function (node) {
      return !node.disabled && node.tabIndex >= 0 && node.getClientRects().length > 0;
    });
  }

  function keepFocusInside(e) {
    var items = focusableInPanel();
    if (!items.length) return;
    var first = items[0];
    var last = items[items.length - 1];
    var inside = ui.panel.contains(document.activeElement);
    if (e.shiftKey && (document.activeElement === first || !inside)) { e.preventDefault(); last.focus(); }
    else if (!e.shiftKey && (document.activeElement === last || !inside)) { e.preventDefault(); first.focus(); }
  }

  /* ---------- connection ---------- */

  function socketUrl() {
    var proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    // The widget may be embedded on another page; it talks to the host it was loaded from.
    var host = scriptUrl.host || location.host;
    return proto + '//' + host + '/ws/chat';
  }

  function ensureConnected() {
    state.started = true;
    if (state.identityPending || state.ws || state.reconnectTimer) return;
    connect();
  }

  function connect() {
    state.reconnectTimer = null;
    var ws;
    try { ws = new WebSocket(socketUrl()); } catch (e) { scheduleReconnect(); return; }
    state.ws = ws;
    renderStatus();
    ws.addEventListener('open', function () {
      var hello = { type: 'hello', locale: state.locale };
      if (state.token) hello.token = state.token;
      if (state.conversationId) hello.conversation_id = state.conversationId;
      ws.send(JSON.stringify(hello));
    });
    ws.addEventListener('message', function (event) {
      if (ws !== state.ws) return;
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      if (frame && typeof frame === 'object') handleFrame(frame);
    });
    ws.addEventListener('close', function () {
      if (ws !== state.ws) return; // replaced on purpose (identity change)
      state.ws = null;
      state.connected = false;
      hideTyping();
      scheduleReconnect();
    });
  }

  function scheduleReconnect() {
    if (state.reconnectTimer) return;
    state.attempt += 1;
    var delay = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * Math.pow(2, state.attempt - 1));
    delay = delay / 2 + Math.random() * delay / 2; // jitter, so clients don't all return at once
    state.reconnectTimer = setTimeout(connect, delay);
    renderStatus();
  }

  function reconnectNow() {
    if (!state.started) return;
    if (state.reconnectTimer) { clearTimeout(state.reconnectTimer); state.reconnectTimer = null; }
    var old = state.ws;
    state.ws = null;
    state.connected = false;
    if (old) { try { old.close(1000); } catch (e) { /* already closed */ } }
    connect();
  }

  // The agent sees that the user is typing (at most once a second; never sent to the bot).
  var notifyTyping = typingSignals.throttle(function () { send({ type: 'typing' }); }, 1000);
  function onUserTyping(e) {
    if (state.mode === 'agent' && e.target && e.target.value) notifyTyping();
  }

  function send(frame) {
    if (state.ws && state.connected && state.ws.readyState === WebSocket.OPEN) {
      state.ws.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  /* ---------- protocol ---------- */

  function handleFrame(frame) {
    switch (frame.type) {
      case 'welcome': return onWelcome(frame);
      case 'message': return onMessage(frame);
      case 'history': return onHistory(frame);
      case 'handoff': return onHandoff(frame);
      case 'mode': return onModeChange(frame);
      case 'typing': return showTyping(frame.from === 'agent' ? 'agent' : 'bot');
      case 'ack': return onAck(frame);
      case 'error': return onError(frame);
      case 'transcript_offer': return onTranscriptOffer(frame);
      case 'csat_request': return onCsatRequest();
      case 'csat': return onCsatStored(frame);
      case 'queue': return onQueue(frame);
      default: return undefined; // the project may add types; unknown ones are ignored
    }
  }

  function onWelcome(frame) {
    var resumed = !!state.conversationId && frame.conversation_id === state.conversationId;
    state.connected = true;
    state.attempt = 0;
    if (resumed) {
      // The server replays the conversation after `welcome`: rebuild the log from it.
      clearLog();
      addGreeting();
      state.replayUntil = Date.now() + REPLAY_WINDOW_MS;
    } else if (state.conversationId) {
      // The server did not know the old conversation (e.g. it expired): start afresh.
      clearLog();
      addGreeting();
      setMode('bot');
    }
    state.conversationId = frame.conversation_id || state.conversationId;
    ui.root.setAttribute('data-conversation-id', state.conversationId || '');
    saveStored();
    // A resumed conversation's history follows; what waits for an ack is sent after it.
    state.awaitingHistory = resumed && frame.resumed !== false;
    if (frame.mode || frame.status) onModeChange(frame);
    // A reload while waiting keeps the place and the wait (the agent's name comes with `mode`).
    if (frame.status === 'waiting') onQueue(frame);
    renderStatus();
    if (!state.awaitingHistory) flushOutbox([]);
  }

  /** Send what the service has not acknowledged yet, oldest first. `stored`: the client ids the
   * replayed history holds (already in the log: not shown again, the resend only gets its ack). */
  function flushOutbox(stored) {
    var resent = 0;
    state.outbox.forEach(function (item) {
      if (stored.indexOf(item.clientId) === -1 && (!item.node || !ui.log.contains(item.node))) {
        item.node = renderMessage('user', item.shown); // the log was rebuilt without it
        item.node.classList.add('bolt-pending');
      }
      if (send({ type: 'message', text: item.text, client_id: item.clientId })) {
        item.sent = true;
        resent += 1;
      }
    });
    if (resent && state.mode === 'bot') showTyping('bot');
    renderStatus();
  }

  function onAck(frame) {
    state.outbox = state.outbox.filter(function (item) {
      if (item.clientId !== frame.client_id) return true;
      if (item.node) item.node.classList.remove('bolt-pending');
      return false;
    });
    renderStatus();
  }

  function onHistory(frame) {
    // Replayed messages are shown as they were; the current mode comes from `welcome`.
    var stored = [];
    (frame.messages || []).forEach(function (m) {
      if (m.client_id) stored.push(m.client_id);
      if (m.text == null || String(m.text).trim() === '') return; // a bare handoff marker
      renderMessage(m.from, m.text, { at: m.at, name: agentNameOf(m) });
    });
    state.replayUntil = 0;
    if (state.awaitingHistory) {
      state.awaitingHistory = false;
      flushOutbox(stored);
    }
  }

  /** The agent's display name: `agent_name` in history, `agent` in message and mode frames. */
  function agentNameOf(frame) {
    var a = frame.agent_name || frame.agent;
    return a ? String(a) : null;
  }

  /** The service says who answers now: `mode` bot|agent, `status` waiting|claimed|bot|resolved. */
  function onModeChange(frame) {
    var status = frame.status;
    var name = agentNameOf(frame);
    if (status === 'waiting') {
      if (state.mode !== 'queued') { state.position = null; state.waitMinutes = null; }
      state.mode = 'queued';
      renderBanner();
      renderStatus();
      hideTyping();
    } else if (status === 'claimed' || (frame.mode === 'agent' && status !== 'waiting')) {
      if (name) state.agentName = name;
      setMode('agent');
    } else if (frame.mode === 'bot' || status === 'bot' || status === 'resolved') {
      setMode('bot');
    }
  }

  function onMessage(frame) {
    var replay = Date.now() < state.replayUntil;
    var from = frame.from;
    if (from === 'agent') {
      if (agentNameOf(frame)) state.agentName = agentNameOf(frame);
      if (!replay || state.mode === 'queued') setMode('agent');
    } else if (from === 'bot' && state.mode === 'agent' && !replay) {
      setMode('bot'); // the agent handed the conversation back
    }
    if (from !== 'user') hideTyping();
    var buttons = Array.isArray(frame.buttons) && frame.buttons.length ? frame.buttons : null;
    var hasText = frame.text != null && String(frame.text).trim() !== '';
    if (hasText || buttons) renderMessage(from, hasText ? frame.text : '', { at: frame.at, buttons: replay ? null : buttons, name: agentNameOf(frame) });
    if (frame.custom && frame.custom.handoff) onHandoff(frame.custom.handoff);
    if (!hasText && !buttons) return;
    if (!replay && !state.open && from !== 'user') {
      state.unread += 1;
      renderBadge();
    }
  }

  /** The place in the queue moved (or a reconnect told it): the banner shows it. */
  function onQueue(frame) {
    if (typeof frame.position !== 'number') return;
    if (state.mode !== 'queued') setMode('queued');
    state.position = frame.position;
    state.waitMinutes = typeof frame.estimated_wait_minutes === 'number' ? frame.estimated_wait_minutes : null;
    renderBanner();
  }

  function onHandoff(h) {
    var status = h.status;
    if (status === 'queued') {
      state.position = typeof h.position === 'number' ? h.position : state.position;
      state.waitMinutes = typeof h.estimated_wait_minutes === 'number' ? h.estimated_wait_minutes : null;
      setMode('queued');
    } else {
      // not_eligible, login_required, unavailable (CONTRACT.md): the bot keeps the conversation.
      // An agent joining comes as a `mode` frame.
      setMode('bot');
    }
  }

  function setMode(mode) {
    if (mode !== 'agent' && mode !== 'queued') { state.agentName = null; state.position = null; state.waitMinutes = null; }
    state.mode = mode;
    if (mode !== 'bot') hideTyping();
    renderBanner();
    renderStatus();
  }

  /** After a resolve the server offers a signed-in user the transcript by email (to the
   *  account's address; the button sends nothing else). The server's answer is a system message. */
  function onTranscriptOffer(frame) {
    var group = el('div', 'bolt-quick');
    var btn = dom.button(document, 'bolt-quick-btn', String(frame.title || ''));
    btn.addEventListener('click', function () {
      if (send({ type: 'transcript_email' })) group.parentNode.removeChild(group);
    });
    group.appendChild(btn);
    ui.log.appendChild(group);
    scrollToEnd();
  }

  /** After a resolve: the rating form, once (a reload asks again while it is unanswered). */
  function onCsatRequest() {
    if (ui.log.querySelector('.bolt-csat')) return;
    ui.log.appendChild(csat.buildRating(document, state.locale, send, facts.max_text_bytes));
    scrollToEnd();
  }

  function onCsatStored(frame) {
    var form = ui.log.querySelector('.bolt-csat');
    if (form) form.parentNode.removeChild(form);
    if (frame.message) renderMessage('system', frame.message);
  }

  function onError(frame) {
    if (frame.code === 'already_rated' || frame.code === 'not_requested') onCsatStored({});
    if (frame.code === 'invalid_score' || frame.code === 'comment_too_long') {
      var rating = ui.log.querySelector('.bolt-csat');
      if (rating) { rating.querySelector('button').disabled = false; rating.setAttribute('data-csat', 'request'); }
    }
    hideTyping();
    renderMessage('system', frame.message || frame.code || 'Error');
  }

  /* ---------- sending ---------- */

  function submit() {
    var text = ui.input.value.trim();
    if (!text) return;
    if (!textLimit.fits(text, facts.max_text_bytes)) { renderMessage('system', t('tooLong')); return; }
    ui.input.value = '';
    autosize();
    sendText(text, text);
  }

  function newClientId() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    return Date.now().toString(36) + '-' + Math.random().toString(36).slice(2, 12);
  }

  function sendText(text, shown) {
    removeQuickReplies();
    ensureConnected();
    var node = renderMessage('user', shown);
    var item = { clientId: newClientId(), text: text, shown: shown, node: node, sent: false };
    state.outbox.push(item);
    if (!state.awaitingHistory && send({ type: 'message', text: text, client_id: item.clientId })) {
      item.sent = true;
      if (state.mode === 'bot') showTyping('bot');
    } else {
      node.classList.add('bolt-pending');
      renderStatus();
    }
    ui.input.focus();
  }

  /* ---------- public API ---------- */

  function setIdentity(token) {
    token = token || null;
    var sub = subjectOf(token);
    var samePerson = sub === state.sub;
    var wasPending = state.identityPending;
    state.identityPending = false;
    clearTimeout(state.identityTimer);
    state.token = token;
    if (!samePerson) {
      // Someone else is signed in now: their conversation must not show the previous one.
      state.sub = sub;
      state.conversationId = null;
      state.outbox = [];
      if (ui.root) {
        ui.root.setAttribute('data-conversation-id', '');
        clearLog();
        addGreeting();
        setMode('bot');
        hideTyping();
      }
      saveStored();
    }
    if (wasPending && samePerson) {
      if (state.started || state.conversationId) ensureConnected();
    } else if (state.started && (!samePerson || state.connected || state.ws)) {
      reconnectNow();
    }
  }

  function setLocale(locale) {
    var l = normalizeLocale(locale);
    if (!l || l === state.locale) return;
    state.locale = l;
    if (ui.root) applyLocale();
  }

  function init() {
    loadStyles();
    build();
    var stored = loadStored();
    state.conversationId = stored.conversationId || null;
    state.sub = stored.sub || null;
    addGreeting();
    if (state.sub) {
      // A signed-in person's conversation resumes only with their token (the service checks
      // it): wait for the page's setIdentity() instead of greeting the server anonymously.
      state.identityPending = true;
      state.identityTimer = setTimeout(function () {
        state.identityPending = false;
        if (state.started) ensureConnected();
      }, IDENTITY_WAIT_MS);
    }
    if (state.conversationId) {
      ui.root.setAttribute('data-conversation-id', state.conversationId);
      ensureConnected(); // restore the history (and unread agent replies) right away
    }
    if (loadOpen()) open();
    window.addEventListener('online', function () { if (state.started && !state.connected) reconnectNow(); });
  }

  window.BoltWidget = {
    version: '1',
    open: function () { open(); },
    close: function () { close(); },
    toggle: function () { if (state.open) close(); else open(); },
    setIdentity: setIdentity,
    setLocale: setLocale,
    get conversationId() { return state.conversationId; },
    get locale() { return state.locale; }
  };

  if (document.body) init();
  else document.addEventListener('DOMContentLoaded', init);
  document.dispatchEvent(new CustomEvent('bolt:ready'));
})();
