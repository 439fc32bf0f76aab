/** Styles, scripts and icons are served from public/ under their own paths; nothing else touches the disk. */
import request from 'supertest';
import { startTestApp, type TestApp } from '../helpers/app';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp('static-assets');
});
afterAll(() => t.stop());

it('serves the stylesheet, the script and both icons, and 404s a file outside those paths', async () => {
  const css = await request(t.app).get('/css/portal.css');
  expect(css.status).toBe(200);
  expect(css.headers['content-type']).toMatch(/text\/css/);
  expect((await request(t.app).get('/js/portal.js')).headers['content-type']).toMatch(/javascript/);
  expect((await request(t.app).get('/favicon.svg')).headers['content-type']).toMatch(/image\/svg\+xml/);
  expect((await request(t.app).get('/favicon.ico')).status).toBe(200);
  // public/ holds only these; a guessed path is the portal's own 404 page.
  const other = await request(t.app).get('/portal.css');
  expect(other.status).toBe(404);
  expect(other.text).toContain('There is nothing at this address.');
  expect((await request(t.app).get('/css/../package.json')).status).toBe(404);
});
