/** Starts test/helpers/external-idp-server.mjs (a second oidc-provider on loopback) and stops it. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { once } from 'node:events';

export interface ExternalIdp {
  issuer: string;
  stop(): Promise<void>;
}
export interface TestClient {
  client_id: string;
  client_secret: string;
  redirect_uris: string[];
}

export async function startExternalIdp(clients: TestClient[]): Promise<ExternalIdp> {
  const child: ChildProcess = spawn(
    process.execPath,
    [path.join(__dirname, 'external-idp-server.mjs'), JSON.stringify({ clients })],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  let out = '';
  const issuer = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /ISSUER (\S+)\n/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`the test provider exited (${code})`)));
  });
  return {
    issuer,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill();
      await once(child, 'exit');
    },
  };
}
