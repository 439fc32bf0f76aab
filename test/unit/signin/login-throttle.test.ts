/**
 * The sign-in throttle's round trips (issue 21 item 6): a successful sign-in resets the username+IP
 * counter so that the next attempt opens a fresh window, as rate-limiter-flexible's delete() would,
 * without the next attempt's upsert colliding with the old counter (E11000, then a second findAndModify).
 */
import mongoose from 'mongoose';
import type { CommandFailedEvent, CommandStartedEvent } from 'mongodb';
import { createLoginThrottle } from '../../../src/signin/throttle';
import { testMongoUri } from '../../helpers/mongo';

const LIMITS = { maxFailsPerUserIp: 5, maxFailsPerIp: 50, lockSeconds: 900 };
let connection: mongoose.Connection;
let stop: () => Promise<void>;
const started: CommandStartedEvent[] = [];
const failed: CommandFailedEvent[] = [];

beforeAll(async () => {
  const m = await testMongoUri(`test_login_throttle_${process.pid}`);
  stop = m.stop;
  connection = await mongoose.createConnection(m.uri, { monitorCommands: true }).asPromise();
  await connection.db!.dropDatabase();
  const client = connection.getClient();
  client.on('commandStarted', (e) => started.push(e));
  client.on('commandFailed', (e) => failed.push(e));
});
afterAll(async () => {
  await connection.db!.dropDatabase();
  await connection.close();
  await stop();
});

const counters = () => connection.db!.collection('login_throttle');

it('after a success, the next attempt costs one findAndModify per counter and no failed command, in a fresh window', async () => {
  const throttle = createLoginThrottle(connection, LIMITS);
  await (await throttle.begin('ada@example.com', '192.0.2.1')).succeeded();
  started.length = 0;
  failed.length = 0;
  const before = Date.now();
  await throttle.begin('ada@example.com', '192.0.2.1');
  expect(failed.map((e) => `${e.commandName}: ${e.failure.message}`)).toEqual([]);
  expect(started.map((e) => e.commandName)).toEqual(['findAndModify', 'findAndModify']);
  const counter = await counters().findOne({ key: 'login:user-ip:ada@example.com|192.0.2.1' });
  expect(counter).toMatchObject({ points: 1 });
  // A fresh window: it ends lockSeconds after this attempt, not after the first one.
  expect((counter!.expire as Date).getTime()).toBeGreaterThanOrEqual(before + LIMITS.lockSeconds * 1000 - 1000);
});

it('still locks after maxFailsPerUserIp consecutive failures that follow a success', async () => {
  const throttle = createLoginThrottle(connection, LIMITS);
  await (await throttle.begin('bob@example.com', '192.0.2.2')).succeeded();
  for (let i = 0; i < LIMITS.maxFailsPerUserIp; i++) await throttle.begin('bob@example.com', '192.0.2.2');
  await expect(throttle.begin('bob@example.com', '192.0.2.2')).rejects.toMatchObject({ status: 429 });
});
