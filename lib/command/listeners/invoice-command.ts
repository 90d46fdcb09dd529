import { describeError } from '../../errors';
import { handleInvoiceCommand, type InvoiceCommandDeps } from '../handle-invoice-command';
import { internalErrorReply, type SlackReply } from '../replies';
import { scopeOf } from '../request-scope';

/** What the listener reads from Bolt's slash-command arguments. */
export interface CommandListenerArgs {
  readonly command: {
    readonly command?: string;
    readonly text?: string;
    readonly team_id?: string;
    readonly channel_id?: string;
    readonly user_id?: string;
  };
  readonly ack: (reply: SlackReply) => Promise<void>;
  readonly context?: unknown;
}

/**
 * The slash-command listener. It acknowledges exactly once, with the answer itself: Bolt's Lambda receiver sends the
 * HTTP response only after the listener returns, so there is nothing to gain from an early empty ack. Any failure of
 * the use case is logged once and answered with the safe message; it never propagates.
 */
export function createInvoiceCommandListener(deps: InvoiceCommandDeps) {
  return async ({ command, ack, context }: CommandListenerArgs): Promise<void> => {
    let reply: SlackReply;
    try {
      reply = await handleInvoiceCommand(deps, {
        text: command.text,
        command: command.command ?? '/invoice',
        teamId: command.team_id,
        channelId: command.channel_id,
        userId: command.user_id,
        receivedAt: scopeOf(context)?.receivedAt,
      });
    } catch (error) {
      deps.log.error('answering the slash command failed', { error: describeError(error) });
      reply = internalErrorReply();
    }
    await ack(reply);
  };
}
