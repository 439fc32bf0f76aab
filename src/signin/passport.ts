/**
 * passport-local strategies, one per area. Routes never see how passwords are checked: they call
 * authenticateLogin() (login-middleware.ts), which runs these. Sessions are managed by session-middleware.ts, not by passport's
 * own session support, because one browser session may hold a site user and an admin at once.
 */
import passport from 'passport';
import { Strategy as LocalStrategy } from 'passport-local';
import { verifyCredentials } from './authentication';
import { AuthenticationError } from '../shared/errors';
import type { Area } from '../shared/area';

function strategyFor(area: Area) {
  return new LocalStrategy(
    { usernameField: 'username', passwordField: 'password', passReqToCallback: true },
    (req, username, password, done) => {
      // The site router put the site being signed in to in res.locals (membership is checked against it).
      verifyCredentials(username, password, area, area === 'site' ? (req.res?.locals.site ?? null) : null).then(
        (user) => done(null, user),
        (err) => (err instanceof AuthenticationError ? done(null, false, { message: err.message }) : done(err)),
      );
    },
  );
}

passport.use('site-local', strategyFor('site'));
passport.use('admin-local', strategyFor('admin'));

export { passport };
