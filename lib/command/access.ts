import type { SlackAccess } from '../config';
import { isSlackId } from '../ids';

/** Who sent a command or clicked a button, as Slack's signed payload names them. */
export interface SlackRequester {
  readonly teamId?: string | undefined;
  readonly channelId?: string | undefined;
  readonly userId?: string | undefined;
}

/**
 * True when the requester may see billing data: the workspace is allowed and, when the lists are set, the channel
 * and the user too. A missing or malformed id is never allowed. The caller answers every refusal with the same text,
 * so nobody learns which check failed.
 */
export function isAllowed(access: SlackAccess, who: SlackRequester): boolean {
  if (!isSlackId(who.teamId) || !access.teamIds.has(who.teamId)) return false;
  if (
    access.channelIds !== undefined &&
    !(isSlackId(who.channelId) && access.channelIds.has(who.channelId))
  ) {
    return false;
  }
  if (access.userIds !== undefined && !(isSlackId(who.userId) && access.userIds.has(who.userId)))
    return false;
  return true;
}
