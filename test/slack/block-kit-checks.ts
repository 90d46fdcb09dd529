import { SLACK_LIMITS } from '../../lib/slack/mrkdwn';

/** A message or reply as Slack receives it: fallback text (parsed as mrkdwn too) and Block Kit blocks. */
export interface SlackPayload {
  readonly text: string;
  readonly blocks?: readonly unknown[] | undefined;
}

/**
 * The only `<…>` tokens this project writes on purpose: Slack dates (`<!date^…|fallback>`) and links to https URLs
 * it built (`<https://…|label>`).
 */
const OWN_TOKENS = [
  /<!date\^\d+\^\{date_short_pretty\}(?: at \{time\})?\|[^<>|]+>/g,
  /<https:\/\/[^\s<>|]+\|[^<>|]+>/g,
];

/**
 * Every string Slack parses as mrkdwn: the fallback text and each `{ type: 'mrkdwn', text }` object (section text,
 * fields, context elements). plain_text objects (headers, button labels) are not parsed.
 */
export function mrkdwnTexts(payload: SlackPayload): string[] {
  return [payload.text, ...textObjects(payload, 'mrkdwn')];
}

/** Every `{ type: 'plain_text', text }` string (headers, button labels): shown literally, within their own limits. */
export function plainTexts(payload: SlackPayload): string[] {
  return textObjects(payload, 'plain_text');
}

function textObjects(payload: SlackPayload, type: 'mrkdwn' | 'plain_text'): string[] {
  const out: string[] = [];
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) visit(item);
    } else if (value !== null && typeof value === 'object') {
      const record = value as Record<string, unknown>;
      if (record.type === type && typeof record.text === 'string') out.push(record.text);
      for (const child of Object.values(record)) visit(child);
    }
  };
  visit(payload.blocks ?? []);
  return out;
}

/**
 * What Slack would still read as control characters once this project's own tokens are removed: a `<` or `>`
 * (a mention, a link, or a `<invoice id>` that vanishes), or an `&` that does not start an entity.
 */
export function strayControls(payload: SlackPayload): string[] {
  return mrkdwnTexts(payload).filter((text) => {
    let rest = text;
    for (const token of OWN_TOKENS) rest = rest.replace(token, '');
    return /[<>]|&(?!amp;|lt;|gt;)/.test(rest);
  });
}

/** Slack's documented Block Kit limits, checked the way Slack would refuse a message. */
export function limitViolations(payload: SlackPayload): string[] {
  const problems: string[] = [];
  const blocks = (payload.blocks ?? []) as ReadonlyArray<Record<string, unknown>>;
  if (blocks.length > SLACK_LIMITS.blocksPerMessage) problems.push('too many blocks');
  if (payload.text.length > SLACK_LIMITS.fallbackText) problems.push('fallback text too long');
  for (const block of blocks) {
    const text = (block.text as { text?: string } | undefined)?.text ?? '';
    if (block.type === 'header' && text.length > SLACK_LIMITS.headerText) problems.push('header too long');
    if (block.type === 'section' && text.length > SLACK_LIMITS.sectionText) problems.push('section too long');
    const fields = (block.fields as { text: string }[] | undefined) ?? [];
    if (fields.length > SLACK_LIMITS.fieldsPerSection) problems.push('too many fields');
    if (fields.some((f) => f.text.length > SLACK_LIMITS.fieldText)) problems.push('field too long');
    for (const element of (block.elements as Record<string, unknown>[] | undefined) ?? []) {
      const label = (element.text as { text?: string } | undefined)?.text ?? '';
      if (element.type === 'button' && label.length > SLACK_LIMITS.buttonText)
        problems.push('button too long');
      if (typeof element.value === 'string' && element.value.length > 2000) problems.push('value too long');
      if (typeof element.url === 'string' && element.url.length > 3000) problems.push('url too long');
      if (block.type === 'context' && typeof element.text === 'string' && element.text.length > 3000) {
        problems.push('context too long');
      }
    }
  }
  return problems;
}
