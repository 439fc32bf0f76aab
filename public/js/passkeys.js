// Passkeys (WebAuthn) through @simplewebauthn/browser (served at /js/vendor/simplewebauthn-browser.js):
// each form asks its data-options URL for options (the CSRF token in a header), runs the ceremony, puts
// the browser's answer in its hidden "response" field and posts as an ordinary form, so the server's
// answer is a page like any other. Without passkey support the passkey forms stay hidden (the password
// still works) and the "add" form says the browser cannot.
(function () {
  'use strict';
  var W = window.SimpleWebAuthnBrowser;
  var supported = Boolean(W && W.browserSupportsWebAuthn());

  function csrfOf(form) {
    return form.querySelector('input[name="_csrf"]').value;
  }

  function say(form, text) {
    var box = form.querySelector('[role="alert"]');
    if (!box) return;
    box.textContent = text;
    box.hidden = !text;
  }

  function options(form) {
    return fetch(form.getAttribute('data-options'), {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrfOf(form), Accept: 'application/json' },
      body: '{}',
    }).then(function (res) {
      if (res.ok) return res.json();
      // A refusal is an HTML page written by the error writer: show its message.
      return res.text().then(function (html) {
        var doc = new window.DOMParser().parseFromString(html, 'text/html');
        var msg = doc.querySelector('#error-summary, [role="alert"]');
        throw new Error(msg ? msg.textContent.trim().split('\n')[0] : String(res.status));
      });
    });
  }

  function post(form, answer) {
    form.querySelector('input[name="response"]').value = JSON.stringify(answer);
    form.submit();
  }

  function failed(form, err) {
    // Cancelled, timed out or aborted (another ceremony started): say so without an alarm.
    if (err && (err.name === 'NotAllowedError' || err.name === 'AbortError' || err.code === 'ERROR_CEREMONY_ABORTED'))
      say(form, form.getAttribute('data-cancelled') || '');
    else say(form, (err && err.message) || form.getAttribute('data-cancelled') || '');
  }

  // Adding a passkey on the account's passkeys page.
  var add = document.getElementById('passkey-add');
  if (add) {
    add.addEventListener('submit', function (event) {
      event.preventDefault();
      if (!supported) {
        say(add, add.getAttribute('data-unsupported'));
        return;
      }
      say(add, '');
      options(add)
        .then(function (optionsJSON) {
          return W.startRegistration({ optionsJSON: optionsJSON });
        })
        .then(function (answer) {
          post(add, answer);
        })
        .catch(function (err) {
          failed(add, err);
        });
    });
  }

  // Signing in (log in page) and the second step: a button that asks for a passkey.
  ['passkey-login', 'passkey-second'].forEach(function (id) {
    var form = document.getElementById(id);
    if (!form || !supported) return;
    form.hidden = false;
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      say(form, '');
      options(form)
        .then(function (optionsJSON) {
          return W.startAuthentication({ optionsJSON: optionsJSON });
        })
        .then(function (answer) {
          post(form, answer);
        })
        .catch(function (err) {
          failed(form, err);
        });
    });
  });

  // Autofill (conditional UI): the browser offers this site's passkeys in the username field's suggestions
  // (autocomplete="username webauthn"); choosing one signs in through the passkey form.
  var login = document.getElementById('passkey-login');
  if (login && supported && document.querySelector('input[autocomplete~="webauthn"]')) {
    W.browserSupportsWebAuthnAutofill()
      .then(function (autofill) {
        if (!autofill) return;
        return options(login)
          .then(function (optionsJSON) {
            return W.startAuthentication({ optionsJSON: optionsJSON, useBrowserAutofill: true });
          })
          .then(function (answer) {
            post(login, answer);
          });
      })
      .catch(function () {
        // Silent: the person asked for nothing yet (the button's own ceremony aborting this one, a portal
        // served on an IP address, where WebAuthn refuses the domain). The button says what went wrong
        // when they use it; an alert here would sit next to the password form's own messages.
      });
  }
})();
