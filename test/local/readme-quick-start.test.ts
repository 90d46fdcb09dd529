import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { quickStartCommands, simpleCommands, stripComment } from '../../infra/local/readme-quick-start';

const README = `# Tool

Intro.

## Quick start

Some words.

\`\`\`sh
npm ci && npm start    # the whole job (Ctrl-C to stop)

npm ci && npm test     # everything
\`\`\`

\`\`\`sh
echo not this one
\`\`\`

## How it works

\`\`\`sh
echo nor this
\`\`\`
`;

describe('quickStartCommands', () => {
  it('takes the command lines of the first sh block under "## Quick start", without comments', () => {
    expect(quickStartCommands(README)).toEqual(['npm ci && npm start', 'npm ci && npm test']);
  });

  it('says what is missing', () => {
    expect(() => quickStartCommands('# Tool\n## Install\n')).toThrow(/Quick start/);
    expect(() => quickStartCommands('## Quick start\nRun it.\n## Next\n```sh\nx\n```\n')).toThrow(
      /```sh block/,
    );
    expect(() => quickStartCommands('## Quick start\n```sh\nnpm start\n')).toThrow(/not closed/);
  });

  it('reads the repository README as two command lines', () => {
    const readme = readFileSync('README.md', 'utf8');

    const lines = quickStartCommands(readme);

    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/npm start/);
  });
});

describe('stripComment', () => {
  it('keeps a # that is inside quotes or part of a word', () => {
    expect(stripComment(`echo '# not a comment' # comment`)).toBe(`echo '# not a comment'`);
    expect(stripComment('echo "a # b"')).toBe('echo "a # b"');
    expect(stripComment('echo issue#12')).toBe('echo issue#12');
    expect(stripComment('# only a comment')).toBe('');
  });
});

describe('simpleCommands', () => {
  it('splits a line on &&, || and ;', () => {
    expect(simpleCommands('npm ci  &&  npm start; echo done || true')).toEqual([
      'npm ci',
      'npm start',
      'echo done',
      'true',
    ]);
  });
});
