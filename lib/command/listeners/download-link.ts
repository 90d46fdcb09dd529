import { describeError } from '../../errors';
import { type DownloadLinkDeps, handleDownloadLink } from '../handle-download-link';
import { buttonErrorReply, internalErrorReply, type SlackReply } from '../replies';

/** What the listener reads from Bolt's block_actions arguments. */
export interface DownloadLinkListenerArgs {
  readonly body: {
    readonly team?: { readonly id?: string } | null;
    readonly user?: { readonly id?: string; readonly team_id?: string };
    readonly channel?: { readonly id?: string };
  };
  readonly action: { readonly value?: string | undefined };
  readonly ack: () => Promise<void>;
  /** Posts to the action's response_url; absent when Slack sent none. Throws when Slack refuses the post. */
  readonly respond?: ((reply: SlackReply) => Promise<unknown>) | undefined;
}

/**
 * The "Get download link" button. Acks at once (an empty 200 leaves the channel message as it is), then posts the
 * ephemeral answer through response_url. A failure of the use case is answered with the safe message; a failed post
 * to response_url is thrown, after the ack, for `app.error` to log.
 */
export function createDownloadLinkListener(deps: DownloadLinkDeps) {
  return async ({ body, action, ack, respond }: DownloadLinkListenerArgs): Promise<void> => {
    await ack();
    let reply: SlackReply;
    try {
      reply = await handleDownloadLink(deps, {
        value: action.value,
        teamId: body.team?.id ?? body.user?.team_id,
        channelId: body.channel?.id,
        userId: body.user?.id,
      });
    } catch (error) {
      deps.log.error('answering the download button failed', { error: describeError(error) });
      reply = buttonErrorReply(internalErrorReply());
    }
    if (respond === undefined) {
      deps.log.warn('a download button arrived without a response_url');
      return;
    }
    await respond(reply);
  };
}

/** URL buttons still send an interaction; acknowledging it keeps Slack from flagging the click as failed. */
export async function acknowledgeUrlButton({ ack }: { readonly ack: () => Promise<void> }): Promise<void> {
  await ack();
}
