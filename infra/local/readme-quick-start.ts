/**
 * The README's quick start as data, for `infra/check-readme.ts`: the command lines of the first fenced `sh` block
 * under the `## Quick start` heading, each without its trailing `# comment`. Throws an Error saying what is missing.
 */
export function quickStartCommands(markdown: string): string[] {
  const lines = markdown.split(/\r?\n/);
  const heading = lines.findIndex((line) => /^##\s+Quick start\s*$/i.test(line));
  if (heading === -1) throw new Error('README.md has no "## Quick start" heading');
  const end = lines.findIndex((line, i) => i > heading && /^##?\s/.test(line));
  const section = lines.slice(heading + 1, end === -1 ? undefined : end);
  const open = section.findIndex((line) => /^```(sh|bash|shell|console)\s*$/.test(line.trim()));
  if (open === -1) throw new Error('the Quick start section has no ```sh block');
  const close = section.findIndex((line, i) => i > open && line.trim() === '```');
  if (close === -1) throw new Error('the Quick start ```sh block is not closed');
  return section
    .slice(open + 1, close)
    .map(stripComment)
    .map((line) => line.replace(/^\$\s+/, '').trim())
    .filter((line) => line !== '');
}

/** Drops a trailing `# comment` (a `#` at the start or after white space, outside quotes). */
export function stripComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"') i++;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '\\') i++;
    else if (c === '#' && (i === 0 || /\s/.test(line[i - 1] ?? ''))) return line.slice(0, i).trimEnd();
  }
  return line.trimEnd();
}

/** The simple commands of a line joined by `&&`, `||` or `;` (for deciding whether it runs exactly `npm ci`). */
export function simpleCommands(line: string): string[] {
  return line
    .split(/&&|\|\||;/)
    .map((part) => part.trim().replace(/\s+/g, ' '))
    .filter((part) => part !== '');
}
