import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { shellQuote, signedSlashCommand, toCurl } from '../../infra/local/signed-request';
import { verifySlackSignature } from '../../lib/slack/edge/signature';

const SECRET = 'local-signing-secret-0123456789ab';
const AT = Date.UTC(2026, 10, 21, 12, 0, 0);

function request(text: string) {
  return signedSlashCommand({
    url: 'http://127.0.0.1:3000/slack/events',
    signingSecret: SECRET,
    text,
    teamId: 'T0LOCAL00',
    channelId: 'C0LOCAL00',
    userId: 'U0LOCALUSER',
    responseUrl: 'http://127.0.0.1:4000/commands/T0LOCAL00/1/abc',
    at: AT,
  });
}

describe('signedSlashCommand', () => {
  it('signs the form body as Slack does, verifiable within five minutes', () => {
    const signed = request('632b82371229653be9604753');

    const check = {
      signingSecret: SECRET,
      body: signed.body,
      signature: signed.headers['X-Slack-Signature'],
      timestamp: signed.headers['X-Slack-Request-Timestamp'],
    };

    expect(verifySlackSignature({ ...check, now: AT + 60_000 })).toBe('ok');
    expect(verifySlackSignature({ ...check, now: AT + 6 * 60_000 })).toBe('stale');
    expect(verifySlackSignature({ ...check, signingSecret: 'another-secret', now: AT })).toBe('mismatch');
  });

  it('carries the slash command fields, the text form-encoded', () => {
    const form = new URLSearchParams(request("it's & <odd>").body);

    expect(form.get('command')).toBe('/invoice');
    expect(form.get('text')).toBe("it's & <odd>");
    expect(form.get('team_id')).toBe('T0LOCAL00');
    expect(form.get('channel_id')).toBe('C0LOCAL00');
    expect(form.get('user_id')).toBe('U0LOCALUSER');
    expect(form.get('response_url')).toBe('http://127.0.0.1:4000/commands/T0LOCAL00/1/abc');
  });
});

describe('shellQuote and toCurl', () => {
  it('quotes words so a POSIX shell reads them back unchanged', () => {
    const words = ["it's", 'a b', '$HOME', '`x`', 'v0=abc', 'p&q;r|s', '"q"', 'ü'];

    const echoed = execFileSync('sh', ['-c', `printf '%s\\n' ${words.map(shellQuote).join(' ')}`], {
      encoding: 'utf8',
    });

    expect(echoed.split('\n').slice(0, -1)).toEqual(words);
  });

  it('renders a curl command whose words are the request', () => {
    const signed = request("it's");
    const curl = toCurl(signed);

    const argv = execFileSync('sh', ['-c', `printf '%s\\n' ${curl.replace(/^curl /, '')}`], {
      encoding: 'utf8',
    })
      .split('\n')
      .slice(0, -1);

    expect(argv).toEqual([
      '-sS',
      '-X',
      'POST',
      signed.url,
      '-H',
      'Content-Type: application/x-www-form-urlencoded',
      '-H',
      `X-Slack-Request-Timestamp: ${signed.headers['X-Slack-Request-Timestamp']}`,
      '-H',
      `X-Slack-Signature: ${signed.headers['X-Slack-Signature']}`,
      '--data-raw',
      signed.body,
    ]);
  });
});
