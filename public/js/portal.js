// Small progressive enhancements; every page works without JavaScript (the CSP forbids inline scripts).
(function () {
  'use strict';
  // Registration: report the browser's time zone so the new user gets it (GMT when unknown).
  document.querySelectorAll('input[name="timeZone"]').forEach(function (input) {
    try {
      var tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
      if (tz && !input.value) input.value = tz;
    } catch (e) { /* keep the server's default */ }
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
      navigator.clipboard.writeText(source.textContent.trim()).then(function () { button.textContent = 'Copied'; }, function () { button.textContent = 'Copy failed: select the text'; });
    });
  });
})();
