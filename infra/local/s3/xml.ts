/**
 * The little XML S3 needs: building response documents (escaped, never string-spliced) and parsing the few request
 * bodies it accepts (CompleteMultipartUpload, VersioningConfiguration, CreateBucketConfiguration, Delete).
 */
export const S3_XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

/** Markup that is already safe; only `el` makes it, so text can never be mistaken for markup. */
export class Xml {
  constructor(readonly markup: string) {}
}

export type XmlContent = string | number | boolean | Xml | readonly (Xml | undefined | false)[] | undefined;

/** Escape text for an element body or an attribute; characters XML 1.0 cannot carry become `&#x..;` as S3 does. */
export function escapeXml(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what must be escaped
  return text.replace(/[&<>"'\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, (c) => {
    switch (c) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '"':
        return '&quot;';
      case "'":
        return '&apos;';
      default:
        return `&#x${c.charCodeAt(0).toString(16).toUpperCase()};`;
    }
  });
}

/** `<name attrs>content</name>`; without content, `<name/>`. Text content is escaped. */
export function el(name: string, content?: XmlContent, attributes: Record<string, string> = {}): Xml {
  const attrs = Object.entries(attributes)
    .map(([key, value]) => ` ${key}="${escapeXml(value)}"`)
    .join('');
  if (content === undefined) return new Xml(`<${name}${attrs}/>`);
  return new Xml(`<${name}${attrs}>${body(content)}</${name}>`);
}

/** An element only when the value is present: for optional fields such as `<Delimiter>`. */
export function optional(name: string, value: string | number | boolean | undefined): Xml | undefined {
  return value === undefined ? undefined : el(name, value);
}

export function xmlDocument(root: Xml): string {
  return DECLARATION + root.markup;
}

function body(content: XmlContent): string {
  if (content === undefined) return '';
  if (content instanceof Xml) return content.markup;
  if (Array.isArray(content)) {
    return content.map((item) => (item instanceof Xml ? item.markup : '')).join('');
  }
  return escapeXml(String(content));
}

export interface XmlElement {
  readonly name: string;
  readonly children: XmlElement[];
  /** Concatenated character data directly inside this element, entities decoded. */
  text: string;
}

export class XmlParseError extends Error {
  override readonly name = 'XmlParseError';
}

/**
 * Parse a small XML document into elements (attributes and namespaces prefixes are ignored: S3's request schemas do
 * not need them). Throws XmlParseError on anything not well-formed.
 */
export function parseXml(text: string): XmlElement {
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let i = 0;
  while (i < text.length) {
    const lt = text.indexOf('<', i);
    const chunk = lt === -1 ? text.slice(i) : text.slice(i, lt);
    if (chunk.trim() !== '' || (stack.length > 0 && chunk !== '')) {
      const top = stack[stack.length - 1];
      if (!top) throw new XmlParseError('text outside the root element');
      top.text += decodeEntities(chunk);
    }
    if (lt === -1) break;
    if (text.startsWith('<?', lt)) {
      i = indexAfter(text, '?>', lt);
    } else if (text.startsWith('<!--', lt)) {
      i = indexAfter(text, '-->', lt);
    } else if (text.startsWith('<![CDATA[', lt)) {
      const end = indexAfter(text, ']]>', lt);
      const top = stack[stack.length - 1];
      if (!top) throw new XmlParseError('CDATA outside the root element');
      top.text += text.slice(lt + 9, end - 3);
      i = end;
    } else if (text.startsWith('<!', lt)) {
      throw new XmlParseError('document type declarations are not accepted');
    } else {
      const end = indexAfter(text, '>', lt);
      const tag = text.slice(lt + 1, end - 1);
      i = end;
      if (tag.startsWith('/')) {
        const name = localName(tag.slice(1).trim());
        const open = stack.pop();
        if (!open || open.name !== name) throw new XmlParseError(`unexpected closing tag ${name}`);
        if (stack.length === 0) root = open;
        continue;
      }
      const selfClosing = tag.endsWith('/');
      const match = /^([A-Za-z_][\w.:-]*)/.exec(tag);
      if (!match?.[1]) throw new XmlParseError('malformed tag');
      const element: XmlElement = { name: localName(match[1]), children: [], text: '' };
      const parent = stack[stack.length - 1];
      if (parent) parent.children.push(element);
      else if (root) throw new XmlParseError('more than one root element');
      if (selfClosing) {
        if (!parent) root = element;
      } else {
        stack.push(element);
      }
    }
  }
  if (stack.length > 0 || !root) throw new XmlParseError('unterminated document');
  return root;
}

export function childElements(element: XmlElement, name: string): XmlElement[] {
  return element.children.filter((c) => c.name === name);
}

export function childText(element: XmlElement, name: string): string | undefined {
  return element.children.find((c) => c.name === name)?.text.trim();
}

function indexAfter(text: string, token: string, from: number): number {
  const at = text.indexOf(token, from);
  if (at === -1) throw new XmlParseError(`missing ${token}`);
  return at + token.length;
}

function localName(name: string): string {
  const colon = name.indexOf(':');
  return colon === -1 ? name : name.slice(colon + 1);
}

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (_, entity: string) => {
    switch (entity) {
      case 'amp':
        return '&';
      case 'lt':
        return '<';
      case 'gt':
        return '>';
      case 'quot':
        return '"';
      case 'apos':
        return "'";
      default: {
        const code = entity.startsWith('#x')
          ? Number.parseInt(entity.slice(2), 16)
          : Number.parseInt(entity.slice(1), 10);
        if (code > 0x10ffff) throw new XmlParseError('character reference out of range');
        return String.fromCodePoint(code);
      }
    }
  });
}
