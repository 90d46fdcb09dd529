/**
 * Block Kit validation as Slack applies it to chat.postMessage, incoming webhooks and response_url posts: the
 * documented limits (https://docs.slack.dev/reference/block-kit/blocks), reported the way Slack reports them, one
 * string per problem ending in `[json-pointer:/blocks/0/text/text]`. Independent of the app's own SLACK_LIMITS on
 * purpose: the stand-in is the referee, not a copy of the player.
 */
export const BLOCK_KIT_LIMITS = {
  blocksPerMessage: 50,
  blockId: 255,
  actionId: 255,
  sectionText: 3000,
  sectionFields: 10,
  fieldText: 2000,
  headerText: 150,
  contextElements: 10,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2000,
  url: 3000,
  imageAltText: 2000,
  imageTitle: 2000,
  markdownText: 12000,
  /** Top-level `text`: longer messages are refused with `msg_too_long`. */
  messageText: 40000,
} as const;

const BLOCK_TYPES = new Set([
  'section',
  'header',
  'divider',
  'context',
  'actions',
  'image',
  'rich_text',
  'markdown',
  'input',
  'video',
  'file',
  'table',
  'context_actions',
]);

type Json = Record<string, unknown>;

/** A JSON object (not null, not an array). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Problems with a `blocks` array; empty when Slack would accept it. */
export function validateBlocks(blocks: unknown): string[] {
  const errors: string[] = [];
  const report = (message: string, pointer: string) => errors.push(`${message} [json-pointer:${pointer}]`);
  if (!Array.isArray(blocks)) {
    report('must provide an array', '/blocks');
    return errors;
  }
  if (blocks.length > BLOCK_KIT_LIMITS.blocksPerMessage) {
    report(`no more than ${BLOCK_KIT_LIMITS.blocksPerMessage} items allowed`, '/blocks');
  }
  const blockIds = new Set<string>();
  blocks.forEach((block, index) => {
    const at = `/blocks/${index}`;
    if (!isObject(block)) {
      report('must provide an object', at);
      return;
    }
    if (block.block_id !== undefined) {
      if (typeof block.block_id !== 'string' || block.block_id === '')
        report('must provide a string', `${at}/block_id`);
      else if (block.block_id.length > BLOCK_KIT_LIMITS.blockId) {
        report(`must be less than ${BLOCK_KIT_LIMITS.blockId + 1} characters`, `${at}/block_id`);
      } else if (blockIds.has(block.block_id)) report('duplicate block_id', `${at}/block_id`);
      else blockIds.add(block.block_id);
    }
    if (typeof block.type !== 'string' || !BLOCK_TYPES.has(block.type)) {
      report('must be a valid enum value', `${at}/type`);
      return;
    }
    validateBlock(block, at, report);
  });
  return errors;
}

type Report = (message: string, pointer: string) => void;

function validateBlock(block: Json, at: string, report: Report): void {
  switch (block.type) {
    case 'section': {
      if (block.text === undefined && block.fields === undefined) {
        report('must provide either text or fields', at);
      }
      if (block.text !== undefined)
        validateText(block.text, `${at}/text`, BLOCK_KIT_LIMITS.sectionText, report);
      if (block.fields !== undefined) {
        if (!Array.isArray(block.fields) || block.fields.length === 0) {
          report('must provide a non-empty array', `${at}/fields`);
        } else {
          if (block.fields.length > BLOCK_KIT_LIMITS.sectionFields) {
            report(`no more than ${BLOCK_KIT_LIMITS.sectionFields} items allowed`, `${at}/fields`);
          }
          block.fields.forEach((field, i) => {
            validateText(field, `${at}/fields/${i}`, BLOCK_KIT_LIMITS.fieldText, report);
          });
        }
      }
      if (block.accessory !== undefined) validateElement(block.accessory, `${at}/accessory`, report);
      return;
    }
    case 'header':
      validateText(block.text, `${at}/text`, BLOCK_KIT_LIMITS.headerText, report, 'plain_text');
      return;
    case 'context': {
      elementsOf(block, at, BLOCK_KIT_LIMITS.contextElements, report).forEach((element, i) => {
        const pointer = `${at}/elements/${i}`;
        if (isObject(element) && element.type === 'image') validateImage(element, pointer, report);
        else validateText(element, pointer, BLOCK_KIT_LIMITS.sectionText, report);
      });
      return;
    }
    case 'actions': {
      const actionIds = new Set<string>();
      elementsOf(block, at, BLOCK_KIT_LIMITS.actionsElements, report).forEach((element, i) => {
        validateElement(element, `${at}/elements/${i}`, report);
        if (isObject(element) && typeof element.action_id === 'string') {
          if (actionIds.has(element.action_id))
            report('duplicate action_id', `${at}/elements/${i}/action_id`);
          actionIds.add(element.action_id);
        }
      });
      return;
    }
    case 'image':
      validateImage(block, at, report);
      if (block.title !== undefined)
        validateText(block.title, `${at}/title`, BLOCK_KIT_LIMITS.imageTitle, report, 'plain_text');
      return;
    case 'markdown':
      if (typeof block.text !== 'string' || block.text === '') report('must provide a string', `${at}/text`);
      else if (block.text.length > BLOCK_KIT_LIMITS.markdownText) {
        report(`must be less than ${BLOCK_KIT_LIMITS.markdownText + 1} characters`, `${at}/text`);
      }
      return;
    case 'rich_text':
      if (!Array.isArray(block.elements)) report('must provide an array', `${at}/elements`);
      return;
    default:
      return;
  }
}

/** A context or actions block's `elements`: a non-empty array of at most `max` (none to check when it is not one). */
function elementsOf(block: Json, at: string, max: number, report: Report): readonly unknown[] {
  if (!Array.isArray(block.elements) || block.elements.length === 0) {
    report('must provide a non-empty array', `${at}/elements`);
    return [];
  }
  if (block.elements.length > max) report(`no more than ${max} items allowed`, `${at}/elements`);
  return block.elements;
}

function validateText(
  value: unknown,
  at: string,
  max: number,
  report: Report,
  only?: 'plain_text' | 'mrkdwn',
): void {
  if (!isObject(value)) {
    report('must provide an object', at);
    return;
  }
  if (value.type !== 'plain_text' && value.type !== 'mrkdwn') {
    report('must be a valid enum value', `${at}/type`);
    return;
  }
  if (only !== undefined && value.type !== only) {
    report('must be a valid enum value', `${at}/type`);
    return;
  }
  if (typeof value.text !== 'string') {
    report('must provide a string', `${at}/text`);
    return;
  }
  if (value.text.length === 0) report('must be more than 0 characters', `${at}/text`);
  if (value.text.length > max) report(`must be less than ${max + 1} characters`, `${at}/text`);
}

/** A slack_file's `id`, as Slack's schema states it. */
const SLACK_FILE_ID = /^[F][A-Z0-9]{8,}$/;

function validateImage(image: Json, at: string, report: Report): void {
  const hasFile = image.slack_file !== undefined;
  if (typeof image.image_url !== 'string' && !isObject(image.slack_file)) {
    report('must provide image_url or slack_file', at);
  } else if (typeof image.image_url === 'string' && hasFile) {
    report('must provide only one of image_url or slack_file', at);
  } else if (typeof image.image_url === 'string' && image.image_url.length > BLOCK_KIT_LIMITS.url) {
    report(`must be less than ${BLOCK_KIT_LIMITS.url + 1} characters`, `${at}/image_url`);
  } else if (isObject(image.slack_file)) {
    const { id, url } = image.slack_file;
    if ((id === undefined) === (url === undefined)) {
      report('must provide exactly one of id or url', `${at}/slack_file`);
    } else if (id !== undefined && (typeof id !== 'string' || !SLACK_FILE_ID.test(id))) {
      report(`input must match regex pattern: ${SLACK_FILE_ID.source}`, `${at}/slack_file/id`);
    } else if (url !== undefined && typeof url !== 'string') {
      report('must provide a string', `${at}/slack_file/url`);
    }
  }
  if (typeof image.alt_text !== 'string' || image.alt_text === '')
    report('must provide a string', `${at}/alt_text`);
  else if (image.alt_text.length > BLOCK_KIT_LIMITS.imageAltText) {
    report(`must be less than ${BLOCK_KIT_LIMITS.imageAltText + 1} characters`, `${at}/alt_text`);
  }
}

function validateElement(element: unknown, at: string, report: Report): void {
  if (!isObject(element) || typeof element.type !== 'string') {
    report('must provide an object with a type', at);
    return;
  }
  if (element.action_id !== undefined) {
    if (typeof element.action_id !== 'string' || element.action_id === '') {
      report('must provide a string', `${at}/action_id`);
    } else if (element.action_id.length > BLOCK_KIT_LIMITS.actionId) {
      report(`must be less than ${BLOCK_KIT_LIMITS.actionId + 1} characters`, `${at}/action_id`);
    }
  }
  if (element.type === 'image') {
    validateImage(element, at, report);
    return;
  }
  if (element.type !== 'button') return;
  validateText(element.text, `${at}/text`, BLOCK_KIT_LIMITS.buttonText, report, 'plain_text');
  if (element.url !== undefined) {
    if (typeof element.url !== 'string') report('must provide a string', `${at}/url`);
    else if (element.url.length > BLOCK_KIT_LIMITS.url) {
      report(`must be less than ${BLOCK_KIT_LIMITS.url + 1} characters`, `${at}/url`);
    }
  }
  if (element.value !== undefined) {
    if (typeof element.value !== 'string') report('must provide a string', `${at}/value`);
    else if (element.value.length > BLOCK_KIT_LIMITS.buttonValue) {
      report(`must be less than ${BLOCK_KIT_LIMITS.buttonValue + 1} characters`, `${at}/value`);
    }
  }
  if (element.style !== undefined && element.style !== 'primary' && element.style !== 'danger') {
    report('must be a valid enum value', `${at}/style`);
  }
}
