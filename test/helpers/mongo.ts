/**
 * A database for one test file: the embedded engine in memory by default, or, when MONGODB_URI is set,
 * a database of that name on the real server, so the same tests run against MongoDB itself.
 */
import { startEmbeddedMongo } from '../../src/embedded-mongo';

export async function testMongoUri(dbName: string, opts: { ttlMonitorIntervalMs?: number } = {}): Promise<{ uri: string; stop(): Promise<void>; embedded: boolean }> {
  const external = process.env.MONGODB_URI;
  if (external) {
    const url = new URL(external);
    url.pathname = `/${dbName}`;
    return { uri: url.toString(), stop: async () => {}, embedded: false };
  }
  const engine = await startEmbeddedMongo({ port: 0, ttlMonitorIntervalMs: opts.ttlMonitorIntervalMs });
  return { uri: `${engine.uri}${dbName}`, stop: () => engine.stop(), embedded: true };
}
