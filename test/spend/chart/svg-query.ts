/**
 * Reading the chart's SVG in tests: elements by tag and class with their attributes, and text contents unescaped.
 * The chart writes one element per tag on its own terms (double-quoted attributes, no CDATA), which is all this reads.
 */
export interface SvgElement {
  readonly tag: string;
  readonly attributes: Readonly<Record<string, string>>;
  /** Text content of an element holding only text (<text>, <title>), XML entities decoded; '' otherwise. */
  readonly text: string;
}

export function findElements(svg: string, tag: string, className?: string): SvgElement[] {
  const pattern = new RegExp(`<${tag}\\b([^>]*?)(?:/>|>(?:([^<]*)</${tag}>)?)`, 'g');
  const found: SvgElement[] = [];
  for (const match of svg.matchAll(pattern)) {
    const attributes: Record<string, string> = {};
    for (const attr of (match[1] ?? '').matchAll(/([\w:-]+)="([^"]*)"/g)) {
      attributes[attr[1] ?? ''] = unescapeXml(attr[2] ?? '');
    }
    const classes = (attributes.class ?? '').split(' ');
    if (className !== undefined && !classes.includes(className)) continue;
    found.push({ tag, attributes, text: unescapeXml(match[2] ?? '') });
  }
  return found;
}

/** The contents of the `<g class="...">...</g>` group (not nested in another group with that class). */
export function groupContent(svg: string, className: string): string {
  const start = svg.indexOf(`<g class="${className}"`);
  if (start === -1) return '';
  let depth = 0;
  const tags = /<g\b[^>]*>|<\/g>/g;
  tags.lastIndex = start;
  for (let match = tags.exec(svg); match !== null; match = tags.exec(svg)) {
    depth += match[0] === '</g>' ? -1 : 1;
    if (depth === 0) return svg.slice(start, match.index);
  }
  return svg.slice(start);
}

export function textsIn(svg: string): string[] {
  return findElements(svg, 'text').map((t) => t.text);
}

function unescapeXml(text: string): string {
  return text
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&quot;', '"')
    .replaceAll('&apos;', "'")
    .replaceAll('&amp;', '&');
}

/** Parse `M1,2L3,4...` (d3's output) into points. */
export function pathPoints(d: string): Array<[number, number]> {
  return [...d.matchAll(/[ML](-?[\d.]+),(-?[\d.]+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
}

/** The PNG signature and the IHDR width and height; throws when the bytes are not a PNG. */
export function readPngSize(bytes: Uint8Array): { width: number; height: number } {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (!signature.every((b, i) => bytes[i] === b)) throw new Error('not a PNG signature');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = String.fromCharCode(...bytes.subarray(12, 16));
  if (type !== 'IHDR') throw new Error(`first chunk is ${type}, not IHDR`);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}
