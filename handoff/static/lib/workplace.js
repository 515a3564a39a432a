/*
 * The agent console's workplace (CONTRACT.md, operations surface): the presence switch
 * (PUT /api/agents/me/status), the team with presence and load (GET /api/agents), "my
 * conversations" (GET /api/conversations?mine=true: from the server, so the list survives a
 * reload and a new sign-in), `assigned` pushes (opened in a tab), first-response alerts, and
 * the customer's typing indicator in a conversation.
 *
 *   var workplace = createWorkplace({ api, el, clear, toast, beep, openTab, lang });
 *   workplace.start();  workplace.onFrame(frame);  workplace.attachPane(id, pane);  workplace.stop();
 */
'use strict';

var typing = require('./typing');

var TEAM_REFRESH_MS = 15000;
var TYPING_INTERVAL_MS = 1000;

var STRINGS = {
  de: {
    presence: 'Status', online: 'Online', away: 'Abwesend', offline: 'Offline',
    mine: 'Meine Gespräche', mineEmpty: 'Sie haben gerade kein offenes Gespräch.', team: 'Team',
    load: function (n, max) { return n + ' von ' + max; },
    assigned: 'Ihnen zugewiesen', alert: function (p, m) { return p + ': erste Antwort fällig in ' + Math.max(0, Math.round(m)) + ' Min., niemand ist dabei'; },
    typing: 'Kunde schreibt …', statusFailed: 'Status konnte nicht gesetzt werden.'
  },
  en: {
    presence: 'Status', online: 'Online', away: 'Away', offline: 'Offline',
    mine: 'My conversations', mineEmpty: 'You have no open conversation right now.', team: 'Team',
    load: function (n, max) { return n + ' of ' + max; },
    assigned: 'Assigned to you', alert: function (p, m) { return p + ': first response due in ' + Math.max(0, Math.round(m)) + ' min, nobody on it'; },
    typing: 'Customer is typing …', statusFailed: 'Could not set the status.'
  }
};

function strings(lang) { return STRINGS[lang] || STRINGS.de; }

/** The label of a mine entry: the user's or account's name, else the id's start. */
function entryLabel(entry) {
  var account = (entry && entry.account) || {};
  return account.user_name || account.name || String((entry && entry.id) || '').slice(0, 8);
}

function createWorkplace(deps) {
  var doc = deps.document || document;
  var el = deps.el, clear = deps.clear;
  var s = function () { return strings(deps.lang()); };
  var state = { me: null, mine: [], team: [], timer: null, typingTimers: {} };

  function $(id) { return doc.getElementById(id); }

  function renderSwitch() {
    var select = $('presence-select');
    if (!select) return;
    var status = state.me ? state.me.status : 'away';
    select.options[0].textContent = s().online;
    select.options[1].textContent = s().away;
    select.value = status === 'online' ? 'online' : 'away';
    select.setAttribute('data-status', select.value);
  }

  function renderMine() {
    var list = $('mine');
    clear(list);
    $('mine-count').textContent = String(state.mine.length);
    $('mine-empty').hidden = state.mine.length > 0;
    state.mine.forEach(function (entry) {
      var li = el('li', 'mine-item');
      li.setAttribute('data-conversation-id', entry.id);
      var btn = el('button', 'mine-open');
      btn.type = 'button';
      btn.appendChild(el('span', 'prio prio-' + String(entry.priority || '-').toLowerCase(), String(entry.priority || '–')));
      btn.appendChild(el('span', 'mine-name', entryLabel(entry)));
      btn.addEventListener('click', function () { deps.openTab(entry.id, true); });
      li.appendChild(btn);
      list.appendChild(li);
    });
  }

  function renderTeam() {
    var list = $('team');
    clear(list);
    state.team.forEach(function (agent) {
      var li = el('li', 'team-item');
      li.setAttribute('data-agent', agent.username);
      li.setAttribute('data-status', agent.status);
      var dot = el('span', 'presence-dot presence-' + agent.status);
      dot.setAttribute('aria-hidden', 'true');
      li.appendChild(dot);
      li.appendChild(el('span', 'team-name', agent.name));
      li.appendChild(el('span', 'team-status', s()[agent.status] || agent.status));
      li.appendChild(el('span', 'team-load', s().load(agent.open_conversations, agent.max_concurrent)));
      list.appendChild(li);
    });
  }

  function refreshMine() {
    return deps.api('GET', '/api/conversations?mine=true').then(function (body) {
      state.mine = Array.isArray(body) ? body : [];
      renderMine();
    }).catch(function () { /* the next push or reconnect refreshes again */ });
  }

  function refreshTeam() {
    return deps.api('GET', '/api/agents').then(function (body) {
      state.team = Array.isArray(body) ? body : [];
      var me = deps.username();
      state.me = state.team.filter(function (a) { return a.username === me; })[0] || state.me;
      renderTeam();
      renderSwitch();
    }).catch(function () { /* shown again on the next refresh */ });
  }

  function refresh() { return Promise.all([refreshMine(), refreshTeam()]); }

  function setStatus(status) {
    return deps.api('PUT', '/api/agents/me/status', { status: status }).then(function (body) {
      state.me = body;
      renderSwitch();
      return refresh();
    }).catch(function () { deps.toast(s().statusFailed, 'error'); renderSwitch(); });
  }

  function showTyping(id) {
    var note = doc.getElementById('typing-' + id);
    if (!note) return;
    note.textContent = s().typing;
    note.hidden = false;
    clearTimeout(state.typingTimers[id]);
    state.typingTimers[id] = setTimeout(function () { note.hidden = true; note.textContent = ''; },
      typing.visibleMs(TYPING_INTERVAL_MS));
  }

  function onFrame(frame) {
    switch (frame.type) {
      case 'assigned':
        deps.beep();
        deps.toast(s().assigned + ': ' + entryLabel(frame.conversation || { id: frame.conversation_id }), 'alert');
        deps.openTab(frame.conversation_id, false);
        refresh();
        return;
      case 'deadline_alert':
        deps.beep();
        deps.toast(s().alert(frame.priority, frame.minutes_left), 'error');
        return;
      case 'typing':
        showTyping(frame.conversation_id);
        return;
      case 'presence':
      case 'claimed': case 'resolved': case 'released': case 'transferred': case 'reassigned':
        refresh();
        return;
      default:
        return;
    }
  }

  /** A conversation pane: the customer's typing note above the reply, the agent's typing sent. */
  function attachPane(id, pane) {
    var note = el('p', 'typing-note');
    note.id = 'typing-' + id;
    note.setAttribute('role', 'status');
    note.hidden = true;
    pane.form.parentNode.insertBefore(note, pane.hint);
    var notify = typing.throttle(function () {
      deps.api('POST', '/api/conversations/' + encodeURIComponent(id) + '/typing').catch(function () { /* not the owner yet */ });
    }, TYPING_INTERVAL_MS);
    pane.input.addEventListener('input', function () { if (pane.input.value) notify(); });
  }

  function start() {
    var select = $('presence-select');
    if (select && !select.getAttribute('data-bound')) {
      select.setAttribute('data-bound', '1');
      select.addEventListener('change', function () { setStatus(select.value); });
    }
    $('mine-title-text').textContent = s().mine;
    $('mine-empty').textContent = s().mineEmpty;
    $('team-title').textContent = s().team;
    $('presence-label').textContent = s().presence;
    clearInterval(state.timer);
    state.timer = setInterval(refreshTeam, TEAM_REFRESH_MS);
    return refresh();
  }

  function stop() {
    clearInterval(state.timer);
    state.mine = []; state.team = []; state.me = null;
    if ($('mine')) { renderMine(); renderTeam(); }
  }

  return { start: start, stop: stop, refresh: refresh, onFrame: onFrame, attachPane: attachPane,
    setStatus: setStatus, get mine() { return state.mine; } };
}

module.exports = { createWorkplace: createWorkplace, entryLabel: entryLabel, strings: strings };
