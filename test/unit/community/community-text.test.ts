/**
 * A community page's text and links, without a database: the Markdown subset becomes blocks of plain
 * text (markup stays text, for the view to escape), links are read from "label | url" lines, and only
 * http and https addresses without credentials are safe.
 */
import { textBlocks } from '../../../src/community/community-text';
import { isSafeUrl, parseLinkLines } from '../../../src/community/community-pages';

describe('textBlocks', () => {
  it('makes paragraphs, headings and lists, and keeps markup as text', () => {
    expect(textBlocks('## Welcome\n\nFirst line\nsame paragraph.\n\n- one\n* two\nAfter <b>the</b> list.')).toEqual([
      { kind: 'heading', text: 'Welcome' },
      { kind: 'paragraph', text: 'First line same paragraph.' },
      { kind: 'list', items: ['one', 'two'] },
      { kind: 'paragraph', text: 'After <b>the</b> list.' },
    ]);
  });

  it('reads Windows line ends and gives nothing for blank text', () => {
    expect(textBlocks('a\r\n\r\nb')).toEqual([
      { kind: 'paragraph', text: 'a' },
      { kind: 'paragraph', text: 'b' },
    ]);
    expect(textBlocks('  \n\n ')).toEqual([]);
  });
});

describe('links', () => {
  it('reads "label | url" lines, the last bar splitting, blank lines skipped', () => {
    expect(parseLinkLines('Docs | https://a.example/x\n\n  A | B | http://b.example  \nhttps://c.example')).toEqual([
      { label: 'Docs', url: 'https://a.example/x' },
      { label: 'A | B', url: 'http://b.example' },
      { label: 'https://c.example', url: 'https://c.example' },
    ]);
  });

  it.each([
    ['https://example.com/a?b=c', true],
    ['http://example.com', true],
    ['javascript:alert(1)', false],
    ['JavaScript:alert(1)', false],
    ['data:text/html,<script>alert(1)</script>', false],
    ['file:///etc/passwd', false],
    ['//example.com', false],
    ['https://user:pass@example.com', false],
    ['not a url', false],
  ])('%s is safe: %s', (url, safe) => {
    expect(isSafeUrl(url)).toBe(safe);
  });
});
