import { describe, expect, it } from 'vitest';
import { type CsvParserOptions, type CsvRowIssue, createCsvParser } from '../../lib/invoices/csv-parser';

interface ParsedRow {
  readonly fields: string[];
  readonly issue?: CsvRowIssue;
}

/** Parse `input` fed in the given chunk sizes (cycled); the whole input at once when none are given. */
function parse(input: string | Uint8Array, chunkSizes: readonly number[] = [], options?: CsvParserOptions) {
  const bytes = typeof input === 'string' ? Buffer.from(input) : input;
  const rows: ParsedRow[] = [];
  const parser = createCsvParser((row) => {
    rows.push(
      row.issue === undefined ? { fields: row.toArray() } : { fields: row.toArray(), issue: row.issue },
    );
  }, options);
  for (const chunk of split(bytes, chunkSizes)) parser.write(chunk);
  parser.end();
  return rows;
}

function split(bytes: Uint8Array, chunkSizes: readonly number[]): Uint8Array[] {
  if (chunkSizes.length === 0) return [bytes];
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (let k = 0; offset < bytes.length; k++) {
    const size = chunkSizes[k % chunkSizes.length] as number;
    chunks.push(bytes.subarray(offset, offset + size));
    offset += size;
  }
  return chunks;
}

function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function randomSizes(random: () => number, count: number, max: number): number[] {
  return Array.from({ length: count }, () => 1 + Math.floor(random() * max));
}

/** Rows of `cells` joined by commas, each ended by one of `ends`; counts drawn from the inclusive ranges. */
function randomRows(
  random: () => number,
  shape: {
    cells: readonly string[];
    ends: readonly string[];
    rows: readonly [number, number];
    fields: readonly [number, number];
  },
): string {
  const between = ([low, high]: readonly [number, number]) => low + Math.floor(random() * (high - low + 1));
  const pick = (items: readonly string[]) => items[Math.floor(random() * items.length)];
  let text = '';
  const rows = between(shape.rows);
  for (let row = 0; row < rows; row++) {
    const count = between(shape.fields);
    const fields = Array.from({ length: count }, () => pick(shape.cells));
    text += fields.join(',') + pick(shape.ends);
  }
  return text;
}

/**
 * A deliberately simple, character-at-a-time reading of the parser's documented contract, to compare against on
 * generated input.
 */
function referenceParse(text: string, maxRowBytes = Number.POSITIVE_INFINITY): ParsedRow[] {
  const rows: ParsedRow[] = [];
  let fields: string[] = [];
  let field = '';
  let issue: CsvRowIssue | undefined;
  let state: 'start' | 'unquoted' | 'quoted' | 'quoteSeen' = 'start';
  let fieldBegin = 0;
  let i = text.startsWith('\ufeff') ? 1 : 0;
  let rowBegin = i;
  const endRow = (at: number) => {
    if (Buffer.byteLength(text.slice(rowBegin, at)) > maxRowBytes)
      rows.push({ fields: [], issue: 'too-long' });
    else rows.push(issue === undefined ? { fields } : { fields, issue });
    fields = [];
    issue = undefined;
  };
  while (i < text.length) {
    const c = text[i] as string;
    if (state === 'quoted') {
      if (c === '"') state = 'quoteSeen';
      else field += c;
      i++;
      continue;
    }
    if (state === 'quoteSeen') {
      if (c === '"') {
        field += '"';
        state = 'quoted';
        i++;
        continue;
      }
      if (c !== ',' && c !== '\r' && c !== '\n') {
        issue ??= 'text-after-quote';
        field = text.slice(fieldBegin, i);
        state = 'unquoted';
        continue;
      }
    }
    if (state === 'start' && c === '"') {
      state = 'quoted';
      fieldBegin = i;
      i++;
      continue;
    }
    if (c === ',') {
      fields.push(field);
      field = '';
      state = 'start';
      i++;
      continue;
    }
    if (c === '\r' || c === '\n') {
      if (!(state === 'start' && fields.length === 0)) fields.push(field);
      field = '';
      state = 'start';
      endRow(i);
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
      rowBegin = i;
      continue;
    }
    if (state === 'start') fieldBegin = i;
    state = 'unquoted';
    field += c;
    i++;
  }
  if (state === 'quoted') issue ??= 'unterminated-quote';
  if (state !== 'start' || fields.length > 0) {
    fields.push(field);
    endRow(text.length);
  }
  return rows;
}

describe('createCsvParser', () => {
  it('emits one array of fields per line', () => {
    expect(parse('a,b,c\n1,2,3\n')).toEqual([{ fields: ['a', 'b', 'c'] }, { fields: ['1', '2', '3'] }]);
  });

  it('reads quoted fields holding commas, escaped quotes and line breaks', () => {
    const input = 'name,note\n"Org, Inc.","say ""hi""\r\nnext\rline\nend"\n"",x\n';

    const rows = parse(input);

    expect(rows).toEqual([
      { fields: ['name', 'note'] },
      { fields: ['Org, Inc.', 'say "hi"\r\nnext\rline\nend'] },
      { fields: ['', 'x'] },
    ]);
  });

  it('ends rows at LF, CRLF and a lone CR alike', () => {
    const lf = parse('a,b\n"c\nd",e\n');

    expect(parse('a,b\r\n"c\nd",e\r\n')).toEqual(lf);
    expect(parse('a,b\r"c\nd",e\r')).toEqual(lf);
  });

  it('treats a CRLF split between chunks as one line end', () => {
    const rows = parse('a\r\nb\r\n', [2, 1]);

    expect(rows).toEqual([{ fields: ['a'] }, { fields: ['b'] }]);
  });

  it('emits the last line without a line end', () => {
    expect(parse('a,b\nc,d')).toEqual([{ fields: ['a', 'b'] }, { fields: ['c', 'd'] }]);
    expect(parse('a,"b"')).toEqual([{ fields: ['a', 'b'] }]);
  });

  it('keeps the empty last field after a trailing comma', () => {
    expect(parse('Invoice Number,666acb8787ba43606905dcae,\nx,')).toEqual([
      { fields: ['Invoice Number', '666acb8787ba43606905dcae', ''] },
      { fields: ['x', ''] },
    ]);
  });

  it('emits blank lines as rows with no fields, unlike a line holding an empty quoted field', () => {
    const lengths: number[] = [];
    const parser = createCsvParser((row) => lengths.push(row.length));

    parser.write(Buffer.from('a\n\n\r\n""\n'));
    parser.end();

    expect(lengths).toEqual([1, 0, 0, 1]);
  });

  it('numbers rows from 0, blank rows included', () => {
    const indexes: number[] = [];
    const parser = createCsvParser((row) => indexes.push(row.index));

    parser.write(Buffer.from('a\n\nb\n'));
    parser.end();

    expect(indexes).toEqual([0, 1, 2]);
  });

  it('emits nothing for empty input', () => {
    expect(parse('')).toEqual([]);
  });

  it('skips a UTF-8 BOM, even when it arrives one byte at a time', () => {
    const input = '\ufeffInvoice Number,1,\n';

    expect(parse(input)).toEqual([{ fields: ['Invoice Number', '1', ''] }]);
    expect(parse(input, [1])).toEqual([{ fields: ['Invoice Number', '1', ''] }]);
  });

  it('keeps bytes that only begin like a BOM', () => {
    const bytes = Buffer.from([0xef, 0xbb, 0x41, 0x2c, 0x42]);
    const expected = [{ fields: [Buffer.from([0xef, 0xbb, 0x41]).toString('utf8'), 'B'] }];

    expect(parse(bytes)).toEqual(expected);
    expect(parse(bytes, [1])).toEqual(expected);
    expect(parse(Buffer.from([0xef, 0xbb]))).toEqual([
      { fields: [Buffer.from([0xef, 0xbb]).toString('utf8')] },
    ]);
  });

  it('decodes multi-byte characters split across chunks', () => {
    const input = 'Projet été,日本語プロジェクト,"😀, ""quoted"" 🎉"\nñ,ü,ß\n';
    const whole = parse(input);
    const random = seededRandom(7);

    expect(whole).toEqual([
      { fields: ['Projet été', '日本語プロジェクト', '😀, "quoted" 🎉'] },
      { fields: ['ñ', 'ü', 'ß'] },
    ]);
    expect(parse(input, [1])).toEqual(whole);
    for (let round = 0; round < 20; round++) {
      expect(parse(input, randomSizes(random, 50, 7))).toEqual(whole);
    }
  });

  it('accepts plain Uint8Array chunks as well as Buffers', () => {
    const bytes = new TextEncoder().encode('a,é\n');

    expect(parse(bytes, [3])).toEqual([{ fields: ['a', 'é'] }]);
  });

  it('keeps a quote inside an unquoted field as it is', () => {
    expect(parse('5" disk,b\n')).toEqual([{ fields: ['5" disk', 'b'] }]);
  });

  it('reads a row holding quotes among many unquoted fields, a quote inside one of them kept as content', () => {
    const input =
      '12/15/2026,12/14/2026,"AWS Data Transfer (Internet), ""egress""",,Bench Org,65f0,Staging,' +
      'Cluster2,5" disk,"x\ny",GB,0.09,246.08,,22.15\r\nnext,row\n';
    const expected = [
      {
        fields: [
          '12/15/2026',
          '12/14/2026',
          'AWS Data Transfer (Internet), "egress"',
          '',
          'Bench Org',
          '65f0',
          'Staging',
          'Cluster2',
          '5" disk',
          'x\ny',
          'GB',
          '0.09',
          '246.08',
          '',
          '22.15',
        ],
      },
      { fields: ['next', 'row'] },
    ];

    expect(parse(input)).toEqual(expected);
    expect(parse(input, [1])).toEqual(expected);
    expect(parse(input, [64, 5, 33])).toEqual(expected);
  });

  it('flags text after a closing quote and keeps that field verbatim', () => {
    expect(parse('"abc"def,g\nh\n')).toEqual([
      { fields: ['"abc"def', 'g'], issue: 'text-after-quote' },
      { fields: ['h'] },
    ]);
  });

  it('flags a quote left open at the end of the input', () => {
    expect(parse('a,b\n"open,\nstill open')).toEqual([
      { fields: ['a', 'b'] },
      { fields: ['open,\nstill open'], issue: 'unterminated-quote' },
    ]);
  });

  it('reports a row longer than maxRowBytes once, without its fields, and goes on with the next rows', () => {
    const long = `${'x'.repeat(30)},${'y'.repeat(30)}`;
    const input = `ok,1\n${long}\n"quoted ${'z'.repeat(40)}\nstill quoted"\nafter,2\n`;
    const expected = [
      { fields: ['ok', '1'] },
      { fields: [], issue: 'too-long' },
      { fields: [], issue: 'too-long' },
      { fields: ['after', '2'] },
    ];

    expect(parse(input, [], { maxRowBytes: 32 })).toEqual(expected);
    expect(parse(input, [1], { maxRowBytes: 32 })).toEqual(expected);
    expect(parse(input, [5, 3, 17], { maxRowBytes: 32 })).toEqual(expected);
  });

  it('keeps a row of exactly maxRowBytes', () => {
    expect(parse('abcd,efgh\n', [3], { maxRowBytes: 9 })).toEqual([{ fields: ['abcd', 'efgh'] }]);
    expect(parse('abcd,efghi\n', [3], { maxRowBytes: 9 })).toEqual([{ fields: [], issue: 'too-long' }]);
  });

  it('reports an unterminated quote running past maxRowBytes as too long', () => {
    const input = `a\n"${'q\n'.repeat(100)}`;

    expect(parse(input, [7], { maxRowBytes: 50 })).toEqual([
      { fields: ['a'] },
      { fields: [], issue: 'too-long' },
    ]);
  });

  it('exposes field bytes for consumers that read them without decoding', () => {
    const seen: { text: string; escaped: boolean }[] = [];
    const parser = createCsvParser((row) => {
      for (let i = 0; i < row.length; i++) {
        const raw = Buffer.from(row.bytes.subarray(row.fieldStart(i), row.fieldEnd(i))).toString('utf8');
        seen.push({ text: raw, escaped: row.fieldEscaped(i) });
      }
    });

    parser.write(Buffer.from('plain,"quoted","a ""b"""\n'));
    parser.end();

    expect(seen).toEqual([
      { text: 'plain', escaped: false },
      { text: 'quoted', escaped: false },
      { text: 'a ""b""', escaped: true },
    ]);
  });

  it('exposes the same field bytes for rows with and without quotes, whatever the chunking', () => {
    const input = 'Org A,"Org, B",,"say ""hi""",x\r\nplain,row,,\n"",a\rlast\n';
    const read = (chunkSizes: readonly number[]) => {
      const rows: { text: string; escaped: boolean }[][] = [];
      const parser = createCsvParser((row) => {
        const fields: { text: string; escaped: boolean }[] = [];
        for (let i = 0; i < row.length; i++) {
          const raw = Buffer.from(row.bytes.subarray(row.fieldStart(i), row.fieldEnd(i))).toString('utf8');
          fields.push({ text: raw, escaped: row.fieldEscaped(i) });
        }
        rows.push(fields);
      });
      for (const chunk of split(Buffer.from(input), chunkSizes)) parser.write(chunk);
      parser.end();
      return rows;
    };
    const plain = (text: string) => ({ text, escaped: false });

    const whole = read([]);

    expect(whole).toEqual([
      [plain('Org A'), plain('Org, B'), plain(''), { text: 'say ""hi""', escaped: true }, plain('x')],
      [plain('plain'), plain('row'), plain(''), plain('')],
      [plain(''), plain('a')],
      [plain('last')],
    ]);
    expect(read([1])).toEqual(whole);
    expect(read([7, 3, 11])).toEqual(whole);
  });

  it('answers an empty string for a field index out of range', () => {
    const values: string[] = [];
    const parser = createCsvParser((row) => values.push(row.field(5), row.field(-1)));

    parser.write(Buffer.from('a,b\n'));
    parser.end();

    expect(values).toEqual(['', '']);
  });

  it('handles rows with many fields', () => {
    const fields = Array.from({ length: 1000 }, (_, i) => `f${i}`);

    expect(parse(`${fields.join(',')}\n`, [97])).toEqual([{ fields }]);
  });

  it('refuses a write after end, and ignores a second end', () => {
    const parser = createCsvParser(() => {});
    parser.end();

    expect(() => parser.end()).not.toThrow();
    expect(() => parser.write(Buffer.from('a'))).toThrow(/after end/);
  });

  it('refuses a maxRowBytes that is not a positive integer', () => {
    expect(() => createCsvParser(() => {}, { maxRowBytes: 0 })).toThrow(RangeError);
    expect(() => createCsvParser(() => {}, { maxRowBytes: 1.5 })).toThrow(RangeError);
  });

  it('passes on what the row callback throws', () => {
    const parser = createCsvParser(() => {
      throw new Error('consumer failed');
    });

    expect(() => parser.write(Buffer.from('a\n'))).toThrow('consumer failed');
  });

  it('agrees with a character-at-a-time reference on generated input, however it is chunked', () => {
    const alphabet = [
      'a',
      ' ',
      ',',
      ',',
      '"',
      '"',
      '\n',
      '\r',
      '\r\n',
      'é',
      '日',
      '😀',
      'ATLAS_AWS',
      '0.08',
      'abcdefgh',
    ];
    const random = seededRandom(20240601);
    for (let round = 0; round < 300; round++) {
      const length = Math.floor(random() * 60);
      let text = random() < 0.1 ? '\ufeff' : '';
      for (let k = 0; k < length; k++) text += alphabet[Math.floor(random() * alphabet.length)];
      const expected = referenceParse(text);

      expect(parse(text), JSON.stringify(text)).toEqual(expected);
      expect(parse(text, [1]), JSON.stringify(text)).toEqual(expected);
      expect(parse(text, randomSizes(random, 20, 9)), JSON.stringify(text)).toEqual(expected);
      const limited = referenceParse(text, 12);
      expect(parse(text, [], { maxRowBytes: 12 }), JSON.stringify(text)).toEqual(limited);
      expect(parse(text, randomSizes(random, 20, 9), { maxRowBytes: 12 }), JSON.stringify(text)).toEqual(
        limited,
      );
    }
  });

  it('agrees with the reference on long rows mixing quoted and unquoted fields, however they are chunked', () => {
    const cells = [
      'AWS Instance M10',
      '(Internet) GB',
      '',
      '0.0033',
      '"Org, Inc."',
      '"a ""b"""',
      '"x\r\ny"',
      '""',
      '5" disk',
      'a"b"',
      '"q"z',
      'é日',
    ];
    const ends = ['\n', '\r\n', '\r', '\n\n'];
    const random = seededRandom(777);
    for (let round = 0; round < 60; round++) {
      const text = randomRows(random, { cells, ends, rows: [1, 12], fields: [10, 25] });
      const expected = referenceParse(text);

      expect(parse(text), JSON.stringify(text)).toEqual(expected);
      expect(parse(text, randomSizes(random, 30, 80)), JSON.stringify(text)).toEqual(expected);
      expect(parse(text, [], { maxRowBytes: 120 }), JSON.stringify(text)).toEqual(referenceParse(text, 120));
    }
  });

  it('agrees with the reference on long invoice-like inputs of many rows, however they are chunked', () => {
    const cells = [
      '06/01/2024',
      'Project 1',
      '"Org, Inc."',
      '"a ""b"""',
      '"x\ny"',
      '',
      '12.34',
      'é日',
      '"q"z',
    ];
    const ends = ['\n', '\n', '\n', '\r\n', '\r', '\n\n'];
    const random = seededRandom(42);
    for (let round = 0; round < 40; round++) {
      const text = randomRows(random, { cells, ends, rows: [1, 40], fields: [1, 8] });
      const expected = referenceParse(text);

      expect(parse(text), JSON.stringify(text)).toEqual(expected);
      expect(parse(text, randomSizes(random, 30, 64)), JSON.stringify(text)).toEqual(expected);
      expect(parse(text, [], { maxRowBytes: 40 }), JSON.stringify(text)).toEqual(referenceParse(text, 40));
    }
  });
});
