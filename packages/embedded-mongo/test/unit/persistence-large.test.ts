/**
 * A restart after a large job: a snapshot of a million records and a journal of a million more are
 * loaded record by record (no spread of a whole file into push(...), which overflowed the stack at about
 * 130k records), and every document comes back with its latest version and its unique index.
 * The work runs in a child Node process (large-restart-child.ts), as the engine runs in production.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';

const RECORDS = 1_000_000;

it('restarts from a snapshot of a million records and a journal of a million records', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'embedded-mongo-large-'));
  try {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(__dirname, 'large-restart-child.ts'), dir, String(RECORDS)],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect({
      code,
      err: err
        .split('\n')
        .filter((l) => !/^npm warn|^\s*$/.test(l))
        .join('\n'),
    }).toEqual({ code: 0, err: '' });
    const found = JSON.parse(out.trim().split('\n').pop()!);
    expect(found.files['snapshot.bson']).toBeGreaterThan(RECORDS * 20);
    expect(found.files['journal-1.bin']).toBeGreaterThan(RECORDS * 20);
    expect(found.count).toBe(RECORDS);
    // Documents from the start, the middle and the end of the files carry their journal version.
    expect(found.samples).toEqual([0, 1, RECORDS / 2, RECORDS - 1].map((n) => ({ _id: n, n, v: 2 })));
    expect(found.duplicateCode).toBe(11000); // the unique index was rebuilt
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 180_000);
