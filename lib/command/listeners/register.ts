import type App from '@slack/bolt/dist/App';
import type { RespondArguments } from '@slack/bolt/dist/types';
import { DOWNLOAD_LINK_ACTION_ID, type DownloadLinkDeps } from '../handle-download-link';
import type { InvoiceCommandDeps } from '../handle-invoice-command';
import { DOWNLOAD_BUTTON_ACTION_ID, type SlackReply } from '../replies';
import { acknowledgeUrlButton, createDownloadLinkListener } from './download-link';
import { createInvoiceCommandListener } from './invoice-command';

export type ListenerDeps = InvoiceCommandDeps & DownloadLinkDeps;

/**
 * Every listener, registered in one place. The command matches any name, because the app manifest decides it
 * (`/invoice`, or another name where a workspace already has one); this function serves only this app's requests.
 * Our replies are plain Block Kit objects; Bolt's types want its own block unions, hence the one cast here.
 */
export function registerListeners(app: App, deps: ListenerDeps): void {
  const onCommand = createInvoiceCommandListener(deps);
  const onDownload = createDownloadLinkListener(deps);
  app.command(/^\/[\w-]+$/, async ({ command, ack, context }) => {
    await onCommand({ command, ack: (reply) => ack(reply as RespondArguments), context });
  });
  app.action(
    { type: 'block_actions', action_id: DOWNLOAD_LINK_ACTION_ID },
    async ({ body, action, ack, respond }) => {
      await onDownload({
        body: {
          team: body.team,
          user: body.user,
          channel: 'channel' in body ? body.channel : undefined,
        },
        action: { value: 'value' in action && typeof action.value === 'string' ? action.value : undefined },
        ack: () => ack(),
        respond: (reply: SlackReply) => respond(reply as RespondArguments),
      });
    },
  );
  app.action({ type: 'block_actions', action_id: DOWNLOAD_BUTTON_ACTION_ID }, acknowledgeUrlButton);
}
