/*
 * The demo help-center page: language toggle, article filter and the demo sign-in picker.
 * Runs before widget.js (both deferred, in document order), so <html lang> is already set when
 * the widget picks its interface language. Plan and account-type names come from the service's
 * facts (served with this file, see handoff/assets.py).
 */
(function () {
  'use strict';

  var facts = require('./facts');

  var LANG_KEY = 'helpcenter:lang';
  var USER_KEY = 'helpcenter:demo-user';
  var LABELS = {
    de: { owner: 'Besitzer:in', admin: 'Admin', member: 'Mitglied', licensed: 'lizenziert', unlicensed: 'nicht lizenziert',
      anonymous: 'Nicht angemeldet – Bolt kennt Ihr Konto nicht.', failed: 'Anmeldung fehlgeschlagen.' },
    en: { owner: 'Owner', admin: 'Admin', member: 'Member', licensed: 'licensed', unlicensed: 'unlicensed',
      anonymous: 'Not signed in – Bolt does not know your account.', failed: 'Sign-in failed.' }
  };
  function planName(id) {
    var plan = facts.plans.filter(function (p) { return p.id === id; })[0];
    return plan ? plan.name[lang] : id;
  }
  function typeName(id) {
    var type = facts.account_types.filter(function (a) { return a.id === id; })[0];
    return type ? type.name : id;
  }

  function stored(key) { try { return localStorage.getItem(key); } catch (e) { return null; } }
  function store(key, value) { try { localStorage.setItem(key, value); } catch (e) { /* ignore */ } }

  function initialLang() {
    var fromUrl = new URLSearchParams(location.search).get('lang');
    if (fromUrl === 'de' || fromUrl === 'en') return fromUrl;
    var saved = stored(LANG_KEY);
    if (saved === 'de' || saved === 'en') return saved;
    return (navigator.language || 'de').toLowerCase().indexOf('en') === 0 ? 'en' : 'de';
  }

  var lang = initialLang();
  var users = [];

  function applyLang(next, persist) {
    lang = next;
    document.documentElement.lang = lang;
    var nodes = document.querySelectorAll('[data-lang]');
    for (var i = 0; i < nodes.length; i++) nodes[i].hidden = nodes[i].getAttribute('data-lang') !== lang;
    var buttons = document.querySelectorAll('[data-set-lang]');
    for (var j = 0; j < buttons.length; j++) {
      buttons[j].setAttribute('aria-pressed', String(buttons[j].getAttribute('data-set-lang') === lang));
    }
    var search = document.getElementById('search-input');
    if (search) search.placeholder = search.getAttribute('data-placeholder-' + lang);
    var options = document.querySelectorAll('#demo-user option[data-label-' + lang + ']');
    for (var k = 0; k < options.length; k++) options[k].textContent = options[k].getAttribute('data-label-' + lang);
    document.title = lang === 'en' ? 'Help Center – Support' : 'Help Center – Support';
    describeUser();
    if (persist) {
      store(LANG_KEY, lang);
      var url = new URL(location.href);
      url.searchParams.set('lang', lang);
      history.replaceState(null, '', url);
    }
    if (window.BoltWidget) window.BoltWidget.setLocale(lang);
    focusableScrollRegions();
  }

  /* ---------- article filter ---------- */

  function filterArticles(query) {
    var q = query.trim().toLowerCase();
    var any = false;
    var items = document.querySelectorAll('.card, .article');
    for (var i = 0; i < items.length; i++) {
      var hay = (items[i].getAttribute('data-search') + ' ' + items[i].textContent).toLowerCase();
      var match = !q || hay.indexOf(q) !== -1;
      items[i].hidden = !match;
      if (match) any = true;
    }
    document.getElementById('no-results').hidden = any;
  }

  /* ---------- tables wider than the screen ---------- */

  // A table that scrolls inside its box must be reachable by keyboard (WCAG 2.1.1); one that
  // fits needs no extra tab stop.
  function focusableScrollRegions() {
    var regions = document.querySelectorAll('.table-wrap');
    for (var i = 0; i < regions.length; i++) {
      if (regions[i].scrollWidth > regions[i].clientWidth + 1) regions[i].tabIndex = 0;
      else regions[i].removeAttribute('tabindex');
    }
  }

  /* ---------- demo sign-in ---------- */

  function describeUser() {
    var who = document.getElementById('demo-who');
    var select = document.getElementById('demo-user');
    if (!who || !select) return;
    var user = users.filter(function (u) { return u.id === select.value; })[0];
    var L = LABELS[lang];
    if (!user) { who.textContent = L.anonymous; return; }
    var parts = [accountName(user), typeName(user.type), planName(user.plan),
      L[user.role] || user.role, user.licensed ? L.licensed : L.unlicensed];
    who.textContent = parts.filter(Boolean).join(' · ');
  }

  function accountName(u) {
    if (u.account_name) return u.account_name;
    if (u.account && typeof u.account === 'object') return u.account.name;
    return u.account || '';
  }

  function signIn(userId) {
    store(USER_KEY, userId || '');
    describeUser();
    if (!userId) {
      if (window.BoltWidget) window.BoltWidget.setIdentity(null);
      return Promise.resolve();
    }
    return fetch('/demo/token', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ user_id: userId })
    }).then(function (r) {
      if (!r.ok) throw new Error('HTTP ' + r.status);
      return r.json();
    }).then(function (body) {
      if (window.BoltWidget) window.BoltWidget.setIdentity(body.token);
    }).catch(function () {
      document.getElementById('demo-who').textContent = LABELS[lang].failed;
    });
  }

  function loadDemoUsers() {
    var bar = document.getElementById('demo-bar');
    var select = document.getElementById('demo-user');
    fetch('/demo/users', { headers: { Accept: 'application/json' } }).then(function (r) {
      if (!r.ok) throw new Error('no demo mode'); // production: the picker stays hidden
      return r.json();
    }).then(function (body) {
      users = Array.isArray(body) ? body : (body.users || []);
      users.forEach(function (u) {
        var option = document.createElement('option');
        option.value = u.id;
        option.textContent = u.name + ' – ' + accountName(u);
        select.appendChild(option);
      });
      bar.hidden = false;
      document.body.classList.add('has-demo-bar');
      var saved = stored(USER_KEY);
      if (saved && users.some(function (u) { return u.id === saved; })) {
        select.value = saved;
        signIn(saved);
      } else {
        describeUser();
      }
      select.addEventListener('change', function () { signIn(select.value); });
    }).catch(function () { bar.hidden = true; });
  }

  applyLang(lang, false);

  document.addEventListener('DOMContentLoaded', function () {
    applyLang(lang, false); // catches any node parsed after this script ran, and tells the widget
    var buttons = document.querySelectorAll('[data-set-lang]');
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].addEventListener('click', function (e) { applyLang(e.currentTarget.getAttribute('data-set-lang'), true); });
    }
    var search = document.getElementById('search');
    var input = document.getElementById('search-input');
    search.addEventListener('submit', function (e) { e.preventDefault(); filterArticles(input.value); });
    input.addEventListener('input', function () { filterArticles(input.value); });
    loadDemoUsers();
    focusableScrollRegions();
    window.addEventListener('resize', focusableScrollRegions);
  });
})();
