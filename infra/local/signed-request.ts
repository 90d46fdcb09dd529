import { randomBytes } from 'node:crypto';
import { signSlackRequest } from '../../lib/slack/edge/signature';

/**
 * A slash-command request exactly as Slack sends one (form-encoded fields, `X-Slack-Request-Timestamp`,
 * `X-Slack-Signature` over `v0:{timestamp}:{body}`), signed with the local run's signing secret, and the `curl`
 * command that sends it. Slack's receivers refuse a timestamp more than five minutes old, so a printed command is
 * good for five minutes.
 */

export interface SlashCommandSpec {
  /** The slash-command endpoint, e.g. `http://127.0.0.1:3000/slack/events`. */
  readonly url: string;
  readonly signingSecret: string;
  /** What follows `/invoice`. */
  readonly text: string;
  readonly teamId: string;
  readonly channelId: string;
  readonly userId: string;
  readonly responseUrl: string;
  /** Default `/invoice`. */
  readonly command?: string;
  /** Epoch milliseconds of the signature. */
  readonly at: number;
}

export interface SignedRequest {
  readonly url: string;
  readonly method: 'POST';
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export const SIGNATURE_LIFETIME_SECONDS = 300;

export function signedSlashCommand(spec: SlashCommandSpec): SignedRequest {
  const body = new URLSearchParams({
    token: 'local-verification-token',
    team_id: spec.teamId,
    team_domain: 'local',
    channel_id: spec.channelId,
    channel_name: 'billing',
    user_id: spec.userId,
    user_name: 'local-user',
    command: spec.command ?? '/invoice',
    text: spec.text,
    api_app_id: 'A0LOCAL00',
    is_enterprise_install: 'false',
    response_url: spec.responseUrl,
    trigger_id: `${Date.now()}.${randomBytes(6).toString('hex')}`,
  }).toString();
  const timestamp = String(Math.floor(spec.at / 1000));
  return {
    url: spec.url,
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      'X-Slack-Request-Timestamp': timestamp,
      'X-Slack-Signature': signSlackRequest(spec.signingSecret, timestamp, body),
    },
    body,
  };
}

/** A POSIX shell word: single-quoted unless it is plainly safe. */
export function shellQuote(word: string): string {
  if (/^[\w@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** The request as a `curl` command, one option per line (backslash continuations), ready to paste into a shell. */
export function toCurl(request: SignedRequest, indent = ''): string {
  const lines = [`curl -sS -X ${request.method} ${shellQuote(request.url)}`];
  for (const [name, value] of Object.entries(request.headers))
    lines.push(`-H ${shellQuote(`${name}: ${value}`)}`);
  lines.push(`--data-raw ${shellQuote(request.body)}`);
  return lines.map((line, i) => `${indent}${i === 0 ? '' : '  '}${line}`).join(' \\\n');
}
