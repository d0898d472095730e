// page_login.js — #/login : user and password → POST /api/v1/login. Answers 401 and 429 (with the
// server's Retry-After) in words; on success keeps the CSRF token and goes where the reader wanted.
import { t } from './i18n.js';
import { h, api, session, num } from './util.js';

export function loginPage(root, params, onLoggedIn) {
  const msg = h('p', { class: 'form-error', role: 'alert', id: 'login-error' });
  const user = h('input', { id: 'login-user', name: 'username', autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false' });
  const pass = h('input', { id: 'login-pass', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const btn = h('button', { type: 'submit', class: 'btn btn-primary btn-block', id: 'login-btn' }, t('login.submit'));
  const form = h(
    'form',
    { class: 'login-form panel', id: 'login-form', novalidate: true },
    h('h1', null, t('login.title')),
    h('p', { class: 'muted' }, t('login.intro')),
    h('div', { class: 'field' }, h('label', { for: 'login-user' }, t('login.user')), user),
    h('div', { class: 'field' }, h('label', { for: 'login-pass' }, t('login.password')), pass),
    msg,
    btn
  );
  let timer = null;
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    msg.textContent = '';
    if (!user.value || !pass.value) {
      msg.textContent = t('login.missing');
      return;
    }
    btn.disabled = true;
    try {
      const r = await api.post('/login', { user: user.value, password: pass.value });
      Object.assign(session, { user: r.user, role: r.role, csrf: r.csrf });
      onLoggedIn(params.get('next'));
    } catch (err) {
      pass.value = '';
      if (err.status === 401) msg.textContent = t('login.wrong');
      else if (err.status === 429) {
        let left = err.retryAfter || 30;
        const show = () => (msg.textContent = t('login.throttled', { n: num(left, 0) }));
        show();
        clearInterval(timer);
        timer = setInterval(() => {
          left -= 1;
          if (left <= 0) {
            clearInterval(timer);
            msg.textContent = '';
          } else show();
        }, 1000);
      } else msg.textContent = t('err.action') + ' ' + err.message;
      pass.focus();
    } finally {
      btn.disabled = false;
    }
  });
  root.append(h('div', { class: 'login-wrap' }, form));
  user.focus();
  return { destroy: () => clearInterval(timer) };
}
