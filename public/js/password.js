// Password fields: a show/hide button on each, and live guidance under a new password. Only help: the
// server applies the policy (length, zxcvbn-ts strength, the person's own name or email) when the form is
// sent, and every form works without this script (the CSP forbids inline scripts, so it lives here).
(function () {
  'use strict';
  var MIN = 12;
  // The words come from the script tag (views/partials/foot.ejs, in the page's language); English without them.
  var words = (document.currentScript && document.currentScript.dataset) || {};
  var lang = document.documentElement.lang || 'en';
  var numbers = window.Intl ? new Intl.NumberFormat(lang) : { format: String };
  var plurals =
    window.Intl && Intl.PluralRules
      ? new Intl.PluralRules(lang)
      : {
          select: function (n) {
            return n === 1 ? 'one' : 'other';
          },
        };
  function say(name, english, n) {
    var text = words[name] || english;
    return n === undefined ? text : text.replace('{{n}}', numbers.format(n));
  }
  var COMMON = /password|passw0rd|qwerty|azerty|123456|abcdef|letmein|welcome|iloveyou|admin|monkey|dragon/i;

  function guidance(value, form) {
    if (!value) return say('empty', 'At least {{n}} characters. A few unrelated words work well.', MIN);
    var left = MIN - value.length;
    if (left > 0)
      return plurals.select(left) === 'one'
        ? say('moreOne', 'Add {{n}} more character.', left)
        : say('moreOther', 'Add {{n}} more characters.', left);
    if (COMMON.test(value) || /^(.)\1+$/.test(value) || /^(?:0123|1234|2345|3456|4567|5678|6789|abcd)/i.test(value))
      return say('common', 'Too easy to guess: avoid common words and sequences.');
    var lower = value.toLowerCase();
    var mine = ['firstName', 'lastName', 'email']
      .map(function (name) {
        var input = form.querySelector('input[name="' + name + '"]');
        return input ? String(input.value).toLowerCase().split('@')[0] : '';
      })
      .filter(function (part) {
        return part.length >= 3 && lower.indexOf(part) !== -1;
      });
    if (mine.length) return say('own', 'Avoid your own name or email in the password.');
    return say('good', 'Looks good. It is checked against common passwords when you submit.');
  }

  document.querySelectorAll('input[type="password"]').forEach(function (input, i) {
    var button = document.createElement('button');
    button.type = 'button';
    button.className = 'link-button show-password';
    button.textContent = say('show', 'Show password');
    button.setAttribute('aria-pressed', 'false');
    button.setAttribute('aria-controls', input.id);
    button.addEventListener('click', function () {
      var shown = input.type === 'text';
      input.type = shown ? 'password' : 'text';
      button.textContent = shown ? say('show', 'Show password') : say('hide', 'Hide password');
      button.setAttribute('aria-pressed', shown ? 'false' : 'true');
    });
    input.insertAdjacentElement('afterend', button);

    var isNew = input.getAttribute('autocomplete') === 'new-password' && !/Confirm$/.test(input.name);
    if (!isNew || !input.form) return;
    var live = document.createElement('p');
    live.className = 'hint password-guidance';
    live.id = (input.id || 'password-' + i) + '-guidance';
    live.setAttribute('aria-live', 'polite');
    live.textContent = guidance(input.value, input.form);
    button.insertAdjacentElement('afterend', live);
    var described = input.getAttribute('aria-describedby');
    input.setAttribute('aria-describedby', (described ? described + ' ' : '') + live.id);
    input.addEventListener('input', function () {
      live.textContent = guidance(input.value, input.form);
    });
  });
})();
