import { checkDeployParameters } from '../../lib/config';

/**
 * The deployment parameters' check, for the build plugin (build-plugin.cjs): reads `{"name": "value", ...}` on
 * standard input, writes one line per bad parameter to standard output and exits 1, or writes nothing and exits 0.
 * The rules are lib/config.ts's, the same the functions apply to their environment at start.
 */
async function main(): Promise<number> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk));
  const params = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, string>;
  const problems = checkDeployParameters(params);
  for (const problem of problems) process.stdout.write(`${problem}\n`);
  return problems.length === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `could not check the parameters: ${error instanceof Error ? error.message : error}\n`,
    );
    process.exitCode = 2;
  },
);
