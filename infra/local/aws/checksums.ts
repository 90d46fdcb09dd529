import { createHash, type Hash } from 'node:crypto';

/**
 * The flexible checksums S3 accepts (`x-amz-checksum-*` headers and aws-chunked trailers), computed incrementally
 * so a body can be checked while it streams to disk. CRCs are table-driven in plain JS because `zlib.crc32` does not
 * exist on Node 20; CRC32 and CRC32C use slicing-by-8. Digests are big-endian bytes; headers carry them base64.
 */
export const CHECKSUM_ALGORITHMS = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

export interface IncrementalChecksum {
  update(chunk: Uint8Array): void;
  /** Big-endian digest bytes; call once, after the last update. */
  digest(): Buffer;
}

export function isChecksumAlgorithm(value: string): value is ChecksumAlgorithm {
  return (CHECKSUM_ALGORITHMS as readonly string[]).includes(value);
}

/** `x-amz-checksum-crc32` for `CRC32`, and so on. */
export function checksumHeaderName(algorithm: ChecksumAlgorithm): string {
  return `x-amz-checksum-${algorithm.toLowerCase()}`;
}

/** The algorithm a header or trailer name such as `x-amz-checksum-sha256` stands for, or undefined. */
export function algorithmOfHeader(name: string): ChecksumAlgorithm | undefined {
  const lower = name.toLowerCase();
  if (!lower.startsWith('x-amz-checksum-')) return undefined;
  const candidate = lower.slice('x-amz-checksum-'.length).toUpperCase();
  return isChecksumAlgorithm(candidate) ? candidate : undefined;
}

/** Digest length in bytes, to validate a base64 value before comparing. */
export function checksumLength(algorithm: ChecksumAlgorithm): number {
  return { CRC32: 4, CRC32C: 4, CRC64NVME: 8, SHA1: 20, SHA256: 32 }[algorithm];
}

export function createChecksum(algorithm: ChecksumAlgorithm): IncrementalChecksum {
  switch (algorithm) {
    case 'CRC32':
      return crc32Like(CRC32_TABLES);
    case 'CRC32C':
      return crc32Like(CRC32C_TABLES);
    case 'CRC64NVME':
      return crc64Nvme();
    case 'SHA1':
      return hashChecksum(createHash('sha1'));
    case 'SHA256':
      return hashChecksum(createHash('sha256'));
  }
}

/** One-shot digest of a whole buffer, base64 as in S3 headers. */
export function checksumBase64(algorithm: ChecksumAlgorithm, data: Uint8Array): string {
  const checksum = createChecksum(algorithm);
  checksum.update(data);
  return checksum.digest().toString('base64');
}

function hashChecksum(hash: Hash): IncrementalChecksum {
  return { update: (chunk) => hash.update(chunk), digest: () => hash.digest() };
}

/** Eight 256-entry tables for slicing-by-8 over a reflected 32-bit polynomial. */
function crc32Tables(polynomial: number): Uint32Array[] {
  const tables = Array.from({ length: 8 }, () => new Uint32Array(256));
  const first = tables[0] as Uint32Array;
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ polynomial : c >>> 1;
    first[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    let c = first[n] as number;
    for (let t = 1; t < 8; t++) {
      c = (first[c & 0xff] as number) ^ (c >>> 8);
      (tables[t] as Uint32Array)[n] = c >>> 0;
    }
  }
  return tables;
}

const CRC32_TABLES = crc32Tables(0xedb88320);
const CRC32C_TABLES = crc32Tables(0x82f63b78);

function crc32Like(tables: Uint32Array[]): IncrementalChecksum {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = tables as [
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
  ];
  let crc = 0xffffffff;
  return {
    update(chunk) {
      let c = crc;
      let i = 0;
      const end8 = chunk.length - (chunk.length % 8);
      for (; i < end8; i += 8) {
        const lo =
          c ^
          ((chunk[i] as number) |
            ((chunk[i + 1] as number) << 8) |
            ((chunk[i + 2] as number) << 16) |
            ((chunk[i + 3] as number) << 24));
        c =
          (t7[lo & 0xff] as number) ^
          (t6[(lo >>> 8) & 0xff] as number) ^
          (t5[(lo >>> 16) & 0xff] as number) ^
          (t4[lo >>> 24] as number) ^
          (t3[chunk[i + 4] as number] as number) ^
          (t2[chunk[i + 5] as number] as number) ^
          (t1[chunk[i + 6] as number] as number) ^
          (t0[chunk[i + 7] as number] as number);
      }
      for (; i < chunk.length; i++) c = (t0[(c ^ (chunk[i] as number)) & 0xff] as number) ^ (c >>> 8);
      crc = c;
    },
    digest() {
      const out = Buffer.alloc(4);
      out.writeUInt32BE((crc ^ 0xffffffff) >>> 0);
      return out;
    },
  };
}

/** CRC-64/NVME (reflected polynomial 0x9a6c9329ac4bc9b5), kept as two 32-bit halves to avoid BigInt per byte. */
const CRC64_TABLE_HI = new Uint32Array(256);
const CRC64_TABLE_LO = new Uint32Array(256);
{
  const polynomial = 0x9a6c9329ac4bc9b5n;
  for (let n = 0; n < 256; n++) {
    let c = BigInt(n);
    for (let k = 0; k < 8; k++) c = c & 1n ? (c >> 1n) ^ polynomial : c >> 1n;
    CRC64_TABLE_HI[n] = Number(c >> 32n);
    CRC64_TABLE_LO[n] = Number(c & 0xffffffffn);
  }
}

function crc64Nvme(): IncrementalChecksum {
  let hi = 0xffffffff;
  let lo = 0xffffffff;
  return {
    update(chunk) {
      let h = hi;
      let l = lo;
      for (let i = 0; i < chunk.length; i++) {
        const index = (l ^ (chunk[i] as number)) & 0xff;
        l = (((l >>> 8) | (h << 24)) ^ (CRC64_TABLE_LO[index] as number)) >>> 0;
        h = ((h >>> 8) ^ (CRC64_TABLE_HI[index] as number)) >>> 0;
      }
      hi = h;
      lo = l;
    },
    digest() {
      const out = Buffer.alloc(8);
      out.writeUInt32BE((hi ^ 0xffffffff) >>> 0, 0);
      out.writeUInt32BE((lo ^ 0xffffffff) >>> 0, 4);
      return out;
    },
  };
}
