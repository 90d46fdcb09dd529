import { plainText } from '../../slack/mrkdwn';

/**
 * Text that goes into the chart's SVG. Outside strings (the organisation's name) are cleaned of control and bidi
 * characters, shortened to a width estimated from DejaVu Sans' advance widths, and escaped for XML, so no name can
 * break the document or run off the picture.
 */

/**
 * Escape for an XML text node or attribute. Characters XML 1.0 cannot carry at all (C0 controls, lone surrogates,
 * U+FFFE/U+FFFF) are dropped: a character reference to them would be invalid too.
 */
export function escapeXml(text: string): string {
  return text
    .replace(
      // biome-ignore lint/suspicious/noControlCharactersInRegex: removing what XML forbids
      /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
      '',
    )
    .replace(/[&<>"']/g, (c) => XML_ENTITIES[c] ?? c);
}

const XML_ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

/**
 * Estimated advance width of `text` in pixels at `size`. DejaVu Sans: digits and most capitals about 0.64-0.77 em,
 * lower case about 0.6 em, narrow punctuation about 0.32 em; bold is about 10% wider; wide (CJK) characters 1 em.
 * Errs on the wide side so that what is laid out with it never overflows.
 */
export function estimateTextWidth(text: string, size: number, bold = false): number {
  let em = 0;
  for (const char of text) em += charEm(char);
  return em * size * (bold ? 1.1 : 1);
}

function charEm(char: string): number {
  const code = char.codePointAt(0) ?? 0;
  if (code >= 0x1100 && isWide(code)) return 1;
  if (" .,:;|!il1'`()[]·".includes(char)) return 0.34;
  if (char >= 'A' && char <= 'Z') return 0.72;
  if ('mwMW@%'.includes(char)) return 0.92;
  return 0.64;
}

function isWide(code: number): boolean {
  return (
    (code >= 0x1100 && code <= 0x115f) ||
    (code >= 0x2e80 && code <= 0xa4cf) ||
    (code >= 0xac00 && code <= 0xd7a3) ||
    (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0xfe30 && code <= 0xfe4f) ||
    (code >= 0xff00 && code <= 0xff60) ||
    (code >= 0xffe0 && code <= 0xffe6) ||
    (code >= 0x1f300 && code <= 0x1faff) ||
    (code >= 0x20000 && code <= 0x3fffd)
  );
}

/**
 * Clean `text` and shorten it to at most `maxWidth` pixels (estimated), ending in `…` when cut; never splits a
 * surrogate pair. Returns plain text: escape it with escapeXml before it goes into the SVG.
 */
export function fitText(text: string, maxWidth: number, size: number, bold = false): string {
  const clean = plainText(text, 500).replace(/\s+/g, ' ').trim();
  if (estimateTextWidth(clean, size, bold) <= maxWidth) return clean;
  const budget = maxWidth - estimateTextWidth('…', size, bold);
  let out = '';
  for (const char of clean) {
    if (estimateTextWidth(out + char, size, bold) > budget) break;
    out += char;
  }
  return `${out.trimEnd()}…`;
}
