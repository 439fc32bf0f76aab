// Small progressive enhancements; every page works without JavaScript (the CSP forbids inline scripts).
(function () {
  'use strict';
  // Registration: report the browser's time zone so the new user gets it (GMT when unknown).
  document.querySelectorAll('input[name="timeZone"]').forEach(function (input) {
    try {
      var tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
      if (tz && !input.value) input.value = tz;
    } catch (e) {
      /* keep the server's default */
    }
  });
  // A running job's page (bulk upload) reloads itself until the job ends; the server drops the
  // attribute once it has, so the reloading stops there.
  var refreshing = document.querySelector('[data-refresh-seconds]');
  if (refreshing) {
    var seconds = Number(refreshing.getAttribute('data-refresh-seconds')) || 3;
    setTimeout(function () {
      window.location.reload();
    }, seconds * 1000);
  }
  // Logo uploads (Sites page): the chosen file is sent as the request body with its own type, and the
  // CSRF token in its header; the page then reloads, or shows the refusal's message.
  document.querySelectorAll('form[data-upload]').forEach(function (form) {
    form.addEventListener('submit', function (event) {
      var file = form.querySelector('input[type="file"]').files[0];
      var error = document.getElementById('logo-error-' + form.getAttribute('data-upload'));
      event.preventDefault();
      if (!file) {
        error.textContent = 'Choose an image first.';
        return;
      }
      fetch(form.action, {
        method: 'POST',
        body: file,
        credentials: 'same-origin',
        headers: {
          'Content-Type': file.type || 'application/octet-stream',
          'X-CSRF-Token': form.querySelector('input[name="_csrf"]').value,
        },
      })
        .then(function (res) {
          if (res.ok) {
            window.location.reload();
            return null;
          }
          return res.text().then(function (html) {
            var doc = new window.DOMParser().parseFromString(html, 'text/html');
            var msg = doc.querySelector('#error-summary, [role="alert"]');
            error.textContent = msg
              ? msg.textContent.trim().split('\n')[0]
              : 'The upload was refused (' + res.status + ').';
          });
        })
        .catch(function () {
          error.textContent = 'The upload failed; check your connection and try again.';
        });
    });
  });
  // Notices that can be closed (the upgrade notice): shown once by the server, hidden here on request.
  document.querySelectorAll('button[data-dismiss]').forEach(function (button) {
    var notice = button.closest('[data-dismissible]');
    if (!notice) return;
    button.hidden = false;
    button.addEventListener('click', function () {
      notice.remove();
    });
  });
  // Buttons that ask before doing something drastic (data-confirm="...").
  document.querySelectorAll('form[data-confirm]').forEach(function (form) {
    form.addEventListener('submit', function (event) {
      if (!window.confirm(form.getAttribute('data-confirm'))) event.preventDefault();
    });
  });
  // Copy buttons for secrets shown once (hidden without JavaScript; the text can be selected by hand).
  document.querySelectorAll('button[data-copy]').forEach(function (button) {
    var source = document.getElementById(button.getAttribute('data-copy'));
    if (!source || !navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener('click', function () {
      navigator.clipboard.writeText(source.textContent.trim()).then(
        function () {
          button.textContent = 'Copied';
        },
        function () {
          button.textContent = 'Copy failed: select the text';
        },
      );
    });
  });
  // Recovery codes: download as a .txt file and print (hidden without JavaScript).
  document.querySelectorAll('button[data-download]').forEach(function (button) {
    var source = document.getElementById(button.getAttribute('data-download'));
    if (!source || !window.Blob || !URL.createObjectURL) return;
    button.hidden = false;
    button.addEventListener('click', function () {
      var url = URL.createObjectURL(new Blob([source.textContent.trim() + '\n'], { type: 'text/plain' }));
      var a = document.createElement('a');
      a.href = url;
      a.download = button.getAttribute('data-filename') || 'download.txt';
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(function () {
        URL.revokeObjectURL(url);
      }, 1000);
    });
  });
  document.querySelectorAll('button[data-print]').forEach(function (button) {
    if (!window.print) return;
    button.hidden = false;
    button.addEventListener('click', function () {
      window.print();
    });
  });
  // Searchable pickers (delegated admin groups): matches appear as you type, each with an Add button that
  // posts the same form the page shows without JavaScript (a GET search form listing the matches).
  document.querySelectorAll('form[data-picker]').forEach(function (form) {
    var input = form.querySelector('input[type="search"]');
    var results = document.getElementById(form.getAttribute('data-picker-results'));
    var csrf = document.querySelector('input[name="_csrf"]');
    if (!input || !results || !csrf || !window.fetch) return;
    var timer = null;
    var asked = 0;
    function hidden(name, value) {
      var el = document.createElement('input');
      el.type = 'hidden';
      el.name = name;
      el.value = value;
      return el;
    }
    function show(candidates, q) {
      results.textContent = '';
      if (!q) return;
      if (candidates.length === 0) {
        var none = document.createElement('p');
        none.className = 'empty';
        none.textContent = 'Nothing matches \u201c' + q + '\u201d.';
        results.appendChild(none);
        return;
      }
      var list = document.createElement('ul');
      list.className = 'candidates';
      candidates.forEach(function (c) {
        var li = document.createElement('li');
        var label = document.createElement('span');
        label.textContent = c.label + (c.detail ? ' (' + c.detail + ')' : '');
        var add = document.createElement('form');
        add.method = 'post';
        add.action = form.getAttribute('data-picker-add');
        add.className = 'inline';
        add.appendChild(hidden('_csrf', csrf.value));
        add.appendChild(hidden('_form', form.getAttribute('data-picker-form')));
        add.appendChild(hidden(form.getAttribute('data-picker-field'), c.id));
        var button = document.createElement('button');
        button.type = 'submit';
        button.textContent = 'Add';
        button.setAttribute('aria-label', 'Add ' + c.label);
        add.appendChild(button);
        li.appendChild(label);
        li.appendChild(add);
        list.appendChild(li);
      });
      results.appendChild(list);
    }
    input.addEventListener('input', function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var q = input.value.trim();
        var mine = ++asked;
        if (!q) return show([], '');
        fetch(form.getAttribute('data-picker') + '&q=' + encodeURIComponent(q), {
          credentials: 'same-origin',
          headers: { Accept: 'application/json' },
        })
          .then(function (r) {
            return r.ok ? r.json() : { candidates: [] };
          })
          .then(
            function (body) {
              if (mine === asked) show(body.candidates || [], q);
            },
            function () {
              /* the Search button still works */
            },
          );
      }, 200);
    });
  });
})();
