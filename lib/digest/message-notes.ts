import { SLACK_LIMITS } from '../slack/mrkdwn';
import type { SpendMessage } from '../spend/messages';

/**
 * `message` with a section per note (escaped mrkdwn) before its closing context line, if it ends with one, and
 * within Block Kit's 50 blocks.
 */
export function withNotes(message: SpendMessage, notes: readonly string[]): SpendMessage {
  if (notes.length === 0) return message;
  const blocks = [...message.blocks];
  const at = blocks.at(-1)?.type === 'context' ? blocks.length - 1 : blocks.length;
  blocks.splice(at, 0, ...notes.map((text) => ({ type: 'section', text: { type: 'mrkdwn', text } })));
  return { text: message.text, blocks: blocks.slice(0, SLACK_LIMITS.blocksPerMessage) };
}
