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

/**
 * The Slack tokens this project writes on purpose, and the only `<…>` its mrkdwn ever holds: dates that Slack renders
 * in each reader's time zone (with a UTC fallback for clients that cannot), and links to URLs it builds itself.
 */
export function slackDate(epochMs: number): string {
  if (!Number.isFinite(epochMs)) return 'an unknown time';
  return `<!date^${Math.floor(epochMs / 1000)}^{date_short_pretty} at {time}|${utcMinute(epochMs)}>`;
}

/** A day only (`Aug 1, 2024`, or `tomorrow`), for deadlines. */
export function slackDay(epochMs: number): string {
  if (!Number.isFinite(epochMs)) return 'an unknown day';
  return `<!date^${Math.floor(epochMs / 1000)}^{date_short_pretty}|${utcDay(epochMs)}>`;
}

/** `2024-07-10 12:15 UTC`: the plain form of `slackDate`, for fallback text. */
export function utcMinute(epochMs: number): string {
  return `${new Date(epochMs).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

const DAY = new Intl.DateTimeFormat('en-US', {
  timeZone: 'UTC',
  month: 'short',
  day: 'numeric',
  year: 'numeric',
});

/** `Aug 1, 2024`: the plain form of `slackDay`, for fallback text. */
export function utcDay(epochMs: number): string {
  return DAY.format(new Date(epochMs));
}

/**
 * `<url|label>` for an https URL this project built; the label is escaped. Anything else becomes the label alone,
 * so a malformed URL can never open a token.
 */
export function slackLink(url: string, label: string): string {
  const safe = /^https:\/\/[^\s<>|]+$/.test(url);
  return safe ? `<${url}|${escapeMrkdwn(label).replaceAll('|', '¦')}>` : escapeMrkdwn(label);
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
