import fs from 'node:fs';
import path from 'node:path';
import { MSG } from '../../../src/shared/messages';

const SRC = path.join(__dirname, '../../../src');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'embedded-mongo' ? [] : sourceFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

describe('the message catalogue (src/shared/messages.ts)', () => {
  test('keeps the English text the pages and clients read', () => {
    expect(MSG.fieldsNeedAttention).toBe('Some fields need attention.');
    expect(MSG.atMostCharacters(80)).toBe('Use at most 80 characters.');
    expect(MSG.noUser).toBe('No user has this id.');
  });

  test('no source file writes a catalogued sentence out again instead of naming it', () => {
    const texts = (Object.values(MSG) as unknown[]).filter((v): v is string => typeof v === 'string');
    const atMost = /(['"`])Use at most \d+ characters\.\1/;
    const offenders: string[] = [];
    for (const file of sourceFiles(SRC)) {
      if (file.endsWith(path.join('shared', 'messages.ts'))) continue;
      const code = fs.readFileSync(file, 'utf8');
      // As a string literal (quoted), not where a comment quotes the text.
      for (const t of texts)
        if ([`'${t.replace(/'/g, "\\'")}'`, `"${t}"`, `\`${t}\``].some((q) => code.includes(q)))
          offenders.push(`${path.relative(SRC, file)}: ${t}`);
      if (atMost.test(code)) offenders.push(`${path.relative(SRC, file)}: Use at most N characters.`);
    }
    expect(offenders).toEqual([]);
  });
});
