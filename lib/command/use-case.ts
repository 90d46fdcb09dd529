import { type DownloadLinkDeps, type DownloadLinkInput, handleDownloadLink } from './handle-download-link';
import {
  handleInvoiceCommand,
  type InvoiceCommandDeps,
  type InvoiceCommandInput,
} from './handle-invoice-command';
import type { SlackReply } from './replies';

/** What both answers read; built once per cold start by the handler (`buildCommandDeps` in functions/). */
export type CommandDeps = InvoiceCommandDeps & DownloadLinkDeps;

/**
 * The slash-command function's use case as the Slack edge sees it: plain inputs (who asked, what they typed or
 * clicked, when the request arrived) in, plain reply objects out. It knows nothing of HTTP, signatures or Bolt.
 * Expected failures (bad input, S3 or Atlas trouble, a slow Atlas) are answered; anything unexpected is thrown for
 * the edge, which logs it once and answers with the safe message.
 */
export interface CommandUseCase {
  /** `/invoice …`: the reply to acknowledge the command with. */
  answerCommand(input: InvoiceCommandInput): Promise<SlackReply>;
  /** "Get download link": the ephemeral reply to post on the button's response_url. */
  answerDownloadLink(input: DownloadLinkInput): Promise<SlackReply>;
}

export function createCommandUseCase(deps: CommandDeps): CommandUseCase {
  return {
    answerCommand: (input) => handleInvoiceCommand(deps, input),
    answerDownloadLink: (input) => handleDownloadLink(deps, input),
  };
}
