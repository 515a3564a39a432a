/*
 * The supervisors' page in the agent console: today's numbers (`GET /api/stats/today`) and the
 * latest agent actions (`GET /api/audit`). Shown only to agents with the `supervisor` role; the
 * service refuses everyone else (403) whatever the page does.
 *
 *   formatWait(95, 'de') -> '1:35 Min.'
 *   renderStats(container, stats, strings, lang)
 *   renderAudit(tbody, rows, strings, clock)
 */
'use strict';

var dom = require('./dom');
var make = dom.make;

var STRINGS = {
  de: {
    open: 'Übersicht', back: 'Zurück zur Warteschlange', title: 'Übersicht für Supervisor', today: 'Heute (seit 0:00 UTC)',
    refresh: 'Aktualisieren', volume: 'Gespräche', waiting: 'Wartend', slaBreaches: 'SLA-Verletzungen',
    averageWait: 'Ø Wartezeit', csat: 'CSAT', botOnly: 'Nur von Bolt gelöst',
    ratings: function (n) { return n === 1 ? '1 Bewertung' : n + ' Bewertungen'; },
    ofConversations: function (n, total) { return n + ' von ' + total + ' Gesprächen'; },
    audit: 'Letzte Aktionen', time: 'Zeit', agent: 'Agent', action: 'Aktion', about: 'Gespräch / Benutzer',
    failed: 'Die Übersicht konnte nicht geladen werden.',
    privacy: 'Daten eines Benutzers', userId: 'Benutzer-ID', exportUser: 'Exportieren', deleteUser: 'Löschen',
    confirmDelete: 'Wirklich endgültig löschen', cancel: 'Abbrechen',
    privacyHint: 'Export und Löschen umfassen Gesprächsverläufe, Notizen, Bewertungen, Tickets und die Daten des Bots.',
    confirmHint: function (id) { return 'Alle Daten von ' + id + ' werden endgültig gelöscht.'; },
    noData: function (id) { return 'Zu ' + id + ' sind keine Daten gespeichert.'; },
    exported: function (id) { return 'Die Daten von ' + id + ' wurden heruntergeladen.'; },
    deleted: function (id, d) {
      return 'Gelöscht (' + id + '): ' + d.conversations + ' Gespräch(e), ' + d.tickets + ' Ticket(s), ' +
        d.tracker_events + ' Ereignis(se) des Bots.';
    },
    actionFailed: 'Die Aktion ist fehlgeschlagen.',
    actions: { login: 'Anmeldung', claim: 'Übernommen', message: 'Nachricht', transfer: 'Übergeben', resolve: 'Gelöst',
      release: 'Zurück an Bolt', 'export': 'Datenexport', 'delete': 'Daten gelöscht', purge: 'Aufbewahrungsfrist' }
  },
  en: {
    open: 'Overview', back: 'Back to the queue', title: 'Supervisor overview', today: 'Today (since 0:00 UTC)',
    refresh: 'Refresh', volume: 'Conversations', waiting: 'Waiting', slaBreaches: 'SLA breaches',
    averageWait: 'Average wait', csat: 'CSAT', botOnly: 'Solved by Bolt alone',
    ratings: function (n) { return n === 1 ? '1 rating' : n + ' ratings'; },
    ofConversations: function (n, total) { return n + ' of ' + total + ' conversations'; },
    audit: 'Latest actions', time: 'Time', agent: 'Agent', action: 'Action', about: 'Conversation / user',
    failed: 'The overview could not be loaded.',
    privacy: 'A user\'s data', userId: 'User ID', exportUser: 'Export', deleteUser: 'Delete',
    confirmDelete: 'Delete for good', cancel: 'Cancel',
    privacyHint: 'Export and deletion cover transcripts, notes, ratings, tickets and the bot\'s data.',
    confirmHint: function (id) { return 'All data of ' + id + ' will be deleted for good.'; },
    noData: function (id) { return 'No data is stored for ' + id + '.'; },
    exported: function (id) { return 'The data of ' + id + ' was downloaded.'; },
    deleted: function (id, d) {
      return 'Deleted (' + id + '): ' + d.conversations + ' conversation(s), ' + d.tickets + ' ticket(s), ' +
        d.tracker_events + ' bot event(s).';
    },
    actionFailed: 'The action failed.',
    actions: { login: 'Sign-in', claim: 'Claimed', message: 'Message', transfer: 'Transferred', resolve: 'Resolved',
      release: 'Handed back to Bolt', 'export': 'Data export', 'delete': 'Data deleted', purge: 'Retention purge' }
  }
};

function formatWait(seconds, lang) {
  if (seconds == null) return '–';
  var s = Math.round(seconds);
  var m = Math.floor(s / 60), rest = s % 60;
  return m + ':' + (rest < 10 ? '0' : '') + rest + (lang === 'en' ? ' min' : ' Min.');
}

function percent(share, lang) {
  if (share == null) return '–';
  var value = Math.round(share * 1000) / 10;
  return (lang === 'en' ? String(value) : String(value).replace('.', ',')) + ' %';
}

function csatText(csat, lang) {
  if (!csat || !csat.count) return '–';
  var avg = lang === 'en' ? csat.average.toFixed(1) : csat.average.toFixed(1).replace('.', ',');
  return avg + ' / 5';
}

/** The day's tiles: one <dl> with a term and a value per number. */
function renderStats(container, stats, strings, lang) {
  var doc = container.ownerDocument;
  while (container.firstChild) container.removeChild(container.firstChild);
  var tiles = [
    ['volume', String(stats.volume)],
    ['waiting', String(stats.waiting)],
    ['slaBreaches', String(stats.sla_breaches)],
    ['averageWait', formatWait(stats.average_wait_seconds, lang)],
    ['csat', csatText(stats.csat, lang), stats.csat && stats.csat.count ? strings.ratings(stats.csat.count) : null],
    ['botOnly', percent(stats.bot_only_share, lang), strings.ofConversations(stats.bot_only, stats.volume)],
  ];
  tiles.forEach(function (tile) {
    var box = make(doc, 'div', 'stat');
    box.setAttribute('data-stat', tile[0]);
    box.appendChild(make(doc, 'dt', 'stat-label', strings[tile[0]]));
    var dd = make(doc, 'dd', 'stat-value', tile[1]);
    box.appendChild(dd);
    if (tile[2]) box.appendChild(make(doc, 'dd', 'stat-note', tile[2]));
    container.appendChild(box);
  });
}

function renderAudit(tbody, rows, strings, clock) {
  var doc = tbody.ownerDocument;
  while (tbody.firstChild) tbody.removeChild(tbody.firstChild);
  rows.forEach(function (row) {
    var tr = make(doc, 'tr');
    var time = make(doc, 'td', null);
    var t = make(doc, 'time', null, clock(row.at));
    if (row.at) t.setAttribute('datetime', row.at);
    time.appendChild(t);
    tr.appendChild(time);
    tr.appendChild(make(doc, 'td', null, row.agent));
    tr.appendChild(make(doc, 'td', null, (strings.actions && strings.actions[row.action]) || row.action));
    var about = row.conversation_id || (row.detail && row.detail.user_id) || '';
    tr.appendChild(make(doc, 'td', 'audit-about', about));
    tbody.appendChild(tr);
  });
}

/**
 * The page itself: a topbar button and a section beside the console's layout, toggled.
 * opts: { button, view, layout, api(method, path) -> Promise, lang() -> 'de'|'en', clock(at) }
 */
function mountSupervisor(opts) {
  var doc = opts.view.ownerDocument;
  var timer = null;
  function s() { return STRINGS[opts.lang() === 'en' ? 'en' : 'de']; }

  function build() {
    var strings = s();
    while (opts.view.firstChild) opts.view.removeChild(opts.view.firstChild);
    var head = make(doc, 'div', 'sup-head');
    var title = make(doc, 'h2', 'sup-title', strings.title);
    title.id = 'supervisor-title';
    title.tabIndex = -1;
    head.appendChild(title);
    var refresh = dom.button(doc, 'btn btn-secondary', strings.refresh);
    refresh.addEventListener('click', load);
    var back = dom.button(doc, 'btn btn-secondary', strings.back);
    back.addEventListener('click', function () { hide(); opts.button.focus(); });
    head.appendChild(refresh);
    head.appendChild(back);
    opts.view.appendChild(head);
    opts.view.setAttribute('aria-labelledby', 'supervisor-title');
    opts.view.appendChild(make(doc, 'h3', 'sup-sub', strings.today));
    var tiles = make(doc, 'dl', 'sup-stats');
    tiles.id = 'supervisor-stats';
    opts.view.appendChild(tiles);
    var status = make(doc, 'p', 'sup-status');
    status.setAttribute('role', 'status');
    opts.view.appendChild(status);
    opts.view.appendChild(make(doc, 'h3', 'sup-sub', strings.audit));
    var table = make(doc, 'table', 'sup-audit');
    var thead = make(doc, 'thead');
    var tr = make(doc, 'tr');
    [strings.time, strings.agent, strings.action, strings.about].forEach(function (label) {
      var th = make(doc, 'th', null, label);
      th.scope = 'col';
      tr.appendChild(th);
    });
    thead.appendChild(tr);
    table.appendChild(thead);
    var tbody = make(doc, 'tbody');
    table.appendChild(tbody);
    opts.view.appendChild(table);
    opts.view.appendChild(buildPrivacy(strings));
    return { title: title, tiles: tiles, status: status, tbody: tbody };
  }

  /** Export or delete one user's data: delete asks once more before it acts. */
  function buildPrivacy(strings) {
    var form = make(doc, 'form', 'sup-privacy');
    form.appendChild(make(doc, 'h3', 'sup-sub', strings.privacy));
    form.appendChild(make(doc, 'p', 'sup-hint', strings.privacyHint));
    var row = make(doc, 'div', 'sup-privacy-row');
    var label = make(doc, 'label', null, strings.userId);
    label.htmlFor = 'privacy-user';
    var input = make(doc, 'input', 'sup-input');
    input.id = 'privacy-user';
    input.name = 'user_id';
    input.autocomplete = 'off';
    input.maxLength = 128;
    input.required = true;
    var exportBtn = dom.button(doc, 'btn btn-secondary', strings.exportUser, 'submit');
    exportBtn.setAttribute('data-privacy', 'export');
    var deleteBtn = dom.button(doc, 'btn btn-danger', strings.deleteUser);
    deleteBtn.setAttribute('data-privacy', 'delete');
    var confirm = make(doc, 'div', 'sup-confirm');
    confirm.hidden = true;
    var confirmText = make(doc, 'p', null);
    var confirmBtn = dom.button(doc, 'btn btn-danger', strings.confirmDelete);
    confirmBtn.setAttribute('data-privacy', 'confirm');
    var cancelBtn = dom.button(doc, 'btn btn-secondary', strings.cancel);
    confirm.appendChild(confirmText);
    confirm.appendChild(confirmBtn);
    confirm.appendChild(cancelBtn);
    var result = make(doc, 'p', 'sup-result');
    result.setAttribute('role', 'status');
    row.appendChild(label);
    row.appendChild(input);
    row.appendChild(exportBtn);
    row.appendChild(deleteBtn);
    form.appendChild(row);
    form.appendChild(confirm);
    form.appendChild(result);

    function userId() { return input.value.trim(); }
    function path(id, tail) { return '/api/users/' + encodeURIComponent(id) + tail; }
    function failed(id, err) { result.textContent = err && err.status === 404 ? strings.noData(id) : strings.actionFailed; }
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      var id = userId();
      if (!id) { input.focus(); return; }
      opts.download(path(id, '/export'), 'user-' + id + '.json').then(function () {
        result.textContent = strings.exported(id);
        load();
      }, function (err) { failed(id, err); });
    });
    deleteBtn.addEventListener('click', function () {
      var id = userId();
      if (!id) { input.focus(); return; }
      confirmText.textContent = strings.confirmHint(id);
      confirm.hidden = false;
      confirmBtn.focus();
    });
    cancelBtn.addEventListener('click', function () { confirm.hidden = true; deleteBtn.focus(); });
    confirmBtn.addEventListener('click', function () {
      var id = userId();
      confirm.hidden = true;
      opts.api('DELETE', path(id, '/data')).then(function (body) {
        result.textContent = strings.deleted(id, body.deleted || {});
        input.value = '';
        load();
      }, function (err) { failed(id, err); });
      input.focus();
    });
    return form;
  }

  var parts = null;
  function load() {
    var strings = s();
    return Promise.all([opts.api('GET', '/api/stats/today'), opts.api('GET', '/api/audit?limit=20')]).then(function (got) {
      renderStats(parts.tiles, got[0], strings, opts.lang());
      renderAudit(parts.tbody, Array.isArray(got[1]) ? got[1] : [], strings, opts.clock);
      parts.status.textContent = '';
    }, function () { parts.status.textContent = strings.failed; });
  }
  function show() {
    parts = build();
    opts.layout.hidden = true;
    opts.view.hidden = false;
    opts.button.setAttribute('aria-pressed', 'true');
    parts.title.focus();
    clearInterval(timer);
    timer = setInterval(load, 30000);
    return load();
  }
  function hide() {
    clearInterval(timer);
    timer = null;
    opts.view.hidden = true;
    opts.layout.hidden = false;
    opts.button.setAttribute('aria-pressed', 'false');
  }
  opts.button.textContent = s().open;
  opts.button.setAttribute('aria-pressed', 'false');
  opts.button.addEventListener('click', function () { if (opts.view.hidden) show(); else hide(); });
  return { show: show, hide: hide, shown: function () { return !opts.view.hidden; },
    relabel: function () { opts.button.textContent = s().open; } };
}

module.exports = { mountSupervisor: mountSupervisor, STRINGS: STRINGS, formatWait: formatWait, percent: percent, renderStats: renderStats, renderAudit: renderAudit };
