/**
 * Parsing of the slash command's free text (`/invoice <text>`). Pure: no I/O, never throws. Everything a user typed
 * that is echoed back travels as a short raw excerpt; the reply builders escape it.
 */
export const COMMAND_LIMITS = {
  /** Longer text is refused without looking at it. */
  maxTextLength: 200,
  /** The most characters of user input ever echoed back. */
  excerptLength: 32,
  defaultListCount: 5,
  maxListCount: 20,
} as const;

/** Who sees the answer: only the caller (`ephemeral`, the default) or the whole channel (`public`). */
export type Visibility = 'ephemeral' | 'in_channel';

export type InputProblem =
  | { readonly kind: 'too-long'; readonly length: number }
  | { readonly kind: 'not-ascii'; readonly excerpt: string }
  | { readonly kind: 'malformed-id'; readonly excerpt: string }
  | { readonly kind: 'malformed-org-id'; readonly excerpt: string }
  | { readonly kind: 'unknown-subcommand'; readonly excerpt: string }
  | { readonly kind: 'extra-words'; readonly usage: string; readonly excerpt: string }
  | { readonly kind: 'bad-count'; readonly excerpt: string };

export type ParsedCommand = { readonly visibility: Visibility } & (
  | { readonly kind: 'help' }
  | { readonly kind: 'invoice'; readonly invoiceId: string }
  | { readonly kind: 'latest'; readonly orgId: string | undefined }
  | { readonly kind: 'spend'; readonly orgId: string | undefined }
  | { readonly kind: 'pending' }
  | { readonly kind: 'list'; readonly count: number }
  | { readonly kind: 'invalid'; readonly problem: InputProblem }
);

const ID = /^[a-f0-9]{24}$/i;
/** Looks like an attempt at an id (hex-ish, or long letters-and-digits with a digit), not a word. */
const ID_LIKE = /^(?=.*\d)[a-z0-9_-]{6,}$/i;
const ASCII_PRINTABLE = /^[\x21-\x7e]*$/;

export function parseCommandText(raw: string | undefined): ParsedCommand {
  const text = (raw ?? '').trim();
  if (text.length > COMMAND_LIMITS.maxTextLength) {
    return invalid('ephemeral', { kind: 'too-long', length: text.length });
  }
  const words = text.split(/\s+/u).filter((word) => word !== '');
  const visibility: Visibility = words.some((w) => w.toLowerCase() === 'public') ? 'in_channel' : 'ephemeral';
  const [first, ...rest] = words.filter((w) => w.toLowerCase() !== 'public');
  if (first === undefined) return { visibility, kind: 'help' };

  const nonAscii = [first, ...rest].find((w) => !ASCII_PRINTABLE.test(w));
  if (nonAscii !== undefined) return invalid(visibility, { kind: 'not-ascii', excerpt: excerpt(nonAscii) });

  const keyword = first.toLowerCase();
  if (ID.test(first)) {
    return rest.length > 0
      ? extraWords(visibility, 'invoice', rest)
      : { visibility, kind: 'invoice', invoiceId: first.toLowerCase() };
  }
  switch (keyword) {
    case 'help':
      return rest.length > 0 ? extraWords(visibility, 'help', rest) : { visibility, kind: 'help' };
    case 'pending':
      return rest.length > 0 ? extraWords(visibility, 'pending', rest) : { visibility, kind: 'pending' };
    case 'latest':
    case 'spend': {
      const [orgId, ...more] = rest;
      if (more.length > 0) return extraWords(visibility, keyword, more);
      if (orgId === undefined) return { visibility, kind: keyword, orgId: undefined };
      if (!ID.test(orgId)) return invalid(visibility, { kind: 'malformed-org-id', excerpt: excerpt(orgId) });
      return { visibility, kind: keyword, orgId: orgId.toLowerCase() };
    }
    case 'list': {
      const [count, ...more] = rest;
      if (more.length > 0) return extraWords(visibility, 'list', more);
      if (count === undefined) return { visibility, kind: 'list', count: COMMAND_LIMITS.defaultListCount };
      const n = /^\d{1,3}$/.test(count) ? Number(count) : Number.NaN;
      if (!(n >= 1 && n <= COMMAND_LIMITS.maxListCount)) {
        return invalid(visibility, { kind: 'bad-count', excerpt: excerpt(count) });
      }
      return { visibility, kind: 'list', count: n };
    }
    default:
      return ID_LIKE.test(first)
        ? invalid(visibility, { kind: 'malformed-id', excerpt: excerpt(first) })
        : invalid(visibility, { kind: 'unknown-subcommand', excerpt: excerpt(first) });
  }
}

/** At most `COMMAND_LIMITS.excerptLength` code points, with `…` when cut. */
export function excerpt(text: string): string {
  const points = Array.from(text);
  if (points.length <= COMMAND_LIMITS.excerptLength) return text;
  return `${points.slice(0, COMMAND_LIMITS.excerptLength - 1).join('')}…`;
}

function extraWords(visibility: Visibility, usage: string, rest: readonly string[]): ParsedCommand {
  return invalid(visibility, { kind: 'extra-words', usage, excerpt: excerpt(rest.join(' ')) });
}

function invalid(visibility: Visibility, problem: InputProblem): ParsedCommand {
  return { visibility, kind: 'invalid', problem };
}
