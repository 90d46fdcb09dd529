/**
 * Throughput of the invoice-CSV inspector (SHA-256 + byte count + parse + summary, bytes passed through) against a
 * plain PassThrough that only hashes, over the same generated CSV held in memory.
 *
 *   npx tsx test/bench/csv-inspector.bench.ts [megabytes=200] [rounds=3]
 *
 * Prints MB/s for both, best of the rounds, and the time ratio inspector / plain (the archive budget is 1.3x for the
 * whole upload path, where the network usually dominates).
 */
import { createHash } from 'node:crypto';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createCsvInspector } from '../../lib/invoices/csv-summary';

const MB = 1024 * 1024;
const CHUNK_BYTES = 64 * 1024;

const HEADER =
  'Date,Usage Date,Description,Note,Organization Name,Organization ID,Project,Project ID,SKU,Region,Cluster,' +
  'Replica Set,Config Server,Application,Unit,Unit Price,Quantity,Discount Percent,Amount';
const SKUS = [
  'ATLAS_AWS_INSTANCE_M10',
  'ATLAS_AWS_INSTANCE_M30',
  'ATLAS_AWS_DATA_TRANSFER_SAME_REGION',
  'ATLAS_AWS_STORAGE_PROVISIONED',
  'ATLAS_BACKUP_SNAPSHOT_STORAGE',
  'ATLAS_DATA_LAKE_AWS_DATA_SCANNED',
  'ATLAS_SUPPORT',
];

/** A deterministic Atlas-shaped CSV of about `bytes` bytes, as 64 KiB chunks. */
function generateCsv(bytes: number): Buffer[] {
  const chunks: Buffer[] = [];
  let pending: string[] = [
    'Invoice Number,666acb8787ba43606905dcae,',
    'Billing Period,"June 1, 2024 - July 1, 2024",',
    'Organization Name,Bench Org,',
    'Organization ID,666acb8787ba43606905dcac,',
    '',
    HEADER,
  ];
  let pendingBytes = 0;
  let total = 0;
  let seed = 42;
  const random = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const flush = () => {
    const buf = Buffer.from(`${pending.join('\n')}\n`);
    for (let offset = 0; offset < buf.length; offset += CHUNK_BYTES) {
      chunks.push(buf.subarray(offset, offset + CHUNK_BYTES));
    }
    total += buf.length;
    pending = [];
    pendingBytes = 0;
  };
  let row = 0;
  while (total + pendingBytes < bytes) {
    const project = row % 40;
    const sku = SKUS[row % SKUS.length] as string;
    const day = String((row % 30) + 1).padStart(2, '0');
    const quantity = (random() * 720).toFixed(4);
    const amount = (random() * 900 - 50).toFixed(2);
    const note = row % 50 === 0 ? '"Includes ""discount"", see note\nline two"' : '';
    const line = `06/${day}/2024,06/${day}/2024,Atlas ${sku} usage,${note},Bench Org,666acb8787ba43606905dcac,Project ${project},66${String(project).padStart(22, '0')},${sku},US_EAST_1,Cluster${project},atlas-${project}-shard-0,,,hours,0.0800,${quantity},0,${amount}`;
    pending.push(line);
    pendingBytes += line.length + 1;
    row++;
    if (pendingBytes > 4 * MB) flush();
  }
  flush();
  // Re-chunk into exact 64 KiB pieces so both runs see identical chunking.
  const all = Buffer.concat(chunks);
  const out: Buffer[] = [];
  for (let offset = 0; offset < all.length; offset += CHUNK_BYTES)
    out.push(all.subarray(offset, offset + CHUNK_BYTES));
  return out;
}

function sink(): Writable {
  return new Writable({
    write(_chunk, _encoding, callback) {
      callback();
    },
  });
}

async function plainCopy(chunks: Buffer[]): Promise<string> {
  const hash = createHash('sha256');
  const through = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback(null, chunk);
    },
  });
  await pipeline(Readable.from(chunks), through, sink());
  return hash.digest('hex');
}

async function inspected(chunks: Buffer[]): Promise<string> {
  const inspector = createCsvInspector();
  await pipeline(Readable.from(chunks), inspector.stream, sink());
  const { sha256, summary } = await inspector.result();
  if (summary.malformedRows !== 0) throw new Error(`unexpected malformed rows: ${summary.malformedRows}`);
  return sha256;
}

async function time(run: () => Promise<string>): Promise<{ seconds: number; sha256: string }> {
  const started = process.hrtime.bigint();
  const sha256 = await run();
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, sha256 };
}

async function main(): Promise<void> {
  const megabytes = Number(process.argv[2] ?? 200);
  const rounds = Number(process.argv[3] ?? 3);
  const chunks = generateCsv(megabytes * MB);
  const size = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  console.log(`CSV: ${(size / MB).toFixed(1)} MB in ${chunks.length} chunks of ${CHUNK_BYTES / 1024} KiB`);
  let bestPlain = Number.POSITIVE_INFINITY;
  let bestInspector = Number.POSITIVE_INFINITY;
  for (let round = 1; round <= rounds; round++) {
    const plain = await time(() => plainCopy(chunks));
    const inspector = await time(() => inspected(chunks));
    if (plain.sha256 !== inspector.sha256) throw new Error('hash mismatch between plain copy and inspector');
    bestPlain = Math.min(bestPlain, plain.seconds);
    bestInspector = Math.min(bestInspector, inspector.seconds);
    console.log(
      `round ${round}: plain ${(size / MB / plain.seconds).toFixed(0)} MB/s, inspector ${(size / MB / inspector.seconds).toFixed(0)} MB/s`,
    );
  }
  const plainRate = size / MB / bestPlain;
  const inspectorRate = size / MB / bestInspector;
  console.log('');
  console.log(`plain PassThrough + sha256  ${plainRate.toFixed(0).padStart(6)} MB/s`);
  console.log(`inspector (hash + summary)  ${inspectorRate.toFixed(0).padStart(6)} MB/s`);
  console.log(`time ratio inspector/plain  ${(bestInspector / bestPlain).toFixed(2)}x`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
