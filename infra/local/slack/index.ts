export {
  mrkdwnToText,
  type RenderableMessage,
  type RenderOptions,
  renderMessage,
} from '../../../lib/slack/render-text';
export { BLOCK_KIT_LIMITS, validateBlocks } from './block-kit';
export { shouldUseColor } from './color';
export {
  type ChannelState,
  LOCAL_SLACK_BOT_ID,
  LOCAL_SLACK_BOT_TOKEN,
  LOCAL_SLACK_BOT_USER_ID,
  LOCAL_SLACK_CHANNEL,
  LOCAL_SLACK_TEAM_ID,
  type SlackFault,
  type SlackMessage,
  type SlackMessageKind,
  type SlackRequestRecord,
  type SlackStandIn,
  type SlackStandInOptions,
  type SlackUploadedFile,
  startSlackStandIn,
} from './slack-stand-in';
