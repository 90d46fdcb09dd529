/**
 * Everything that reaches Slack from outside (organisation, project, SKU and cluster names, Atlas error text) goes
 * through these. mrkdwn treats `&`, `<` and `>` as control characters (`<!channel>`, `<@U1>`, links), so they are
 * escaped; control characters are dropped; lengths are capped below Block Kit's limits.
 */
export function escapeMrkdwn(text: string): string {
  return stripControl(text).replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** Escape and cap at `max` characters (counted after escaping, never splitting an entity or a surrogate pair). */
export function escapeAndTruncate(text: string, max: number): string {
  return truncateEscaped(escapeMrkdwn(text), max);
}

/** Cap already-escaped mrkdwn at `max` characters, ending in `…` when cut. */
export function truncateEscaped(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = max - 1;
  const amp = text.lastIndexOf('&', cut);
  if (amp !== -1 && amp > cut - 5 && text.indexOf(';', amp) >= cut) cut = amp;
  if (cut > 0 && isHighSurrogate(text.charCodeAt(cut - 1))) cut -= 1;
  return `${text.slice(0, cut)}…`;
}

/** Text for `plain_text` objects (headers, button labels): no escaping needed, but capped and control-free. */
export function plainText(text: string, max: number): string {
  const clean = stripControl(text);
  if (clean.length <= max) return clean;
  let cut = max - 1;
  if (cut > 0 && isHighSurrogate(clean.charCodeAt(cut - 1))) cut -= 1;
  return `${clean.slice(0, cut)}…`;
}

/** Inline code that cannot be broken out of: backticks become a look-alike. */
export function code(text: string): string {
  return `\`${escapeMrkdwn(text).replaceAll('`', 'ˋ')}\``;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to remove them
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u202a-\u202e\u2066-\u2069]/g;

function stripControl(text: string): string {
  return text.replace(CONTROL, '');
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/** Block Kit limits this project builds within (Slack's documented maxima). */
export const SLACK_LIMITS = {
  blocksPerMessage: 50,
  sectionText: 3000,
  fieldText: 2000,
  fieldsPerSection: 10,
  headerText: 150,
  buttonText: 75,
  fallbackText: 3000,
} as const;
