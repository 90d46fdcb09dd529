/**
 * An incremental RFC 4180 parser over byte chunks, built to sit in a streaming pipe at several hundred MB/s: it scans
 * bytes, records where each field starts and ends, and decodes a field to a string only when the consumer asks for
 * it.
 *
 * Contract:
 * - `write(chunk)` may be called with chunks of any size, split anywhere (inside a quoted field, between CR and LF,
 *   inside a multi-byte UTF-8 character or the BOM); rows are emitted synchronously, in order, from `write` and `end`,
 *   and the result never depends on how the input was split.
 * - Rows end at LF, CRLF or a lone CR outside quotes; inside quotes all three are field content. A last line without
 *   a line end is emitted by `end()`.
 * - A blank line is emitted as a row with `length === 0` (a line holding only `""` is one empty field).
 * - A UTF-8 BOM at the very start is skipped. Fields are decoded as UTF-8 (invalid sequences become U+FFFD).
 * - Quoted fields lose their quotes and `""` becomes `"`. Lenient where RFC 4180 is strict: a quote inside an unquoted
 *   field is kept as is; a field with text after its closing quote is kept verbatim (quotes included) and flags the
 *   row `text-after-quote`; a quote still open at the end of the input flags the row `unterminated-quote` (the field
 *   runs to the end).
 * - Memory is bounded by `maxRowBytes`: a row longer than that (line end excluded) is emitted once, when it ends, with
 *   `issue: 'too-long'` and no fields, and its bytes are not kept.
 * - Input never makes the parser throw. It throws only on misuse (`write` after `end`; RangeError from
 *   `createCsvParser` for a `maxRowBytes` that is not a positive integer), and passes on whatever the `onRow` callback
 *   throws (the parser is then unusable).
 */

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;

/** Default limit on one row's size in bytes. */
export const DEFAULT_MAX_ROW_BYTES = 1024 * 1024;

export const CSV_ROW_ISSUES = ['unterminated-quote', 'text-after-quote', 'too-long'] as const;
export type CsvRowIssue = (typeof CSV_ROW_ISSUES)[number];

/**
 * One parsed row, handed to `onRow`. The object and its bytes are reused for the next row: read what you need during
 * the callback and keep strings (from `field` / `toArray`), never the row itself.
 */
export interface CsvRow {
  /** 0-based position of the row in the input, blank rows included. */
  readonly index: number;
  /** Number of fields; 0 for a blank line and for a `too-long` row. */
  readonly length: number;
  /** Why the row may not be what its writer meant (the first problem met); undefined for a well-formed row. */
  readonly issue: CsvRowIssue | undefined;
  /** Field `i` decoded (quotes removed, `""` undone); `''` when `i` is out of range. */
  field(i: number): string;
  /** Every field decoded. */
  toArray(): string[];
  /**
   * The bytes behind `fieldStart`/`fieldEnd`, for consumers that compare or parse bytes without decoding. Only valid
   * during the callback.
   */
  readonly bytes: Uint8Array;
  /** Offset in `bytes` of field `i`'s content (after an opening quote). */
  fieldStart(i: number): number;
  /** Offset in `bytes` just past field `i`'s content (before a closing quote). */
  fieldEnd(i: number): number;
  /** True when field `i`'s bytes hold `""` pairs that decoding turns into `"`. */
  fieldEscaped(i: number): boolean;
}

export interface CsvParserOptions {
  /** Rows longer than this many bytes are reported as `too-long`. Default 1 MiB. */
  readonly maxRowBytes?: number;
}

export interface CsvParser {
  /** Parse the next chunk; emits every row it completes. The chunk is read, never kept or changed. */
  write(chunk: Uint8Array): void;
  /** Flush the last row (if the input did not end with a line end). Further calls do nothing. */
  end(): void;
}

export function createCsvParser(onRow: (row: CsvRow) => void, options: CsvParserOptions = {}): CsvParser {
  const maxRowBytes = options.maxRowBytes ?? DEFAULT_MAX_ROW_BYTES;
  if (!Number.isSafeInteger(maxRowBytes) || maxRowBytes < 1) {
    throw new RangeError('maxRowBytes must be a positive integer');
  }
  return new Parser(onRow, maxRowBytes);
}

const State = {
  /** At the first byte of a field. */
  FieldStart: 0,
  /** Inside an unquoted field (or after text that followed a closing quote). */
  Unquoted: 1,
  /** Inside a quoted field. */
  Quoted: 2,
  /** Just after a quote inside a quoted field: an escaped quote or the closing one. */
  QuoteSeen: 3,
} as const;
type State = (typeof State)[keyof typeof State];

const FLAG_ESCAPED = 1;
const BOM = [0xef, 0xbb, 0xbf] as const;
const EMPTY = Buffer.alloc(0);

class Parser implements CsvParser, CsvRow {
  // Row view.
  index = -1;
  length = 0;
  issue: CsvRowIssue | undefined;
  bytes: Buffer = EMPTY;

  /**
   * Where the current row's fields are, as offsets into the buffer being scanned: for a row from the plain-row fast
   * path (`plainStart` >= 0), `plainStart` and `plainEnds`; otherwise `starts`, `ends` and `flags`.
   */
  private plainStart = -1;
  private plainEnds: Int32Array = new Int32Array(64);
  private starts = new Int32Array(64);
  private ends = new Int32Array(64);
  private flags = new Uint8Array(64);
  private fieldCount = 0;

  // Scanner state carried between chunks.
  private state: State = State.FieldStart;
  private fieldStartAt = 0;
  private fieldFlags = 0;
  private rowStart = 0;
  private rowIssue: CsvRowIssue | undefined;
  /** The current row passed `maxRowBytes`: its bytes and fields are no longer kept. */
  private tooLong = false;
  /** The previous chunk ended with a CR ending a row: a leading LF belongs to it. */
  private pendingCr = false;
  /** Bytes not yet known to be (or not be) a BOM; undefined once decided. */
  private bomProbe: number[] | undefined = [];
  private ended = false;

  // Where the next quote and CR are in the buffer being scanned (its length when there is none); stale once behind
  // the scan position, and reset for every buffer.
  private quoteAt = -1;
  private crAt = -1;

  /** The unfinished row carried to the next chunk, at offset 0; `carryLength` bytes are in use. */
  private carry: Buffer = EMPTY;
  private carryLength = 0;

  constructor(
    private readonly onRow: (row: CsvRow) => void,
    private readonly maxRowBytes: number,
  ) {}

  write(chunk: Uint8Array): void {
    if (this.ended) throw new Error('CSV parser: write after end');
    let input = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.bomProbe !== undefined) {
      input = this.probeBom(input);
      if (input.length === 0) return;
    }
    // An unfinished row is completed in the carry one line at a time, so that only its own bytes are copied, and at
    // most to just past `maxRowBytes` (beyond which the row is dropped as too long); the rest of the chunk is scanned
    // in place.
    let offset = 0;
    while (this.carryLength > 0 && offset < input.length) {
      const lf = input.indexOf(LF, offset);
      const room = this.maxRowBytes + 1 - this.carryLength;
      const stop = Math.min(lf === -1 ? input.length : lf + 1, offset + Math.max(1, room));
      const from = this.carryLength;
      this.appendToCarry(input.subarray(offset, stop));
      this.scan(this.carry.subarray(0, this.carryLength), from, true);
      offset = stop;
    }
    if (offset < input.length) this.scan(offset === 0 ? input : input.subarray(offset), 0, false);
  }

  end(): void {
    if (this.ended) return;
    if (this.bomProbe !== undefined && this.bomProbe.length > 0) {
      // Fewer than three bytes that began like a BOM: they were data after all.
      const held = Buffer.from(this.bomProbe);
      this.bomProbe = undefined;
      this.write(held);
    }
    this.ended = true;
    this.bomProbe = undefined;
    const buf = this.carryLength > 0 ? this.carry.subarray(0, this.carryLength) : EMPTY;
    const len = buf.length;
    const pending = this.tooLong || len > 0 || this.fieldCount > 0 || this.state !== State.FieldStart;
    if (pending) {
      if (this.state === State.Quoted) this.rowIssue ??= 'unterminated-quote';
      this.endRow(buf, len);
    }
    this.carry = EMPTY;
    this.carryLength = 0;
  }

  // CsvRow

  field(i: number): string {
    if (i < 0 || i >= this.length) return '';
    const text = this.bytes.toString('utf8', this.fieldStart(i), this.fieldEnd(i));
    return this.fieldEscaped(i) ? text.replaceAll('""', '"') : text;
  }

  toArray(): string[] {
    const out = new Array<string>(this.length);
    for (let i = 0; i < this.length; i++) out[i] = this.field(i);
    return out;
  }

  fieldStart(i: number): number {
    if (i < 0 || i >= this.length) return 0;
    if (this.plainStart < 0) return this.starts[i] ?? 0;
    return i === 0 ? this.plainStart : (this.plainEnds[i - 1] ?? 0) + 1;
  }

  fieldEnd(i: number): number {
    if (i < 0 || i >= this.length) return 0;
    return (this.plainStart < 0 ? this.ends[i] : this.plainEnds[i]) ?? 0;
  }

  fieldEscaped(i: number): boolean {
    if (i < 0 || i >= this.length || this.plainStart >= 0) return false;
    return ((this.flags[i] ?? 0) & FLAG_ESCAPED) !== 0;
  }

  // Scanner

  /**
   * Scan `buf` from `from`; rows and fields before `from` were already recorded against the same buffer layout (the
   * carry). Leaves the unfinished row, if any, in the carry.
   */
  private scan(buf: Buffer, from: number, inCarry: boolean): void {
    const len = buf.length;
    const view = new DataView(buf.buffer, buf.byteOffset, len);
    let i = from;
    let state = this.state;
    this.quoteAt = -1;
    this.crAt = -1;
    if (this.pendingCr && i < len) {
      // The previous buffer ended with a CR that ended a row: an LF right after it belongs to that line end.
      this.pendingCr = false;
      if (buf[i] === LF) {
        i++;
        this.rowStart = i;
      }
    }
    while (i < len) {
      if (state === State.FieldStart && i === this.rowStart && this.fieldCount === 0 && !this.tooLong) {
        i = this.scanPlainRows(buf, view, i);
        if (i === len) break;
      }
      if (state === State.Quoted) {
        const j = buf.indexOf(QUOTE, i);
        if (j === -1) {
          i = len;
          break;
        }
        state = State.QuoteSeen;
        i = j + 1;
        continue;
      }
      if (state === State.QuoteSeen) {
        const c = buf[i] as number;
        if (c === QUOTE) {
          this.fieldFlags |= FLAG_ESCAPED;
          state = State.Quoted;
          i++;
          continue;
        }
        if (c === COMMA) {
          this.pushField(i - 1, i);
          state = State.FieldStart;
          i++;
          continue;
        }
        if (c === LF || c === CR) {
          this.pushField(i - 1, i);
          state = State.FieldStart;
          i = this.finishLine(buf, i, len);
          continue;
        }
        // Text after a closing quote: the whole field is kept verbatim, from its opening quote.
        this.rowIssue ??= 'text-after-quote';
        this.fieldStartAt -= 1;
        this.fieldFlags = 0;
        state = State.Unquoted;
        continue;
      }
      if (state === State.FieldStart) {
        this.fieldFlags = 0;
        if (buf[i] === QUOTE) {
          this.fieldStartAt = i + 1;
          state = State.Quoted;
          i++;
          continue;
        }
        this.fieldStartAt = i;
        state = State.Unquoted;
      }
      // Unquoted: the hot loop, over this field and the unquoted fields after it on the same line. Every byte the
      // inner loop stops at is <= ','.
      let j = i;
      for (;;) {
        let x = 0;
        for (;;) {
          // Four bytes at a time while none of them is below '-' (which every delimiter is).
          while (j + 4 <= len) {
            const v = view.getInt32(j, true);
            if ((((v - 0x2d2d2d2d) | 0) & ~v & 0x80808080) !== 0) break;
            j += 4;
          }
          const stop = Math.min(j + 4, len);
          while (j < stop) {
            x = buf[j] as number;
            if (x <= COMMA && (x === COMMA || x === LF || x === CR)) break;
            j++;
          }
          if (j < stop || j === len) break;
        }
        if (j === len) {
          i = len;
          break;
        }
        state = State.FieldStart;
        if (x !== COMMA) {
          // A line holding nothing is a blank row, not a row of one empty field.
          if (!(this.fieldCount === 0 && j === this.rowStart)) this.pushField(j, j);
          i = this.finishLine(buf, j, len);
          break;
        }
        this.pushField(j, j);
        j++;
        if (j === len || buf[j] === QUOTE) {
          i = j;
          break;
        }
        this.fieldStartAt = j;
        this.fieldFlags = 0;
        state = State.Unquoted;
      }
    }
    this.state = state;
    this.keepUnfinishedRow(buf, len, inCarry);
  }

  /**
   * The fast path for what an invoice CSV is made of: complete rows from `from` (a row start). A row that holds no
   * quote and fits in `maxRowBytes` has exactly the spans between its commas as fields, so its line end is found with
   * a native search and its commas four bytes at a time; a row with quotes goes to `scanQuotedRow`. Emits rows until
   * one neither can take (a row running past `buf`, a row too long, a malformed quote) and returns where that row
   * begins (or `buf.length`), for the state machine to read it. The rows emitted are the ones the state machine would
   * have emitted.
   */
  private scanPlainRows(buf: Buffer, view: DataView, from: number): number {
    const len = buf.length;
    let i = from;
    while (i < len) {
      const lf = buf.indexOf(LF, i);
      if (lf === -1) break;
      if (this.crAt < i) {
        const cr = buf.indexOf(CR, i);
        this.crAt = cr === -1 ? len : cr;
      }
      // The row ends at the first CR or LF; a CR right before an LF makes one line end with it.
      const end = this.crAt < lf ? this.crAt : lf;
      if (this.quoteAt < i) {
        const quote = buf.indexOf(QUOTE, i);
        this.quoteAt = quote === -1 ? len : quote;
      }
      if (this.quoteAt < end) {
        const next = this.scanQuotedRow(buf, view, i);
        if (next === -1) break;
        i = next;
        this.rowStart = i;
        continue;
      }
      if (end - i > this.maxRowBytes) break;
      this.rowStart = i;
      if (end === i) {
        this.emitBlank(buf);
      } else {
        const length = this.splitPlainRow(buf, view, i, end);
        this.index++;
        this.bytes = buf;
        this.length = length;
        this.issue = undefined;
        this.plainStart = i;
        this.onRow(this);
      }
      i = end + 1;
      if (end !== lf && buf[i] === LF) i++;
      this.rowStart = i;
    }
    return i;
  }

  /**
   * The fast path for a complete row from `start` (a row start) that holds quotes, when every quoted field closes
   * within `buf` and is followed by a comma or the line end, and the row fits in `maxRowBytes`. Emits the row and
   * returns where the next one begins; returns -1, having emitted nothing, for any other row (text after a closing
   * quote, a row running past `buf`, a CR ending `buf`, a row too long), which the state machine then reads.
   *
   * Outside quoted fields the row is read span by span, a span running to the next quote or line end: its commas are
   * found four bytes at a time (`splitPlainRow`), so the unquoted fields of a quoted row cost what a plain row's do. A
   * quote that does not open a field is kept as field content, as the state machine keeps it.
   */
  private scanQuotedRow(buf: Buffer, view: DataView, start: number): number {
    const len = buf.length;
    let n = 0;
    let fieldStart = start;
    let from = start;
    let lfAt = -1;
    let rowEnd: number;
    for (;;) {
      if (from === fieldStart && buf[fieldStart] === QUOTE) {
        let flag = 0;
        let q = fieldStart + 1;
        for (;;) {
          q = buf.indexOf(QUOTE, q);
          if (q === -1) return -1;
          if (buf[q + 1] !== QUOTE) break;
          flag = FLAG_ESCAPED;
          q += 2;
        }
        const at = q + 1;
        if (at >= len) return -1;
        const c = buf[at];
        if (c !== COMMA && c !== LF && c !== CR) return -1;
        n = this.recordField(n, fieldStart + 1, q, flag);
        if (c !== COMMA) {
          rowEnd = at;
          break;
        }
        fieldStart = at + 1;
        from = fieldStart;
        continue;
      }
      if (this.quoteAt < from) {
        const quote = buf.indexOf(QUOTE, from);
        this.quoteAt = quote === -1 ? len : quote;
      }
      if (this.crAt < from) {
        const cr = buf.indexOf(CR, from);
        this.crAt = cr === -1 ? len : cr;
      }
      if (lfAt < from) {
        const lf = buf.indexOf(LF, from);
        lfAt = lf === -1 ? len : lf;
      }
      const lineEnd = this.crAt < lfAt ? this.crAt : lfAt;
      const spanEnd = this.quoteAt < lineEnd ? this.quoteAt : lineEnd;
      if (spanEnd === len) return -1;
      const found = this.splitPlainRow(buf, view, from, spanEnd) - 1;
      const commas = this.plainEnds;
      for (let k = 0; k < found; k++) {
        const comma = commas[k] as number;
        n = this.recordField(n, fieldStart, comma, 0);
        fieldStart = comma + 1;
      }
      if (spanEnd === lineEnd) {
        n = this.recordField(n, fieldStart, lineEnd, 0);
        rowEnd = lineEnd;
        break;
      }
      // A quote: it opens the field when it is the field's first byte; otherwise it is content.
      from = spanEnd === fieldStart ? spanEnd : spanEnd + 1;
    }
    if (rowEnd - start > this.maxRowBytes) return -1;
    let next = rowEnd + 1;
    if (buf[rowEnd] === CR) {
      if (next === len) return -1;
      if (buf[next] === LF) next++;
    }
    this.rowStart = start;
    this.index++;
    this.bytes = buf;
    this.length = n;
    this.issue = undefined;
    this.plainStart = -1;
    this.onRow(this);
    return next;
  }

  /** Field `n` of a quoted row's fast path at `buf[start, end)`; returns the field count. */
  private recordField(n: number, start: number, end: number, flag: number): number {
    if (n === this.starts.length) this.growFields();
    this.starts[n] = start;
    this.ends[n] = end;
    this.flags[n] = flag;
    return n + 1;
  }

  /**
   * Record where the fields of `buf[start, end)` (no quote, CR or LF in it) end: field `k` ends at `plainEnds[k]` and
   * the next starts one byte later. Returns the field count.
   */
  private splitPlainRow(buf: Buffer, view: DataView, start: number, end: number): number {
    let ends = this.plainEnds;
    let n = 0;
    let p = start;
    for (; p + 4 <= end; p += 4) {
      // Bytes equal to a comma are zero in `x`. The first test only tells whether there is one (most words have
      // none); `m` then has a 0x80 bit in exactly each such byte (no carry crosses bytes).
      const x = view.getInt32(p, true) ^ 0x2c2c2c2c;
      if (((x - 0x01010101) & ~x & 0x80808080) === 0) continue;
      const m = ~(((x & 0x7f7f7f7f) + 0x7f7f7f7f) | x | 0x7f7f7f7f);
      if (n + 4 >= ends.length) ends = this.growPlainEnds();
      if (m & 0x80) ends[n++] = p;
      if (m & 0x8000) ends[n++] = p + 1;
      if (m & 0x800000) ends[n++] = p + 2;
      if (m < 0) ends[n++] = p + 3;
    }
    for (; p < end; p++) {
      if (buf[p] !== COMMA) continue;
      if (n + 1 >= ends.length) ends = this.growPlainEnds();
      ends[n++] = p;
    }
    ends[n] = end;
    return n + 1;
  }

  private growPlainEnds(): Int32Array {
    const next = new Int32Array(this.plainEnds.length * 2);
    next.set(this.plainEnds);
    this.plainEnds = next;
    return next;
  }

  /** Close the current field, content ending at `contentEnd`, the field itself at `at`. */
  private pushField(contentEnd: number, at: number): void {
    if (this.tooLong) return;
    if (at - this.rowStart > this.maxRowBytes) {
      this.tooLong = true;
      return;
    }
    const n = this.fieldCount;
    if (n === this.starts.length) this.growFields();
    this.starts[n] = this.fieldStartAt;
    this.ends[n] = contentEnd;
    this.flags[n] = this.fieldFlags;
    this.fieldCount = n + 1;
  }

  /**
   * A row terminator at `at` (CR or LF, outside quotes), every field of the row pushed. Returns where scanning resumes
   * (past an LF that completes a CRLF).
   */
  private finishLine(buf: Buffer, at: number, len: number): number {
    if (this.fieldCount === 0 && !this.tooLong && at === this.rowStart) this.emitBlank(buf);
    else this.endRow(buf, at);
    let next = at + 1;
    if (buf[at] === CR) {
      if (next < len) {
        if (buf[next] === LF) next++;
      } else {
        this.pendingCr = true;
      }
    }
    this.rowStart = next;
    return next;
  }

  /** Emit the row that ends at `at` (fields already pushed, except the last one of an unterminated input). */
  private endRow(buf: Buffer, at: number): void {
    if (this.ended && this.state !== State.FieldStart) {
      // Input ended inside a field.
      const contentEnd = this.state === State.QuoteSeen ? at - 1 : at;
      this.pushField(contentEnd, at);
    } else if (this.ended && this.fieldCount > 0) {
      // Input ended right after a comma.
      this.fieldStartAt = at;
      this.fieldFlags = 0;
      this.pushField(at, at);
    }
    if (!this.tooLong && at - this.rowStart > this.maxRowBytes) this.tooLong = true;
    this.index++;
    this.bytes = buf;
    this.plainStart = -1;
    if (this.tooLong) {
      this.length = 0;
      this.issue = 'too-long';
    } else {
      this.length = this.fieldCount;
      this.issue = this.rowIssue;
    }
    this.resetRow();
    this.onRow(this);
  }

  private emitBlank(buf: Buffer): void {
    this.index++;
    this.bytes = buf;
    this.plainStart = -1;
    this.length = 0;
    this.issue = undefined;
    this.resetRow();
    this.onRow(this);
  }

  private resetRow(): void {
    this.fieldCount = 0;
    this.rowIssue = undefined;
    this.tooLong = false;
  }

  /** Move the unfinished row to the front of the carry, rebasing its field offsets, or drop it if too long. */
  private keepUnfinishedRow(buf: Buffer, len: number, inCarry: boolean): void {
    if (!this.tooLong && len - this.rowStart > this.maxRowBytes) this.tooLong = true;
    if (this.tooLong || this.rowStart >= len) {
      this.carryLength = 0;
      this.rowStart = 0;
      this.fieldStartAt = 0;
      this.fieldCount = this.tooLong ? 0 : this.fieldCount;
      return;
    }
    const shift = this.rowStart;
    const keep = len - shift;
    if (inCarry) {
      if (shift > 0) this.carry.copyWithin(0, shift, len);
    } else {
      this.ensureCarry(keep);
      buf.copy(this.carry, 0, shift, len);
    }
    this.carryLength = keep;
    if (shift > 0) {
      for (let f = 0; f < this.fieldCount; f++) {
        this.starts[f] = (this.starts[f] ?? 0) - shift;
        this.ends[f] = (this.ends[f] ?? 0) - shift;
      }
      this.fieldStartAt -= shift;
    }
    this.rowStart = 0;
  }

  private appendToCarry(input: Buffer): void {
    this.ensureCarry(this.carryLength + input.length);
    input.copy(this.carry, this.carryLength);
    this.carryLength += input.length;
  }

  private ensureCarry(size: number): void {
    if (this.carry.length >= size) return;
    const next = Buffer.allocUnsafe(Math.max(size, this.carry.length * 2, 4096));
    this.carry.copy(next, 0, 0, this.carryLength);
    this.carry = next;
  }

  private growFields(): void {
    const size = this.starts.length * 2;
    const starts = new Int32Array(size);
    const ends = new Int32Array(size);
    const flags = new Uint8Array(size);
    starts.set(this.starts);
    ends.set(this.ends);
    flags.set(this.flags);
    this.starts = starts;
    this.ends = ends;
    this.flags = flags;
  }

  /** Hold back the first bytes until they are known to be, or not to be, a UTF-8 BOM. */
  private probeBom(input: Buffer): Buffer {
    const probe = this.bomProbe ?? [];
    let used = 0;
    while (probe.length < BOM.length && used < input.length) {
      const b = input[used] as number;
      if (b !== BOM[probe.length]) {
        this.bomProbe = undefined;
        // The bytes held from earlier chunks were data after all; those taken from this chunk are still in it.
        const held = probe.slice(0, probe.length - used);
        return held.length === 0 ? input : Buffer.concat([Buffer.from(held), input]);
      }
      probe.push(b);
      used++;
    }
    if (probe.length < BOM.length) return EMPTY;
    this.bomProbe = undefined;
    return input.subarray(used);
  }
}
