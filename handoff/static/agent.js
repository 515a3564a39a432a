/*
 * Agent console (/agent): sign-in, live queue over /ws/agent, conversations in tabs.
 *
 * Speaks the agent API of CONTRACT.md. Pushed frames are treated as hints: the console refetches
 * `GET /api/queue` and the open conversations, so it stays right whatever a frame carries.
 * Every text from users, the bot or agents is rendered by lib/richtext.js (text nodes only), the
 * renderer the widget uses. Limits and names come from the service (`facts`, handoff/assets.py).
 */
(function () {
  'use strict';

  var richText = require('./lib/richtext');
  var dom = require('./lib/dom');
  var textLimit = require('./lib/text');
  var canned = require('./lib/canned');
  var notes = require('./lib/notes');
  var supervisor = require('./lib/supervisor');
  var facts = require('./facts');
  var createWorkplace = require('./lib/workplace').createWorkplace;

  var SESSION_KEY = 'agent-console:v1';
  var SOUND_KEY = 'agent-console:sound';
  var LANG_KEY = 'agent-console:lang';
  var BACKOFF_BASE_MS = 500;
  var BACKOFF_MAX_MS = 30000;
  var SLA_WARN_MS = facts.sla_warning_minutes * 60 * 1000;

  var STRINGS = {
    de: {
      product: 'Bolt Support', loginTitle: 'Agent-Konsole', loginLead: 'Melden Sie sich an, um Eskalationen zu bearbeiten.',
      username: 'Benutzername', password: 'Passwort', signIn: 'Anmelden', signOut: 'Abmelden',
      loginFailed: 'Benutzername oder Passwort ist falsch.', loginError: 'Anmeldung nicht möglich – ist der Dienst erreichbar?',
      loginThrottled: 'Zu viele fehlgeschlagene Anmeldungen. Bitte versuchen Sie es in {seconds} Sekunden erneut.',
      sessionExpired: 'Ihre Sitzung ist abgelaufen. Bitte melden Sie sich erneut an.',
      consoleTitle: 'Agent-Konsole', queue: 'Warteschlange', queueEmpty: 'Niemand wartet gerade.',
      placeholder: 'Wählen Sie ein Gespräch aus der Warteschlange.',
      online: 'Live verbunden', connecting: 'Verbinde …', offline: 'Getrennt – neuer Versuch …',
      soundOn: 'Ton an', soundOff: 'Ton aus',
      prioritized: 'Priorisiert', waiting: 'wartet seit', sla: 'SLA', slaOverdue: 'SLA überschritten',
      slaNone: 'ohne SLA', minutes: 'Min.',
      claim: 'Übernehmen', transfer: 'An Tier 2', resolve: 'Lösen', release: 'Zurück an Bolt',
      reply: 'Antwort an den Kunden', replyPlaceholder: 'Antwort schreiben … (Enter sendet, Umschalt+Enter neue Zeile)',
      send: 'Senden', closeTab: 'Tab schließen', transcript: 'Gesprächsverlauf',
      statusWaiting: 'Wartet', statusMine: 'In Bearbeitung (Sie)', statusOther: 'Von anderem Agenten übernommen',
      statusResolved: 'Gelöst', statusReleased: 'Zurück an Bolt', statusTransferred: 'An Tier 2 übergeben',
      claimFirst: 'Übernehmen Sie das Gespräch, um zu antworten.',
      claimed: 'Gespräch übernommen.', claimConflict: 'Ein anderer Agent hat dieses Gespräch bereits übernommen.',
      transferred: 'An Tier 2 übergeben.', resolved: 'Als gelöst markiert.', released: 'Zurück an Bolt übergeben.',
      actionFailed: 'Aktion fehlgeschlagen', notFound: 'Gespräch nicht gefunden.',
      newEscalation: 'Neue Eskalation', newEscalations: 'Neue Eskalationen', newBadge: 'Neu',
      newCount: function (n) { return n + ' neu'; }, tooLong: 'Die Antwort ist zu lang. Bitte kürzen oder teilen Sie sie.',
      conversations: 'Gespräche', openConversations: 'Offene Gespräche',
      account: 'Konto', accountType: 'Kontotyp', plan: 'Support-Plan', user: 'Benutzer:in', email: 'E-Mail', role: 'Rolle',
      licensed: 'Lizenz', yes: 'ja', no: 'nein', licensedYes: 'lizenziert', licensedNo: 'nicht lizenziert',
      entitlements: 'Berechtigungen', summary: 'Anliegen', tam: 'Technische:r Kundenbetreuer:in', queueName: 'Queue',
      ent_live_chat: 'Live-Chat', ent_phone: 'Telefon', ent_prioritized: 'Priorisiert', ent_automatic_escalation: 'Auto-Eskalation',
      ent_tam: 'TAM', ent_ticket: 'Ticket',
      from_user: 'Kunde', from_bot: 'Bolt', from_agent: 'Agent', from_system: 'System',
      anonymous: 'Unbekannt', roles: { owner: 'Besitzer:in', admin: 'Admin', member: 'Mitglied' }
    },
    en: {
      product: 'Bolt Support', loginTitle: 'Agent console', loginLead: 'Sign in to handle escalations.',
      username: 'Username', password: 'Password', signIn: 'Sign in', signOut: 'Sign out',
      loginFailed: 'Wrong username or password.', loginError: 'Cannot sign in – is the service reachable?',
      loginThrottled: 'Too many failed sign-ins. Please try again in {seconds} seconds.',
      sessionExpired: 'Your session has expired. Please sign in again.',
      consoleTitle: 'Agent console', queue: 'Queue', queueEmpty: 'Nobody is waiting.',
      placeholder: 'Pick a conversation from the queue.',
      online: 'Live', connecting: 'Connecting …', offline: 'Disconnected – retrying …',
      soundOn: 'Sound on', soundOff: 'Sound off',
      prioritized: 'Prioritized', waiting: 'waiting', sla: 'SLA', slaOverdue: 'SLA overdue',
      slaNone: 'no SLA', minutes: 'min',
      claim: 'Claim', transfer: 'To Tier 2', resolve: 'Resolve', release: 'Hand back to Bolt',
      reply: 'Reply to the customer', replyPlaceholder: 'Write a reply … (Enter sends, Shift+Enter new line)',
      send: 'Send', closeTab: 'Close tab', transcript: 'Transcript',
      statusWaiting: 'Waiting', statusMine: 'Yours', statusOther: 'Claimed by another agent',
      statusResolved: 'Resolved', statusReleased: 'Handed back to Bolt', statusTransferred: 'Transferred to Tier 2',
      claimFirst: 'Claim the conversation to reply.',
      claimed: 'Conversation claimed.', claimConflict: 'Another agent has already claimed this conversation.',
      transferred: 'Transferred to Tier 2.', resolved: 'Marked as resolved.', released: 'Handed back to Bolt.',
      actionFailed: 'Action failed', notFound: 'Conversation not found.',
      newEscalation: 'New escalation', newEscalations: 'New escalations', newBadge: 'New',
      newCount: function (n) { return n + ' new'; }, tooLong: 'That reply is too long. Please shorten or split it.',
      conversations: 'Conversations', openConversations: 'Open conversations',
      account: 'Account', accountType: 'Account type', plan: 'Support plan', user: 'User', email: 'Email', role: 'Role',
      licensed: 'Licence', yes: 'yes', no: 'no', licensedYes: 'licensed', licensedNo: 'unlicensed',
      entitlements: 'Entitlements', summary: 'Issue', tam: 'Technical account manager', queueName: 'Queue',
      ent_live_chat: 'Live chat', ent_phone: 'Phone', ent_prioritized: 'Prioritized', ent_automatic_escalation: 'Auto escalation',
      ent_tam: 'TAM', ent_ticket: 'Ticket',
      from_user: 'Customer', from_bot: 'Bolt', from_agent: 'Agent', from_system: 'System',
      anonymous: 'Unknown', roles: { owner: 'Owner', admin: 'Admin', member: 'Member' }
    }
  };
  // A conversation's `status` as the service sends it: bot, waiting, claimed or resolved.
  var CLOSED = { resolved: 'statusResolved', bot: 'statusReleased' };

  function pickLang() {
    var q = new URLSearchParams(location.search).get('lang');
    if (q === 'de' || q === 'en') return q;
    var saved = localStorage.getItem(LANG_KEY);
    if (saved === 'de' || saved === 'en') return saved;
    return (navigator.language || 'de').toLowerCase().indexOf('en') === 0 ? 'en' : 'de';
  }

  var lang = pickLang();
  function t(key) { return STRINGS[lang][key]; }

  /** The served name of `id` in the facts list `kind` (plans, account_types, queues). */
  function factName(kind, id) {
    if (id == null || id === '') return null;
    var item = facts[kind].filter(function (f) { return f.id === id; })[0];
    if (!item) return String(id);
    return typeof item.name === 'string' ? item.name : item.name[lang];
  }
  function priorityFact(level) {
    return facts.priorities.filter(function (p) { return p.level === level; })[0] || null;
  }

  var session = loadSession();
  var state = {
    ws: null, connected: false, attempt: 0, reconnectTimer: null,
    // Escalations stay "new" until the agent opens them, across reloads (kept in the session);
    // `known` is what the queue held last time, so a reload can tell what arrived meanwhile.
    queue: [], known: session.known ? setOf(session.known) : null, unseenEscalations: setOf(session.unseen || []),
    tabs: {}, order: [], active: null,
    queueRefresh: null, convRefresh: {},
    audio: null, soundOn: localStorage.getItem(SOUND_KEY) !== 'off',
    notifications: 0
  };

  /* ---------- session ---------- */

  function loadSession() {
    try { return JSON.parse(sessionStorage.getItem(SESSION_KEY)) || {}; } catch (e) { return {}; }
  }
  function saveSession() {
    session.openTabs = state.order.slice();
    session.active = state.active;
    session.unseen = Object.keys(state.unseenEscalations);
    session.known = state.known ? Object.keys(state.known) : null;
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  }
  function setOf(ids) {
    var set = {};
    ids.forEach(function (id) { set[id] = true; });
    return set;
  }

  /* ---------- DOM helpers ---------- */

  function $(id) { return document.getElementById(id); }
  function el(tag, className, text) { return dom.make(document, tag, className, text); }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  function toast(message, kind) {
    var node = el('div', 'toast toast--' + (kind || 'info'), message);
    $('toasts').appendChild(node);
    setTimeout(function () { node.classList.add('toast--out'); }, 4200);
    setTimeout(function () { if (node.parentNode) node.parentNode.removeChild(node); }, 4700);
  }

  function applyI18n() {
    document.documentElement.lang = lang;
    var nodes = document.querySelectorAll('[data-i18n]');
    for (var i = 0; i < nodes.length; i++) nodes[i].textContent = t(nodes[i].getAttribute('data-i18n'));
    document.querySelector('.work-pane').setAttribute('aria-label', t('conversations'));
    $('tabs').setAttribute('aria-label', t('openConversations'));
    renderSoundToggle();
    renderConnection();
    updateTitle();
  }

  /* ---------- time ---------- */

  function parseTime(value) {
    if (!value) return null;
    var d = new Date(value);
    return isNaN(d.getTime()) ? null : d;
  }
  function clock(at) {
    var d = parseTime(at) || new Date();
    return d.toLocaleTimeString(lang === 'en' ? 'en-GB' : 'de-DE', { hour: '2-digit', minute: '2-digit' });
  }
  function duration(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    var h = Math.floor(s / 3600);
    var m = Math.floor((s % 3600) / 60);
    var sec = s % 60;
    function two(n) { return (n < 10 ? '0' : '') + n; }
    return (h ? h + ':' + two(m) : m) + ':' + two(sec);
  }
  function slaDue(entry) {
    return parseTime((entry.sla || {}).first_response_due);
  }
  function waitingSince(entry) {
    return parseTime(entry.escalated_at || entry.created_at);
  }

  /* ---------- sign-in ---------- */

  function api(method, path, body) {
    var headers = { Accept: 'application/json' };
    if (session.token) headers.Authorization = 'Bearer ' + session.token;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    return fetch(path, { method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body) })
      .then(function (r) {
        if (r.status === 401 && path !== '/api/agents/login') { signOut(t('sessionExpired')); throw httpError(r.status); }
        if (!r.ok) throw httpError(r.status, r.headers.get('Retry-After'));
        return r.status === 204 ? {} : r.json().catch(function () { return {}; });
      });
  }
  function httpError(status, retryAfter) {
    var e = new Error('HTTP ' + status); e.status = status; e.retryAfter = retryAfter; return e;
  }

  function onLoginSubmit(e) {
    e.preventDefault();
    unlockAudio();
    var username = $('username').value.trim();
    var password = $('password').value;
    var error = $('login-error');
    error.textContent = '';
    if (!username || !password) { error.textContent = t('loginFailed'); return; }
    api('POST', '/api/agents/login', { username: username, password: password }).then(function (body) {
      var agent = body.agent || {};
      session = { token: body.token, username: agent.username || username, name: agent.name || username,
        tiers: Array.isArray(agent.tiers) ? agent.tiers : null,
        roles: Array.isArray(agent.roles) ? agent.roles : [], openTabs: [] };
      saveSession();
      $('password').value = '';
      startApp();
    }).catch(function (err) {
      if (err.status === 429) error.textContent = t('loginThrottled').replace('{seconds}', String(parseInt(err.retryAfter, 10) || 60));
      else error.textContent = err.status === 401 || err.status === 403 ? t('loginFailed') : t('loginError');
    });
  }

  function signOut(message) {
    var token = session.token;
    session = {};
    sessionStorage.removeItem(SESSION_KEY);
    if (state.ws) { var ws = state.ws; state.ws = null; try { ws.close(1000); } catch (e) { /* closed */ } }
    clearTimeout(state.reconnectTimer);
    state.reconnectTimer = null;
    state.connected = false;
    state.queue = []; state.known = null; state.unseenEscalations = {};
    state.order.slice().forEach(function (id) { closeTab(id, true); });
    if (state.supervisor) state.supervisor.hide();
    if ($('supervisor-toggle')) $('supervisor-toggle').hidden = true;
    workplace.stop();
    $('app').hidden = true;
    $('login-view').hidden = false;
    $('login-error').textContent = message && token ? message : '';
    updateTitle();
    $('username').focus();
  }

  /** The sign-out button: the server ends this token everywhere (and closes its sockets). */
  function logOut() {
    if (session.token) {
      fetch('/api/agents/logout', { method: 'POST', headers: { Authorization: 'Bearer ' + session.token }, keepalive: true })
        .catch(function () { /* offline: the token still expires */ });
    }
    signOut();
  }
  // Presence, team, "my conversations", assignment pushes, typing (lib/workplace.js).
  var workplace = createWorkplace({
    api: function (method, path, body) { return api(method, path, body); }, el: el, clear: clear,
    toast: function (m, k) { toast(m, k); }, beep: function () { beep(); },
    openTab: function (id, focus) { openTab(id, focus); }, lang: function () { return lang; },
    username: function () { return session.username; }
  });

  function startApp() {
    $('login-view').hidden = true;
    $('app').hidden = false;
    $('agent-name').textContent = session.name || session.username || '';
    mountSupervisorPage();
    connect();
    refreshQueue();
    workplace.start();
    var active = session.active; // opening the tabs saves the session again
    (session.openTabs || []).forEach(function (id) { openTab(id, false); });
    if (active && state.tabs[active]) activate(active);
  }

  /* ---------- sound + title ---------- */

  function unlockAudio() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!state.audio && Ctx) { try { state.audio = new Ctx(); } catch (e) { state.audio = null; } }
    if (state.audio && state.audio.state === 'suspended') state.audio.resume();
  }

  function beep() {
    if (!state.soundOn || !state.audio) return;
    var ctx = state.audio;
    [0, 0.18].forEach(function (offset, i) {
      var osc = ctx.createOscillator();
      var gain = ctx.createGain();
      osc.type = 'sine';
      osc.frequency.value = i ? 1320 : 880;
      var start = ctx.currentTime + offset;
      gain.gain.setValueAtTime(0.0001, start);
      gain.gain.exponentialRampToValueAtTime(0.25, start + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.16);
      osc.connect(gain).connect(ctx.destination);
      osc.start(start);
      osc.stop(start + 0.17);
    });
  }

  function renderSoundToggle() {
    var btn = $('sound-toggle');
    btn.setAttribute('aria-pressed', String(state.soundOn));
    btn.setAttribute('aria-label', state.soundOn ? t('soundOn') : t('soundOff'));
    btn.title = btn.getAttribute('aria-label');
  }

  function updateTitle() {
    var n = Object.keys(state.unseenEscalations).length;
    var base = t('consoleTitle') + ' – Bolt';
    document.title = n ? '(' + n + ') ' + (n === 1 ? t('newEscalation') : t('newEscalations')) + ' · ' + base : base;
  }

  function notifyEscalations(ids) {
    ids.forEach(function (id) { state.unseenEscalations[id] = true; });
    saveSession();
    state.notifications += ids.length;
    document.body.setAttribute('data-notifications', String(state.notifications));
    updateTitle();
    beep();
    var entry = state.queue.filter(function (e) { return e.id === ids[0]; })[0];
    var who = entry ? (accountOf(entry).user_name || accountOf(entry).name || entry.id) : ids[0];
    toast((ids.length === 1 ? t('newEscalation') : t('newEscalations')) + ': ' + who, 'alert');
  }

  function markSeen(id) {
    if (!state.unseenEscalations[id]) return;
    delete state.unseenEscalations[id];
    updateTitle();
    saveSession();
  }

  /* ---------- websocket ---------- */

  function socketUrl() {
    return (location.protocol === 'https:' ? 'wss:' : 'ws:') + '//' + location.host + '/ws/agent';
  }

  function connect() {
    state.reconnectTimer = null;
    if (!session.token) return;
    var ws;
    try { ws = new WebSocket(socketUrl()); } catch (e) { scheduleReconnect(); return; }
    state.ws = ws;
    renderConnection();
    ws.addEventListener('open', function () {
      ws.send(JSON.stringify({ type: 'auth', token: session.token }));
      state.connected = true;
      state.attempt = 0;
      renderConnection();
      // Whatever happened while we were away: the queue and open conversations are refetched.
      refreshQueue();
      workplace.refresh();
      state.order.forEach(function (id) { refreshConversation(id); });
    });
    ws.addEventListener('message', function (event) {
      if (ws !== state.ws) return;
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      if (frame && typeof frame === 'object') onFrame(frame);
    });
    ws.addEventListener('close', function (event) {
      if (ws !== state.ws) return;
      state.ws = null;
      state.connected = false;
      renderConnection();
      if (event.code === 4401 || event.code === 4001 || event.code === 4003 || event.code === 1008) {
        signOut(t('sessionExpired'));
        return;
      }
      scheduleReconnect();
    });
  }

  function scheduleReconnect() {
    if (state.reconnectTimer || !session.token) return;
    state.attempt += 1;
    var delay = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * Math.pow(2, state.attempt - 1));
    state.reconnectTimer = setTimeout(connect, delay / 2 + Math.random() * delay / 2);
  }

  function renderConnection() {
    var pill = $('connection');
    var key = state.connected ? 'online' : (state.attempt ? 'offline' : 'connecting');
    pill.setAttribute('data-state', key);
    pill.textContent = t(key);
  }

  function conversationIdOf(frame) {
    if (frame.conversation_id) return frame.conversation_id;
    if (frame.conversation && typeof frame.conversation === 'object') return frame.conversation.id || frame.conversation.conversation_id;
    return null;
  }

  function onFrame(frame) {
    if (frame.type === 'error' && /auth/i.test(String(frame.code || ''))) { signOut(t('sessionExpired')); return; }
    if (Array.isArray(frame.queue)) { setQueue(frame.queue); }
    workplace.onFrame(frame);
    if (frame.type === 'typing') return; // shown in the pane; nothing to refetch
    var id = conversationIdOf(frame);
    if (id && state.tabs[id]) {
      if (state.active !== id && frame.type === 'user_message') state.tabs[id].tabBtn.classList.add('tab--unread');
      scheduleConversationRefresh(id);
    }
    scheduleQueueRefresh();
  }

  /* ---------- queue ---------- */

  function scheduleQueueRefresh() {
    clearTimeout(state.queueRefresh);
    state.queueRefresh = setTimeout(refreshQueue, 120);
  }

  function refreshQueue() {
    if (!session.token) return Promise.resolve();
    return api('GET', '/api/queue').then(function (body) {
      setQueue(Array.isArray(body) ? body : []);
    }).catch(function () { /* the next push or reconnect refreshes again */ });
  }

  function setQueue(entries) {
    var ids = entries.map(function (e) { return e.id; });
    // The first queue of a new sign-in is not news; after that, whatever was not there before is.
    var fresh = state.known ? ids.filter(function (id) { return !state.known[id]; }) : [];
    state.known = setOf(ids);
    // What left the queue (claimed, handed back) is no longer waiting for anyone's attention.
    Object.keys(state.unseenEscalations).forEach(function (id) { if (!state.known[id]) delete state.unseenEscalations[id]; });
    state.queue = entries;
    if (fresh.length) notifyEscalations(fresh);
    else { updateTitle(); saveSession(); }
    renderQueue();
  }

  function accountOf(entry) { return entry.account || {}; }

  /** The P-level badge; its tooltip says what the level means (the service's priorities). */
  function priorityBadge(priority) {
    var p = String(priority || '–').toUpperCase();
    var badge = el('span', 'prio prio-' + p.toLowerCase(), p);
    var fact = priorityFact(p);
    if (fact) badge.title = fact.summary[lang];
    return badge;
  }

  function renderQueue() {
    var list = $('queue');
    clear(list);
    $('queue-count').textContent = String(state.queue.length);
    var unseen = state.queue.filter(function (e) { return state.unseenEscalations[e.id]; }).length;
    $('queue-new').textContent = unseen ? t('newCount')(unseen) : '';
    $('queue-new').hidden = !unseen;
    $('queue-empty').hidden = state.queue.length > 0;
    state.queue.forEach(function (entry) {
      var account = accountOf(entry);
      var li = el('li', 'q-item');
      li.setAttribute('data-conversation-id', entry.id);
      var isNew = !!state.unseenEscalations[entry.id];
      li.classList.toggle('q-item--new', isNew);
      if (state.active === entry.id) li.classList.add('q-item--active');
      var btn = dom.button(document, 'q-open');
      btn.addEventListener('click', function () { markSeen(entry.id); openTab(entry.id, true); });

      var top = el('div', 'q-top');
      // "New" in words as well as in colour, until the agent opens the conversation.
      if (isNew) top.appendChild(el('span', 'badge badge-new', t('newBadge')));
      top.appendChild(priorityBadge(entry.priority));
      if (entry.prioritized) top.appendChild(el('span', 'badge badge-prioritized', '★ ' + t('prioritized')));
      if (entry.queue) top.appendChild(el('span', 'badge badge-queue', factName('queues', entry.queue)));
      btn.appendChild(top);

      var nameRow = el('div', 'q-name-row');
      nameRow.appendChild(el('span', 'q-name', account.user_name || account.name || t('anonymous')));
      var sla = el('span', 'q-sla');
      sla.setAttribute('data-sla-for', entry.id);
      nameRow.appendChild(sla);
      btn.appendChild(nameRow);
      var sub = el('div', 'q-account');
      sub.appendChild(el('span', 'q-account-name', account.name || ''));
      if (account.plan) sub.appendChild(el('span', 'chip', factName('plans', account.plan)));
      if (account.type) sub.appendChild(el('span', 'chip chip-muted', factName('account_types', account.type)));
      btn.appendChild(sub);
      if (entry.summary) btn.appendChild(el('p', 'q-summary', entry.summary));
      li.appendChild(btn);
      list.appendChild(li);
    });
    tickClocks();
  }

  function slaText(entry, now) {
    var due = slaDue(entry);
    if (due) {
      var left = due.getTime() - now;
      return { text: left >= 0 ? t('sla') + ' ' + duration(left) : t('slaOverdue') + ' ' + duration(-left),
        level: left < 0 ? 'overdue' : (left < SLA_WARN_MS ? 'warn' : 'ok') };
    }
    var since = waitingSince(entry);
    if (since) return { text: t('waiting') + ' ' + duration(now - since.getTime()), level: 'none' };
    return { text: t('slaNone'), level: 'none' };
  }

  function tickClocks() {
    var now = Date.now();
    var nodes = document.querySelectorAll('[data-sla-for]');
    for (var i = 0; i < nodes.length; i++) {
      var id = nodes[i].getAttribute('data-sla-for');
      var entry = state.queue.filter(function (e) { return e.id === id; })[0] || (state.tabs[id] && state.tabs[id].data);
      if (!entry) continue;
      var s = slaText(entry, now);
      nodes[i].textContent = s.text;
      nodes[i].setAttribute('data-level', s.level);
    }
  }

  /* ---------- tabs ---------- */

  function openTab(id, focus) {
    if (!state.tabs[id]) {
      // The tab list holds tabs only (ARIA): the "×" is part of the tab for the pointer, Delete
      // closes the focused tab, and the conversation's own actions have a "Close tab" button.
      var tabBtn = dom.button(document, 'tab');
      tabBtn.id = 'tab-' + id;
      tabBtn.setAttribute('role', 'tab');
      tabBtn.setAttribute('aria-controls', 'pane-' + id);
      tabBtn.setAttribute('aria-selected', 'false');
      tabBtn.setAttribute('aria-keyshortcuts', 'Delete');
      var tabPrio = el('span', 'tab-prio');
      var tabLabel = el('span', 'tab-label', id.slice(0, 8));
      var x = el('span', 'tab-close', '×');
      x.setAttribute('aria-hidden', 'true');
      x.title = t('closeTab');
      tabBtn.appendChild(tabPrio);
      tabBtn.appendChild(tabLabel);
      tabBtn.appendChild(x);
      tabBtn.addEventListener('click', function (e) {
        if (e.target === x) closeTab(id); else activate(id);
      });
      tabBtn.addEventListener('keydown', function (e) { onTabKey(e, id); });
      $('tabs').appendChild(tabBtn);

      var pane = buildPane(id);
      $('panes').appendChild(pane.root);
      workplace.attachPane(id, pane);
      state.tabs[id] = { tabBtn: tabBtn, tabPrio: tabPrio, tabLabel: tabLabel, pane: pane, data: null };
      state.order.push(id);
      refreshConversation(id);
    }
    if (focus !== false) activate(id);
    saveSession();
  }

  function onTabKey(e, id) {
    var i = state.order.indexOf(id);
    var next = null;
    if (e.key === 'ArrowRight') next = state.order[(i + 1) % state.order.length];
    else if (e.key === 'ArrowLeft') next = state.order[(i + state.order.length - 1) % state.order.length];
    else if (e.key === 'Home') next = state.order[0];
    else if (e.key === 'End') next = state.order[state.order.length - 1];
    else if (e.key === 'Delete') {
      e.preventDefault();
      closeTabAndFocus(id);
      return;
    } else return;
    e.preventDefault();
    activate(next);
    state.tabs[next].tabBtn.focus();
  }

  function activate(id) {
    state.active = id;
    state.order.forEach(function (other) {
      var entry = state.tabs[other];
      var on = other === id;
      entry.tabBtn.setAttribute('aria-selected', String(on));
      entry.tabBtn.tabIndex = on ? 0 : -1;
      entry.tabBtn.classList.toggle('tab--active', on);
      entry.pane.root.hidden = !on;
      if (on) entry.tabBtn.classList.remove('tab--unread');
    });
    $('placeholder').hidden = state.order.length > 0;
    markSeen(id);
    renderQueue();
    saveSession();
    var t0 = state.tabs[id];
    if (t0) t0.pane.log.scrollTop = t0.pane.log.scrollHeight;
  }

  function closeTab(id, silent) {
    var entry = state.tabs[id];
    if (!entry) return;
    entry.tabBtn.parentNode.removeChild(entry.tabBtn);
    entry.pane.root.parentNode.removeChild(entry.pane.root);
    delete state.tabs[id];
    state.order.splice(state.order.indexOf(id), 1);
    if (state.active === id) {
      state.active = null;
      if (state.order.length) activate(state.order[state.order.length - 1]);
    }
    $('placeholder').hidden = state.order.length > 0;
    if (!silent) { saveSession(); renderQueue(); }
  }

  /** Close a tab from the keyboard or its button: focus goes to the next tab, or the queue. */
  function closeTabAndFocus(id) {
    closeTab(id);
    if (state.active) state.tabs[state.active].tabBtn.focus();
    else $('queue-title').focus();
  }

  /* ---------- a conversation ---------- */

  function buildPane(id) {
    var root = el('section', 'conv');
    root.id = 'pane-' + id;
    root.setAttribute('role', 'tabpanel');
    root.setAttribute('aria-labelledby', 'tab-' + id);
    root.setAttribute('data-conversation-id', id);
    root.hidden = true;

    var main = el('div', 'conv-main');
    var head = el('header', 'conv-head');
    var titleBox = el('div', 'conv-titlebox');
    var title = el('h2', 'conv-title', id);
    var meta = el('div', 'conv-meta');
    titleBox.appendChild(title);
    titleBox.appendChild(meta);
    var actions = el('div', 'conv-actions');
    var closeBtn = dom.button(document, 'btn btn-secondary conv-close', '×');
    closeBtn.setAttribute('aria-label', t('closeTab'));
    closeBtn.title = t('closeTab');
    closeBtn.addEventListener('click', function () { closeTabAndFocus(id); });
    head.appendChild(titleBox);
    head.appendChild(actions);
    head.appendChild(closeBtn);

    // A live log (role=log) that holds the messages as a list: <ol role=log> would lose the list.
    var log = el('div', 'transcript');
    log.setAttribute('role', 'log');
    log.setAttribute('aria-live', 'polite');
    log.setAttribute('aria-label', t('transcript'));
    log.tabIndex = 0;
    var transcript = el('ol', 'transcript-list');
    log.appendChild(transcript);

    var form = el('form', 'reply');
    var label = el('label', 'sr-only', t('reply'));
    label.htmlFor = 'reply-' + id;
    var input = el('textarea', 'reply-input');
    input.id = 'reply-' + id;
    input.rows = 2;
    // A cap that never refuses a text that fits: every UTF-16 unit takes at least one byte.
    input.maxLength = facts.max_text_bytes;
    input.placeholder = t('replyPlaceholder');
    var send = dom.button(document, 'btn btn-primary', t('send'), 'submit');
    var hint = el('p', 'reply-hint', t('claimFirst'));
    var cannedBtn = dom.button(document, 'btn btn-secondary canned-btn', canned.STRINGS[lang].button);
    var cannedHint = el('span', 'sr-only', canned.STRINGS[lang].hint);
    cannedHint.id = 'canned-hint-' + id;
    input.setAttribute('aria-describedby', cannedHint.id);
    form.appendChild(cannedHint);
    form.appendChild(label);
    form.appendChild(input);
    form.appendChild(cannedBtn);
    form.appendChild(send);
    canned.attachPicker({ input: input, button: cannedBtn, host: form, strings: canned.STRINGS[lang],
      load: function () { return cannedFor(state.tabs[id] && state.tabs[id].data); } });
    input.addEventListener('keydown', function (e) {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); sendReply(id); }
    });
    form.addEventListener('submit', function (e) { e.preventDefault(); sendReply(id); });

    main.appendChild(head);
    main.appendChild(log);
    main.appendChild(hint);
    main.appendChild(form);

    // The side panel: the account (rebuilt on each refresh), then the desk's own sections, which
    // keep their nodes (a note being typed survives a refresh).
    var side = el('aside', 'account-card');
    var card = el('div', 'card-info');
    var csatBox = el('div', 'csat-box');
    var notesBox = el('div', 'notes-box');
    var exportBox = buildExport(id);
    side.appendChild(card);
    side.appendChild(csatBox);
    side.appendChild(notesBox);
    side.appendChild(exportBox);
    root.appendChild(main);
    root.appendChild(side);
    return { root: root, title: title, meta: meta, actions: actions, log: log, transcript: transcript, form: form,
      input: input, send: send, hint: hint, card: card, csatBox: csatBox, notesBox: notesBox, cannedBtn: cannedBtn };
  }

  function scheduleConversationRefresh(id) {
    clearTimeout(state.convRefresh[id]);
    state.convRefresh[id] = setTimeout(function () { refreshConversation(id); }, 80);
  }

  function refreshConversation(id) {
    return api('GET', '/api/conversations/' + encodeURIComponent(id)).then(function (data) {
      if (state.tabs[id]) renderConversation(id, data);
    }).catch(function (err) {
      if (err.status === 404 && state.tabs[id]) { toast(t('notFound'), 'error'); closeTab(id); }
    });
  }

  function isMine(data) {
    return !!data.agent && data.agent === session.username;
  }

  function canHandle(queue) {
    return !queue || !session.tiers || session.tiers.indexOf(queue) !== -1;
  }

  function phaseOf(data) {
    if (data.status === 'waiting') return canHandle(data.queue) ? 'waiting' : 'elsewhere';
    if (data.status === 'claimed') return isMine(data) ? 'mine' : 'other';
    return 'closed';
  }

  function renderConversation(id, data) {
    var entry = state.tabs[id];
    var pane = entry.pane;
    data.id = data.id || id;
    entry.data = data;
    var account = accountOf(data);
    var phase = phaseOf(data);

    var who = account.user_name || account.name || t('anonymous');
    entry.tabLabel.textContent = who;
    entry.tabPrio.textContent = data.priority || '';
    entry.tabPrio.className = 'tab-prio prio-' + String(data.priority || '').toLowerCase();
    pane.title.textContent = who;

    clear(pane.meta);
    if (account.name && account.user_name) pane.meta.appendChild(el('span', 'conv-account', account.name));
    pane.meta.appendChild(priorityBadge(data.priority));
    if (data.prioritized) pane.meta.appendChild(el('span', 'badge badge-prioritized', '★ ' + t('prioritized')));
    if (data.queue) pane.meta.appendChild(el('span', 'badge badge-queue', factName('queues', data.queue)));
    var statusKey = { waiting: 'statusWaiting', mine: 'statusMine', other: 'statusOther', elsewhere: 'statusTransferred' }[phase] || CLOSED[data.status];
    pane.meta.appendChild(el('span', 'status status-' + phase, statusKey ? t(statusKey) : String(data.status)));
    if (phase === 'waiting') {
      var sla = el('span', 'q-sla');
      sla.setAttribute('data-sla-for', id);
      pane.meta.appendChild(sla);
    }

    clear(pane.actions);
    function action(label, kind, handler) {
      var b = dom.button(document, 'btn ' + kind, label);
      b.setAttribute('data-action', handler.name || '');
      b.addEventListener('click', function () { b.disabled = true; handler(id).then(function () { b.disabled = false; }); });
      pane.actions.appendChild(b);
      return b;
    }
    if (phase === 'waiting') action(t('claim'), 'btn-primary', claim);
    if (phase === 'mine') {
      if (String(data.queue) !== 'tier2') action(t('transfer'), 'btn-secondary', transfer);
      action(t('release'), 'btn-secondary', release);
      action(t('resolve'), 'btn-success', resolve);
    }

    var canReply = phase === 'mine';
    pane.input.disabled = !canReply;
    pane.send.disabled = !canReply;
    pane.cannedBtn.disabled = !canReply;
    pane.hint.hidden = canReply || phase !== 'waiting';
    pane.form.hidden = phase === 'closed' || phase === 'elsewhere';

    renderTranscript(pane.log, pane.transcript, data.transcript || [], account.user_name);
    renderAccountCard(pane.card, data);
    renderDesk(id, pane, data);
    tickClocks();
  }

  /* ---------- the desk: notes, CSAT, canned answers, transcript export, supervisors ---------- */

  var cannedCache = {};
  function cannedFor(data) {
    var l = data && data.language === 'en' ? 'en' : 'de';
    if (!cannedCache[l]) {
      cannedCache[l] = api('GET', '/api/canned?lang=' + l).catch(function (err) { delete cannedCache[l]; throw err; });
    }
    return cannedCache[l];
  }

  function renderDesk(id, pane, data) {
    var strings = notes.STRINGS[lang];
    notes.renderCsat(pane.csatBox, data.csat, strings);
    notes.renderNotes(pane.notesBox, data, {
      strings: strings, clock: clock, richText: richText, maxLength: facts.max_text_bytes,
      agentName: function (username) { return username === session.username ? session.name : username; },
      onAdd: function (text) {
        if (!textLimit.fits(text, facts.max_text_bytes)) { toast(t('tooLong'), 'error'); return Promise.reject(); }
        return post(id, 'notes', { text: text }).then(function () {
          toast(strings.noteAdded, 'ok');
          return refreshConversation(id);
        }, function (err) { toast(t('actionFailed') + ' (' + (err.status || '–') + ')', 'error'); throw err; });
      }
    });
  }

  function buildExport(id) {
    var strings = notes.STRINGS[lang];
    var box = el('div', 'export-box');
    box.appendChild(el('h3', 'card-title', strings.transcriptTitle));
    var row = el('div', 'export-row');
    [['txt', strings.exportTxt, strings.exportTxtLabel], ['json', strings.exportJson, strings.exportJsonLabel]].forEach(function (f) {
      var b = dom.button(document, 'btn btn-secondary', f[1]);
      b.setAttribute('aria-label', f[2]);
      b.setAttribute('data-export', f[0]);
      b.addEventListener('click', function () {
        notes.downloadTranscript(fetchBlob, id, f[0]).catch(function (err) {
          toast(t('actionFailed') + ' (' + (err.status || '–') + ')', 'error');
        });
      });
      row.appendChild(b);
    });
    box.appendChild(row);
    return box;
  }

  function fetchBlob(path) {
    return fetch(path, { headers: { Authorization: 'Bearer ' + session.token } }).then(function (r) {
      if (!r.ok) throw httpError(r.status);
      return r.blob();
    });
  }

  function mountSupervisorPage() {
    var button = $('supervisor-toggle');
    if (!button) {
      button = dom.button(document, 'btn btn-ghost');
      button.id = 'supervisor-toggle';
      document.querySelector('.topbar-right').insertBefore(button, $('agent-name'));
      var view = el('section', 'supervisor-view');
      view.id = 'supervisor-view';
      view.hidden = true;
      document.querySelector('.layout').parentNode.insertBefore(view, document.querySelector('.layout').nextSibling);
      state.supervisor = supervisor.mountSupervisor({ button: button, view: view, layout: document.querySelector('.layout'),
        api: api, clock: clock, lang: function () { return lang; },
        download: function (path, filename) { return fetchBlob(path).then(function (blob) { notes.saveBlob(blob, filename); }); } });
    }
    state.supervisor.relabel();
    button.hidden = (session.roles || []).indexOf('supervisor') === -1;
  }

  function renderTranscript(log, list, messages, userName) {
    // Follow new messages unless the agent scrolled up to read.
    var atBottom = !list.firstChild || log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    clear(list);
    messages.forEach(function (m) {
      if (m.text == null || String(m.text).trim() === '') return; // e.g. a bare handoff marker
      var from = ['user', 'bot', 'agent', 'system'].indexOf(m.from) === -1 ? 'system' : m.from;
      var li = el('li', 'msg msg--' + from);
      li.setAttribute('data-from', from);
      if (from !== 'system') {
        var meta = el('div', 'msg-meta');
        var agentName = m.agent === session.username ? session.name : (m.agent_name || m.agent);
        var label = from === 'agent' && agentName ? String(agentName) : from === 'user' && userName ? userName : t('from_' + from);
        meta.appendChild(el('span', 'msg-from', label));
        meta.appendChild(el('time', 'msg-time', clock(m.at)));
        li.appendChild(meta);
      }
      var bubble = el('p', 'msg-text');
      richText.appendRichText(bubble, m.text);
      li.appendChild(bubble);
      list.appendChild(li);
    });
    if (atBottom) log.scrollTop = log.scrollHeight;
  }

  function row(dl, label, value) {
    if (value == null || value === '') return;
    dl.appendChild(el('dt', null, label));
    var dd = el('dd');
    if (value instanceof Node) dd.appendChild(value); else richText.appendRichText(dd, String(value));
    dl.appendChild(dd);
  }

  function renderAccountCard(card, data) {
    clear(card);
    var a = accountOf(data);
    card.appendChild(el('h3', 'card-title', t('account')));
    var dl = el('dl', 'card-dl');
    row(dl, t('account'), a.name || t('anonymous'));
    row(dl, t('accountType'), factName('account_types', a.type));
    row(dl, t('plan'), factName('plans', a.plan));
    row(dl, t('user'), a.user_name);
    row(dl, t('email'), a.email);
    row(dl, t('role'), a.role ? (t('roles')[a.role] || a.role) : null);
    if (a.licensed != null) row(dl, t('licensed'), a.licensed ? t('licensedYes') : t('licensedNo'));
    row(dl, t('queueName'), factName('queues', data.queue));
    card.appendChild(dl);

    var ent = a.entitlements;
    if (ent && typeof ent === 'object') {
      card.appendChild(el('h3', 'card-title', t('entitlements')));
      var chips = el('ul', 'ent-list');
      Object.keys(ent).forEach(function (key) {
        var value = ent[key];
        if (key === 'queue') return;
        var on = !!value && value !== 'none';
        var label = STRINGS[lang]['ent_' + key] || key.replace(/_/g, ' ');
        var chip = el('li', 'ent ' + (on ? 'ent-on' : 'ent-off'));
        chip.appendChild(el('span', 'ent-mark', on ? '✓' : '–'));
        chip.appendChild(el('span', null, label));
        chips.appendChild(chip);
      });
      card.appendChild(chips);
      if (ent.tam && typeof ent.tam === 'object') {
        var tamDl = el('dl', 'card-dl');
        row(tamDl, t('tam'), [ent.tam.name, ent.tam.email].filter(Boolean).join(' · '));
        card.appendChild(tamDl);
      }
    }
    if (data.summary) {
      card.appendChild(el('h3', 'card-title', t('summary')));
      var p = el('p', 'card-summary');
      richText.appendRichText(p, data.summary);
      card.appendChild(p);
    }
  }

  /* ---------- actions ---------- */

  function post(id, verb, body) {
    return api('POST', '/api/conversations/' + encodeURIComponent(id) + '/' + verb, body === undefined ? {} : body);
  }

  function claim(id) {
    return post(id, 'claim').then(function () {
      toast(t('claimed'), 'ok');
      markSeen(id);
      var pane = state.tabs[id] && state.tabs[id].pane;
      return refreshConversation(id).then(function () { if (pane) pane.input.focus(); });
    }).catch(function (err) {
      toast(err.status === 409 ? t('claimConflict') : t('actionFailed') + ' (' + (err.status || '–') + ')', 'error');
      return refreshConversation(id);
    }).then(scheduleQueueRefresh);
  }

  function simple(verb, body, doneKey) {
    return function (id) {
      return post(id, verb, body).then(function () {
        toast(t(doneKey), 'ok');
      }).catch(function (err) {
        toast(t('actionFailed') + ' (' + (err.status || '–') + ')', 'error');
      }).then(function () { scheduleQueueRefresh(); return refreshConversation(id); });
    };
  }
  var transfer = simple('transfer', { queue: 'tier2' }, 'transferred');
  var resolve = simple('resolve', undefined, 'resolved');
  var release = simple('release', undefined, 'released');
  // Named for the data-action attribute (handy for tests and styling).
  Object.defineProperty(claim, 'name', { value: 'claim' });
  Object.defineProperty(transfer, 'name', { value: 'transfer' });
  Object.defineProperty(resolve, 'name', { value: 'resolve' });
  Object.defineProperty(release, 'name', { value: 'release' });

  function sendReply(id) {
    var entry = state.tabs[id];
    if (!entry) return;
    var input = entry.pane.input;
    var text = input.value.trim();
    if (!text || input.disabled) return;
    if (!textLimit.fits(text, facts.max_text_bytes)) { toast(t('tooLong'), 'error'); return; }
    input.value = '';
    var pending = el('li', 'msg msg--agent msg--pending');
    var meta = el('div', 'msg-meta');
    meta.appendChild(el('span', 'msg-from', session.name || t('from_agent')));
    meta.appendChild(el('time', 'msg-time', clock()));
    pending.appendChild(meta);
    var bubble = el('p', 'msg-text');
    richText.appendRichText(bubble, text);
    pending.appendChild(bubble);
    entry.pane.transcript.appendChild(pending);
    entry.pane.log.scrollTop = entry.pane.log.scrollHeight;
    post(id, 'messages', { text: text }).catch(function (err) {
      input.value = text;
      toast(t('actionFailed') + ' (' + (err.status || '–') + ')', 'error');
    }).then(function () { return refreshConversation(id); });
  }

  /* ---------- start ---------- */

  document.addEventListener('DOMContentLoaded', function () {
    applyI18n();
    $('login-form').addEventListener('submit', onLoginSubmit);
    $('logout').addEventListener('click', logOut);
    $('sound-toggle').addEventListener('click', function () {
      state.soundOn = !state.soundOn;
      localStorage.setItem(SOUND_KEY, state.soundOn ? 'on' : 'off');
      unlockAudio();
      renderSoundToggle();
    });
    var langButtons = document.querySelectorAll('[data-set-lang]');
    for (var i = 0; i < langButtons.length; i++) {
      langButtons[i].addEventListener('click', function (e) {
        lang = e.currentTarget.getAttribute('data-set-lang');
        localStorage.setItem(LANG_KEY, lang);
        applyI18n();
      });
    }
    // Browsers only allow sound after a gesture; any click in the console unlocks it.
    document.addEventListener('pointerdown', unlockAudio, { once: true });
    window.addEventListener('online', function () { if (!state.connected && session.token) { clearTimeout(state.reconnectTimer); state.reconnectTimer = null; connect(); } });
    setInterval(tickClocks, 1000);
    window.BoltConsole = { get notifications() { return state.notifications; } };
    if (session.token) startApp(); else $('username').focus();
  });
})();
