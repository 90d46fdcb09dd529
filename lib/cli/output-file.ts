import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** Writing the output file failed (not Atlas): exit code 4. */
export class OutputFileError extends Error {
  override readonly name = 'OutputFileError';
}

/**
 * Streams `source` (through `through`, e.g. the progress counter) into `target` atomically: the bytes go to a
 * temporary file in the same directory, are flushed to disk, and the file is renamed over `target` only when the
 * stream ended without error. On any failure the temporary file is removed and `target` is left untouched.
 * Returns the number of bytes written.
 */
export async function writeFileAtomically(
  target: string,
  source: Readable | (NodeJS.ReadableStream & AsyncIterable<Uint8Array>),
  through: Transform[],
): Promise<number> {
  const temp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.part`);
  let written = 0;
  let fileError: NodeJS.ErrnoException | undefined;
  try {
    const file = createWriteStream(temp, { flags: 'wx', mode: 0o644 });
    file.on('error', (error) => {
      fileError = error;
    });
    await pipeline([source as Readable, ...through, file]);
    written = file.bytesWritten;
  } catch (error) {
    await unlink(temp).catch(() => {});
    // A failure of the file is ours (exit 4); anything else is the download's and is rethrown as it is.
    if (fileError !== undefined) {
      throw new OutputFileError(`could not write ${target}: ${fileError.code ?? 'error'}`, {
        cause: fileError,
      });
    }
    throw error;
  }
  try {
    const handle = await open(temp, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  } catch (error) {
    await unlink(temp).catch(() => {});
    throw new OutputFileError(
      `could not write ${target}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
      {
        cause: error,
      },
    );
  }
  return written;
}
