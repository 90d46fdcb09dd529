import { isRecord } from '../is-record';

/**
 * A readable terminal rendering of a Slack message (text and Block Kit): what `npm start` prints for each message, and
 * what `invoices spend` on the command line prints, so both show what Slack shows.
 * mrkdwn becomes plain text: `<url|label>` → `label (url)`, `<!channel>` → `@channel`, `&lt; &gt; &amp;` are
 * unescaped last (so an escaped `&lt;!channel&gt;` stays the literal text it was), *bold* / _italic_ / ~strike~
 * lose their markers (and gain ANSI styles when colour is on). Control characters and bidi overrides in the
 * message are removed before anything is printed, so a hostile organisation name cannot drive the terminal.
 */

export interface RenderableMessage {
  readonly text?: string | undefined;
  readonly blocks?: readonly unknown[] | undefined;
}

export interface RenderOptions {
  /** ANSI styles; default off. */
  readonly color?: boolean;
  /** Columns for dividers and the two-column field layout. Default 80. */
  readonly width?: number;
  /**
   * Wrap text at `width` columns by words, fields within their column, as a narrow client (a phone) shows them.
   * Default off: lines are printed whole and the terminal wraps them.
   */
  readonly wrap?: boolean;
}

interface Style {
  bold(s: string): string;
  italic(s: string): string;
  strike(s: string): string;
  dim(s: string): string;
  code(s: string): string;
  link(s: string): string;
  header(s: string): string;
  button(s: string): string;
}

const PLAIN: Style = {
  bold: (s) => s,
  italic: (s) => s,
  strike: (s) => s,
  dim: (s) => s,
  code: (s) => s,
  link: (s) => s,
  header: (s) => s,
  button: (s) => s,
};

const sgr = (open: string, close: string) => (s: string) => `\u001b[${open}m${s}\u001b[${close}m`;

const ANSI: Style = {
  bold: sgr('1', '22'),
  italic: sgr('3', '23'),
  strike: sgr('9', '29'),
  dim: sgr('2', '22'),
  code: sgr('36', '39'),
  link: sgr('4;34', '24;39'),
  header: sgr('1;4', '22;24'),
  button: sgr('7', '27'),
};

export function renderMessage(message: RenderableMessage, options: RenderOptions = {}): string {
  const style = options.color ? ANSI : PLAIN;
  const width = Math.max(20, options.width ?? 80);
  const blocks = Array.isArray(message.blocks) ? message.blocks : [];
  const layout: Layout = {
    width,
    wrap: options.wrap === true ? (text, columns = width) => wrapText(text, columns) : (text) => text,
  };
  if (blocks.length === 0) return layout.wrap(convert(message.text ?? '', style, false));
  return blocks
    .map((block) => renderBlock(block, style, layout))
    .filter((line) => line !== '')
    .join('\n');
}

interface Layout {
  readonly width: number;
  /** Identity unless wrapping was asked for. */
  readonly wrap: (text: string, columns?: number) => string;
}

/** One mrkdwn string to terminal text, by the rules in the module comment. */
export function mrkdwnToText(text: string, options: Pick<RenderOptions, 'color'> = {}): string {
  return convert(text, options.color ? ANSI : PLAIN, false);
}

/** mrkdwn (or plain_text, with `isPlain`) to terminal text. */
function convert(text: string, style: Style, isPlain: boolean): string {
  const clean = stripControl(text);
  if (isPlain) return clean;
  let out = '';
  let last = 0;
  for (const match of clean.matchAll(/<([^<>\n]+)>/g)) {
    out += formatSegment(clean.slice(last, match.index), style);
    out += renderSpecial(match[1] as string, style);
    last = (match.index ?? 0) + match[0].length;
  }
  return out + formatSegment(clean.slice(last), style);
}

type Json = Record<string, unknown>;

function textOf(value: unknown, style: Style): string {
  if (!isRecord(value) || typeof value.text !== 'string') return '';
  return convert(value.text, style, value.type === 'plain_text');
}

function renderBlock(block: unknown, style: Style, layout: Layout): string {
  if (!isRecord(block)) return '';
  const { width, wrap } = layout;
  switch (block.type) {
    case 'header': {
      const title = wrap(textOf(block.text, PLAIN));
      const longest = Math.max(3, ...title.split('\n').map(visibleLength));
      return `${style.header(title)}\n${'═'.repeat(Math.min(width, longest))}`;
    }
    case 'section': {
      const parts: string[] = [];
      const text = textOf(block.text, style);
      const accessory = renderElement(block.accessory, style);
      if (text !== '' || accessory !== '')
        parts.push(wrap([text, accessory].filter((p) => p !== '').join('  ')));
      if (Array.isArray(block.fields))
        parts.push(
          twoColumns(
            block.fields.map((f) => textOf(f, style)),
            layout,
          ),
        );
      return parts.join('\n');
    }
    case 'context': {
      const elements = Array.isArray(block.elements) ? block.elements : [];
      return style.dim(
        wrap(
          elements
            .map((e) => (isRecord(e) && e.type === 'image' ? `[image: ${imageAlt(e)}]` : textOf(e, PLAIN)))
            .filter((t) => t !== '')
            .join('  ·  '),
        ),
      );
    }
    case 'divider':
      return style.dim('─'.repeat(width));
    case 'actions': {
      const elements = Array.isArray(block.elements) ? block.elements : [];
      return elements.map((e) => renderElement(e, style)).join('  ');
    }
    case 'image': {
      const title = textOf(block.title, PLAIN);
      return `[image: ${imageAlt(block)}]${title === '' ? '' : ` ${title}`}`;
    }
    case 'rich_text':
      return wrap(convert(richText(block), style, true));
    case 'markdown':
      return typeof block.text === 'string' ? wrap(stripControl(block.text)) : '';
    default:
      return style.dim(`[${stripControl(String(block.type))} block]`);
  }
}

function renderElement(element: unknown, style: Style): string {
  if (!isRecord(element)) return '';
  if (element.type === 'button') {
    const label = style.button(`[ ${textOf(element.text, PLAIN)} ]`);
    return typeof element.url === 'string' ? `${label} (${style.link(stripControl(element.url))})` : label;
  }
  if (element.type === 'image') return `[image: ${imageAlt(element)}]`;
  const placeholder = isRecord(element.placeholder) ? textOf(element.placeholder, PLAIN) : '';
  return style.dim(`[${stripControl(String(element.type))}${placeholder === '' ? '' : `: ${placeholder}`}]`);
}

function imageAlt(image: Json): string {
  return typeof image.alt_text === 'string' ? stripControl(image.alt_text) : '';
}

/**
 * Fields side by side in pairs, the left column padded to the widest left field (at most half the width); with
 * `wrap`, each field is wrapped within its column first.
 */
function twoColumns(fields: readonly string[], layout: Layout): string {
  const column = Math.floor(layout.width / 2) - 2;
  const lines = (field: string | undefined) => layout.wrap(field ?? '', column).split('\n');
  const rows: string[] = [];
  for (let i = 0; i < fields.length; i += 2) {
    const left = lines(fields[i]);
    const right = lines(fields[i + 1]);
    const pad = Math.min(column, Math.max(...left.map(visibleLength)));
    for (let line = 0; line < Math.max(left.length, right.length); line++) {
      const l = left[line] ?? '';
      const r = right[line] ?? '';
      rows.push(r === '' ? l : `${l}${' '.repeat(Math.max(0, pad - visibleLength(l)))}   ${r}`);
    }
  }
  return rows.join('\n');
}

function richText(node: unknown): string {
  if (!isRecord(node)) return '';
  if (typeof node.text === 'string') return node.text;
  if (node.type === 'link' && typeof node.url === 'string') return node.url;
  if (node.type === 'user' && typeof node.user_id === 'string') return `@${node.user_id}`;
  if (node.type === 'channel' && typeof node.channel_id === 'string') return `#${node.channel_id}`;
  if (node.type === 'broadcast' && typeof node.range === 'string') return `@${node.range}`;
  if (!Array.isArray(node.elements)) return '';
  const joiner = node.type === 'rich_text_list' ? '\n' : '';
  return node.elements
    .map((e) => (node.type === 'rich_text_list' ? `• ${richText(e)}` : richText(e)))
    .join(joiner);
}

/** `<!channel>`, `<@U1|name>`, `<#C1|name>`, `<!date^…|fallback>`, `<url|label>` as readable text. */
function renderSpecial(inner: string, style: Style): string {
  const bar = inner.indexOf('|');
  const target = bar === -1 ? inner : inner.slice(0, bar);
  const label = bar === -1 ? undefined : unescapeEntities(inner.slice(bar + 1));
  if (target.startsWith('!')) {
    const name = target.slice(1);
    if (name === 'channel' || name === 'here' || name === 'everyone') return style.bold(`@${name}`);
    if (name.startsWith('subteam^')) return style.bold(label ?? `@${name.slice('subteam^'.length)}`);
    if (name.startsWith('date^')) return label ?? name;
    return style.bold(`@${label ?? name}`);
  }
  if (target.startsWith('@')) return style.bold(label ? `@${label.replace(/^@/, '')}` : target);
  if (target.startsWith('#')) return style.bold(label ? `#${label.replace(/^#/, '')}` : target);
  const url = unescapeEntities(target);
  if (label === undefined || label === url) return style.link(url);
  return `${style.link(label)} (${url})`;
}

function formatSegment(segment: string, style: Style): string {
  return unescapeEntities(
    segment
      .replace(
        /(^|[^\w*])\*(?=\S)([^*\n]*?\S)\*(?=$|[^\w*])/g,
        (_, before: string, inner: string) => before + style.bold(inner),
      )
      .replace(
        /(^|[^\w_])_(?=\S)([^_\n]*?\S)_(?=$|[^\w_])/g,
        (_, before: string, inner: string) => before + style.italic(inner),
      )
      .replace(
        /(^|[^\w~])~(?=\S)([^~\n]*?\S)~(?=$|[^\w~])/g,
        (_, before: string, inner: string) => before + style.strike(inner),
      )
      .replace(/`([^`\n]+)`/g, (_, inner: string) => style.code(inner))
      .replace(/:([a-z0-9_+-]+):/g, (whole, name: string) => EMOJI[name] ?? whole),
  );
}

const EMOJI: Record<string, string> = {
  warning: '⚠️',
  rotating_light: '🚨',
  white_check_mark: '✅',
  heavy_check_mark: '✔️',
  x: '❌',
  moneybag: '💰',
  receipt: '🧾',
  hourglass: '⌛',
  hourglass_flowing_sand: '⏳',
  information_source: 'ℹ️',
  bell: '🔔',
  page_facing_up: '📄',
  link: '🔗',
  red_circle: '🔴',
  large_green_circle: '🟢',
  large_yellow_circle: '🟡',
  eyes: '👀',
};

function unescapeEntities(text: string): string {
  return text.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Drop terminal control characters (ESC, BEL, C1, carriage return) and bidi overrides; keep newlines and tabs. */
function stripControl(text: string): string {
  return text.replace(CONTROL, '');
}

/**
 * Each line cut at spaces into lines of at most `width` visible columns; a word longer than that (a URL) stays whole.
 * Continuation lines of a `• ` bullet are indented under its text.
 */
function wrapText(text: string, width: number): string {
  return text
    .split('\n')
    .flatMap((line) => {
      if (visibleLength(line) <= width) return [line];
      const bullet = line.startsWith('• ');
      const indent = bullet ? '  ' : '';
      const words = (bullet ? line.slice(2) : line).split(' ');
      if (bullet) words[0] = `• ${words[0] ?? ''}`;
      const out: string[] = [];
      let current = '';
      for (const word of words) {
        const next = current === '' ? word : `${current} ${word}`;
        if (current !== '' && visibleLength(next) > width) {
          out.push(current);
          current = `${indent}${word}`;
        } else {
          current = next;
        }
      }
      out.push(current);
      return out;
    })
    .join('\n');
}

function visibleLength(text: string): number {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI sequences are not visible
  return [...text.replace(/\u001b\[[0-9;]*m/g, '')].length;
}
