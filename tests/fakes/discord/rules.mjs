// The rules Discord enforces that the OpenAPI spec does not encode (reference/discord.md §4,
// and the limits in resources/message.mdx, components/reference.mdx,
// interactions/receiving-and-responding.mdx and interactions/application-commands.mdx).
// Every check returns a list of problems {path: [...], code, message}; toErrors() turns the list
// into the nested `errors` object of a 50035 "Invalid Form Body" answer.
import { MSG_FLAG } from './state.mjs';

// Discord's API counts characters (code points), not UTF-16 units.
export const len = (s) => (typeof s === 'string' ? [...s].length : 0);
const isStr = (s) => typeof s === 'string';

const BUTTON = 2, TEXT_INPUT = 4, ACTION_ROW = 1, SECTION = 9, TEXT_DISPLAY = 10, CONTAINER = 17, LABEL = 18;
const SELECTS = new Set([3, 5, 6, 7, 8]);
const MODAL_LABEL_CHILDREN = new Set([3, 4, 5, 6, 7, 8, 19, 21, 22, 23]);
const V2_ONLY = new Set([9, 10, 11, 12, 13, 14, 17]);

export const CREATE_FLAGS = MSG_FLAG.SUPPRESS_EMBEDS | MSG_FLAG.SUPPRESS_NOTIFICATIONS | MSG_FLAG.IS_VOICE_MESSAGE | MSG_FLAG.IS_COMPONENTS_V2;
export const CALLBACK_FLAGS = CREATE_FLAGS | MSG_FLAG.EPHEMERAL;

function problem(out, path, code, message) { out.push({ path, code, message }); }
function maxLen(out, path, v, n) {
  if (isStr(v) && len(v) > n) problem(out, path, 'BASE_TYPE_MAX_LENGTH', `Must be ${n} or fewer in length.`);
}
function between(out, path, v, lo, hi) {
  if (isStr(v) && (len(v) < lo || len(v) > hi)) problem(out, path, 'BASE_TYPE_BAD_LENGTH', `Must be between ${lo} and ${hi} in length.`);
}

// ---- messages ----

// body: a message create/edit body, or the data of a type 4/7 callback, or a webhook body.
// opts.mode: 'create' (new message: flags limited to opts.allowedFlags) or 'edit';
// opts.existingFlags: flags of the message being edited (IS_COMPONENTS_V2 cannot be removed).
export function checkMessage(body, opts = {}) {
  const out = [];
  if (!body || typeof body !== 'object' || Array.isArray(body)) return out;
  const mode = opts.mode || 'create';
  const flagsIn = Number.isInteger(body.flags) ? body.flags : 0;
  if (mode === 'create' && opts.allowedFlags !== undefined && (flagsIn & ~opts.allowedFlags)) {
    problem(out, ['flags'], 'MESSAGE_FLAGS_INVALID', `Only flags ${opts.allowedFlags} may be set here (got ${flagsIn}).`);
  }
  const v2 = ((mode === 'edit' ? (opts.existingFlags || 0) : 0) | flagsIn) & MSG_FLAG.IS_COMPONENTS_V2;

  maxLen(out, ['content'], body.content, 2000);
  if (isStr(body.nonce)) maxLen(out, ['nonce'], body.nonce, 25);
  checkEmbeds(out, body.embeds);

  if (v2) {
    // IS_COMPONENTS_V2: only components; content/embeds/stickers/poll must be absent or emptied.
    for (const f of ['content', 'poll']) {
      if (body[f] !== undefined && body[f] !== null && body[f] !== '') problem(out, [f], 'MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2', `${f} cannot be used with IS_COMPONENTS_V2.`);
    }
    for (const f of ['embeds', 'sticker_ids']) {
      if (Array.isArray(body[f]) && body[f].length) problem(out, [f], 'MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2', `${f} cannot be used with IS_COMPONENTS_V2.`);
    }
  }
  if (Array.isArray(body.components)) checkMessageComponents(out, body.components, !!v2);
  return out;
}

function checkEmbeds(out, embeds) {
  if (!Array.isArray(embeds)) return;
  if (embeds.length > 10) problem(out, ['embeds'], 'BASE_TYPE_MAX_LENGTH', 'Must be 10 or fewer in length.');
  let total = 0;
  // Whitespace at both ends does not count (message.mdx §Embed Limits).
  const t = (s) => (isStr(s) ? len(s.trim()) : 0);
  embeds.forEach((e, i) => {
    if (!e || typeof e !== 'object') return;
    const p = ['embeds', i];
    const lim = (path, v, n) => { if (t(v) > n) problem(out, path, 'BASE_TYPE_MAX_LENGTH', `Must be ${n} or fewer in length.`); };
    lim([...p, 'title'], e.title, 256);
    lim([...p, 'description'], e.description, 4096);
    lim([...p, 'footer', 'text'], e.footer?.text, 2048);
    lim([...p, 'author', 'name'], e.author?.name, 256);
    total += t(e.title) + t(e.description) + t(e.footer?.text) + t(e.author?.name);
    if (Array.isArray(e.fields)) {
      if (e.fields.length > 25) problem(out, [...p, 'fields'], 'BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.');
      e.fields.forEach((f, j) => {
        if (!f || typeof f !== 'object') return;
        for (const k of ['name', 'value']) {
          if (!isStr(f[k]) || !f[k].trim()) problem(out, [...p, 'fields', j, k], 'BASE_TYPE_REQUIRED', 'This field is required');
        }
        lim([...p, 'fields', j, 'name'], f.name, 256);
        lim([...p, 'fields', j, 'value'], f.value, 1024);
        total += t(f.name) + t(f.value);
      });
    }
  });
  if (total > 6000) problem(out, ['embeds'], 'MAX_EMBED_SIZE_EXCEEDED', `Embed size exceeds maximum size of 6000 (got ${total}).`);
}

function checkMessageComponents(out, comps, v2) {
  const ids = new Map(), customIds = new Map();
  let count = 0;
  if (!v2) {
    if (comps.length > 5) problem(out, ['components'], 'BASE_TYPE_BAD_LENGTH', 'Must be between 0 and 5 in length (messages without IS_COMPONENTS_V2 hold at most 5 action rows).');
  }
  const visit = (c, path, parent) => {
    if (!c || typeof c !== 'object') return;
    count++;
    if (Number.isInteger(c.id) && c.id !== 0) {
      if (ids.has(c.id)) problem(out, [...path, 'id'], 'COMPONENT_ID_DUPLICATED', `Component id ${c.id} is already used in this message.`);
      ids.set(c.id, path);
    }
    if (!v2 && parent === null && c.type !== ACTION_ROW) {
      problem(out, [...path, 'type'], 'COMPONENT_TYPE_INVALID', `Component type ${c.type} needs IS_COMPONENTS_V2 at the top level; legacy messages hold only action rows.`);
    }
    if (!v2 && V2_ONLY.has(c.type)) problem(out, [...path, 'type'], 'COMPONENT_TYPE_INVALID', `Component type ${c.type} needs the IS_COMPONENTS_V2 flag.`);
    if (c.type === TEXT_INPUT || c.type === LABEL) problem(out, [...path, 'type'], 'COMPONENT_TYPE_INVALID', `Component type ${c.type} is only valid in modals.`);
    if ('custom_id' in c && c.custom_id !== null && c.custom_id !== undefined) {
      between(out, [...path, 'custom_id'], c.custom_id, 1, 100);
      if (customIds.has(c.custom_id)) problem(out, [...path, 'custom_id'], 'COMPONENT_CUSTOM_ID_DUPLICATED', `custom_id "${c.custom_id}" is used twice in this message.`);
      customIds.set(c.custom_id, path);
    }
    if (c.type === ACTION_ROW) checkActionRow(out, c, path, false);
    if (c.type === BUTTON) checkButton(out, c, path);
    if (SELECTS.has(c.type)) checkSelect(out, c, path, false);
    if (c.type === SECTION && Array.isArray(c.components) && (c.components.length < 1 || c.components.length > 3)) {
      problem(out, [...path, 'components'], 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 3 in length.');
    }
    if (c.type === TEXT_DISPLAY) maxLen(out, [...path, 'content'], c.content, 4000);
    if (Array.isArray(c.components)) c.components.forEach((k, i) => visit(k, [...path, 'components', i], c));
    if (c.accessory) visit(c.accessory, [...path, 'accessory'], c);
  };
  comps.forEach((c, i) => visit(c, ['components', i], null));
  if (v2 && count > 40) problem(out, ['components'], 'COMPONENT_MAX_TOTAL_EXCEEDED', `A message holds at most 40 components in total (got ${count}).`);
}

function checkActionRow(out, row, path, inModal) {
  const kids = Array.isArray(row.components) ? row.components : [];
  const buttons = kids.filter((k) => k?.type === BUTTON).length;
  const selects = kids.filter((k) => SELECTS.has(k?.type)).length;
  const inputs = kids.filter((k) => k?.type === TEXT_INPUT).length;
  if (kids.length === 0) problem(out, [...path, 'components'], 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 5 in length.');
  if (inModal) {
    if (kids.length !== 1 || inputs !== 1) problem(out, [...path, 'components'], 'COMPONENT_LAYOUT_WIDTH_EXCEEDED', 'An action row in a modal holds exactly one text input.');
    return;
  }
  if (buttons > 5) problem(out, [...path, 'components'], 'BASE_TYPE_BAD_LENGTH', 'An action row holds at most 5 buttons.');
  if (selects && (selects !== 1 || kids.length !== 1)) problem(out, [...path, 'components'], 'COMPONENT_LAYOUT_WIDTH_EXCEEDED', 'An action row with a select menu holds exactly that one select.');
  if (inputs) problem(out, [...path, 'components'], 'COMPONENT_TYPE_INVALID', 'Text inputs are only valid in modals.');
}

function checkButton(out, b, path) {
  maxLen(out, [...path, 'label'], b.label, 80);
  const has = (k) => b[k] !== undefined && b[k] !== null;
  if (b.style >= 1 && b.style <= 4) {
    if (!has('custom_id')) problem(out, [...path, 'custom_id'], 'BUTTON_COMPONENT_CUSTOM_ID_REQUIRED', 'A non-link button must have a custom_id.');
    if (has('url') || has('sku_id')) problem(out, [...path], 'BUTTON_COMPONENT_INVALID', 'A non-link button cannot have a url or sku_id.');
    if (!has('label') && !has('emoji')) problem(out, [...path, 'label'], 'BUTTON_COMPONENT_LABEL_OR_EMOJI_REQUIRED', 'A button needs a label or an emoji.');
  } else if (b.style === 5) {
    if (!has('url')) problem(out, [...path, 'url'], 'BUTTON_COMPONENT_URL_REQUIRED', 'A link button must have a url.');
    if (has('custom_id')) problem(out, [...path, 'custom_id'], 'BUTTON_COMPONENT_INVALID', 'A link button cannot have a custom_id.');
    maxLen(out, [...path, 'url'], b.url, 512);
  } else if (b.style === 6) {
    if (!has('sku_id')) problem(out, [...path, 'sku_id'], 'BUTTON_COMPONENT_SKU_ID_REQUIRED', 'A premium button must have a sku_id.');
    for (const k of ['custom_id', 'label', 'url', 'emoji']) if (has(k)) problem(out, [...path, k], 'BUTTON_COMPONENT_INVALID', `A premium button cannot have ${k}.`);
  }
}

function checkSelect(out, s, path, inModal) {
  maxLen(out, [...path, 'placeholder'], s.placeholder, 150);
  if (!isStr(s.custom_id)) problem(out, [...path, 'custom_id'], 'BASE_TYPE_REQUIRED', 'This field is required');
  const min = Number.isInteger(s.min_values) ? s.min_values : 1;
  const max = Number.isInteger(s.max_values) ? s.max_values : 1;
  if (min < 0 || min > 25) problem(out, [...path, 'min_values'], 'NUMBER_TYPE_MAX', 'min_values must be between 0 and 25.');
  if (max < 1 || max > 25) problem(out, [...path, 'max_values'], 'NUMBER_TYPE_MAX', 'max_values must be between 1 and 25.');
  if (min > max) problem(out, [...path, 'min_values'], 'SELECT_COMPONENT_MIN_VALUES_INVALID', 'min_values cannot exceed max_values.');
  if (inModal && s.required !== false && s.min_values === 0) problem(out, [...path, 'min_values'], 'SELECT_COMPONENT_MIN_VALUES_INVALID', 'min_values must be at least 1 when the select is required.');
  if (inModal && 'disabled' in s) problem(out, [...path, 'disabled'], 'COMPONENT_FIELD_INVALID', '`disabled` is not allowed on selects in modals.');
  if (s.type === 3) {
    const opts = Array.isArray(s.options) ? s.options : [];
    if (opts.length < 1 || opts.length > 25) problem(out, [...path, 'options'], 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 25 in length.');
    if (max > opts.length && opts.length) problem(out, [...path, 'max_values'], 'SELECT_COMPONENT_MAX_VALUES_INVALID', `max_values (${max}) exceeds the number of options (${opts.length}).`);
    const values = new Set();
    let defaults = 0;
    opts.forEach((o, i) => {
      if (!o || typeof o !== 'object') return;
      const op = [...path, 'options', i];
      for (const k of ['label', 'value']) {
        if (!isStr(o[k]) || !o[k].length) problem(out, [...op, k], 'BASE_TYPE_REQUIRED', 'This field is required');
        maxLen(out, [...op, k], o[k], 100);
      }
      maxLen(out, [...op, 'description'], o.description, 100);
      if (values.has(o.value)) problem(out, [...op, 'value'], 'SELECT_COMPONENT_OPTION_VALUE_DUPLICATED', `Option value "${o.value}" is used twice.`);
      values.add(o.value);
      if (o.default === true) defaults++;
    });
    if (defaults > max) problem(out, [...path, 'options'], 'SELECT_COMPONENT_TOO_MANY_DEFAULTS', 'More default options than max_values.');
  } else if (Array.isArray(s.default_values) && (s.default_values.length < min || s.default_values.length > max)) {
    problem(out, [...path, 'default_values'], 'BASE_TYPE_BAD_LENGTH', `Must be between ${min} and ${max} in length.`);
  }
}

// ---- modals (callback type 9) ----

export function checkModal(data) {
  const out = [];
  if (!data || typeof data !== 'object') { problem(out, ['data'], 'BASE_TYPE_REQUIRED', 'This field is required'); return out; }
  const p = ['data'];
  between(out, [...p, 'custom_id'], data.custom_id, 1, 100);
  between(out, [...p, 'title'], data.title, 1, 45);
  const comps = Array.isArray(data.components) ? data.components : [];
  if (comps.length < 1 || comps.length > 5) problem(out, [...p, 'components'], 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 5 in length.');
  const customIds = new Set();
  const input = (c, path, inLabel) => {
    if (!c || typeof c !== 'object') return;
    if (isStr(c.custom_id)) {
      between(out, [...path, 'custom_id'], c.custom_id, 1, 100);
      if (customIds.has(c.custom_id)) problem(out, [...path, 'custom_id'], 'COMPONENT_CUSTOM_ID_DUPLICATED', `custom_id "${c.custom_id}" is used twice in this modal.`);
      customIds.add(c.custom_id);
    } else problem(out, [...path, 'custom_id'], 'BASE_TYPE_REQUIRED', 'This field is required');
    if (c.type === TEXT_INPUT) {
      if (c.style !== 1 && c.style !== 2) problem(out, [...path, 'style'], 'BASE_TYPE_CHOICES', 'Value must be one of {1, 2}.');
      const min = c.min_length, max = c.max_length;
      if (min !== undefined && min !== null && (!Number.isInteger(min) || min < 0 || min > 4000)) problem(out, [...path, 'min_length'], 'NUMBER_TYPE_MAX', 'min_length must be between 0 and 4000.');
      if (max !== undefined && max !== null && (!Number.isInteger(max) || max < 1 || max > 4000)) problem(out, [...path, 'max_length'], 'NUMBER_TYPE_MAX', 'max_length must be between 1 and 4000.');
      if (Number.isInteger(min) && Number.isInteger(max) && min > max) problem(out, [...path, 'min_length'], 'TEXT_INPUT_LENGTH_INVALID', 'min_length cannot exceed max_length.');
      maxLen(out, [...path, 'value'], c.value, 4000);
      if (isStr(c.value) && Number.isInteger(max) && len(c.value) > max) problem(out, [...path, 'value'], 'BASE_TYPE_MAX_LENGTH', `Must be ${max} or fewer in length.`);
      maxLen(out, [...path, 'placeholder'], c.placeholder, 100);
      // In an action row (deprecated layout) the text input carries its own label (≤45).
      if (!inLabel) {
        if (!isStr(c.label) || !c.label.length) problem(out, [...path, 'label'], 'BASE_TYPE_REQUIRED', 'This field is required');
        maxLen(out, [...path, 'label'], c.label, 45);
      }
    } else if (SELECTS.has(c.type)) {
      checkSelect(out, c, path, true);
    }
  };
  comps.forEach((c, i) => {
    const path = [...p, 'components', i];
    if (!c || typeof c !== 'object') return;
    if (c.type === LABEL) {
      if (!isStr(c.label) || !c.label.length) problem(out, [...path, 'label'], 'BASE_TYPE_REQUIRED', 'This field is required');
      maxLen(out, [...path, 'label'], c.label, 45);
      maxLen(out, [...path, 'description'], c.description, 100);
      if (!c.component || !MODAL_LABEL_CHILDREN.has(c.component.type)) problem(out, [...path, 'component'], 'COMPONENT_TYPE_INVALID', 'A label wraps a text input, select, file upload, radio group or checkbox.');
      else input(c.component, [...path, 'component'], true);
    } else if (c.type === ACTION_ROW) {
      checkActionRow(out, c, path, true);
      (c.components || []).forEach((k, j) => input(k, [...path, 'components', j], false));
    } else if (c.type === TEXT_DISPLAY) {
      maxLen(out, [...path, 'content'], c.content, 4000);
    } else {
      problem(out, [...path, 'type'], 'COMPONENT_TYPE_INVALID', `Component type ${c.type} is not valid at the top of a modal.`);
    }
  });
  return out;
}

// ---- application commands (bulk overwrite) ----

// Names: docs regex (application-commands.mdx §Naming), lower case where a lower case exists.
const NAME_RE = /^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u;
function checkName(out, path, name, chatInput) {
  if (!isStr(name)) { problem(out, path, 'BASE_TYPE_REQUIRED', 'This field is required'); return; }
  if (chatInput) {
    if (!NAME_RE.test(name)) problem(out, path, 'APPLICATION_COMMAND_INVALID_NAME', `Command name "${name}" does not match ^[-_'\\p{L}\\p{N}\\p{sc=Deva}\\p{sc=Thai}]{1,32}$.`);
    else if (name !== name.toLowerCase()) problem(out, path, 'APPLICATION_COMMAND_INVALID_NAME', `Command name "${name}" must be lower case.`);
  } else between(out, path, name, 1, 32);
}

export function checkCommands(list) {
  const out = [];
  if (!Array.isArray(list)) return out;
  const seen = new Set();
  const counts = {};
  list.forEach((cmd, i) => {
    if (!cmd || typeof cmd !== 'object') return;
    const p = [i];
    const type = cmd.type ?? 1;
    counts[type] = (counts[type] || 0) + 1;
    const chat = type === 1;
    checkName(out, [...p, 'name'], cmd.name, chat);
    const key = `${type}:${cmd.name}`;
    if (seen.has(key)) problem(out, [...p, 'name'], 'APPLICATION_COMMANDS_DUPLICATE_NAME', `Command name "${cmd.name}" is used twice for type ${type}.`);
    seen.add(key);
    if (chat) between(out, [...p, 'description'], cmd.description, 1, 100);
    else if (cmd.description) problem(out, [...p, 'description'], 'APPLICATION_COMMAND_INVALID_DESCRIPTION', 'USER and MESSAGE commands have an empty description.');
    if (!chat && cmd.options?.length) problem(out, [...p, 'options'], 'APPLICATION_COMMAND_OPTIONS_INVALID', 'Only CHAT_INPUT commands have options.');
    let size = len(cmd.name) + len(cmd.description);
    if (Array.isArray(cmd.options)) size += checkOptions(out, [...p, 'options'], cmd.options, 0);
    if (size > 8000) problem(out, p, 'APPLICATION_COMMAND_TOO_LARGE', `Command is ${size} characters; the limit is 8000.`);
  });
  if ((counts[1] || 0) > 100) problem(out, [], 'BASE_TYPE_MAX_LENGTH', 'At most 100 CHAT_INPUT commands.');
  if ((counts[2] || 0) > 15 || (counts[3] || 0) > 15) problem(out, [], 'BASE_TYPE_MAX_LENGTH', 'At most 15 USER and 15 MESSAGE commands.');
  return out;
}

// Returns the characters counted toward the command size.
function checkOptions(out, path, options, depth) {
  let size = 0;
  if (options.length > 25) problem(out, path, 'BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.');
  const names = new Set();
  let sawOptional = false;
  options.forEach((o, i) => {
    if (!o || typeof o !== 'object') return;
    const p = [...path, i];
    checkName(out, [...p, 'name'], o.name, true);
    if (names.has(o.name)) problem(out, [...p, 'name'], 'APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS', `Option name "${o.name}" is used twice.`);
    names.add(o.name);
    between(out, [...p, 'description'], o.description, 1, 100);
    size += len(o.name) + len(o.description);
    const sub = o.type === 1 || o.type === 2;
    if (sub) {
      if (o.type === 2 && depth > 0) problem(out, [...p, 'type'], 'APPLICATION_COMMAND_OPTION_TYPE_INVALID', 'Subcommand groups nest only at the top level.');
      if (o.type === 1 && depth > 1) problem(out, [...p, 'type'], 'APPLICATION_COMMAND_OPTION_TYPE_INVALID', 'Subcommands nest at most inside a group.');
      if (Array.isArray(o.options)) size += checkOptions(out, [...p, 'options'], o.options, depth + 1);
      return;
    }
    if (o.required) {
      if (sawOptional) problem(out, [...p, 'required'], 'APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID', 'Required options must be listed before optional options.');
    } else sawOptional = true;
    if (Array.isArray(o.choices)) {
      if (o.choices.length > 25) problem(out, [...p, 'choices'], 'BASE_TYPE_MAX_LENGTH', 'Must be 25 or fewer in length.');
      if (o.autocomplete && o.choices.length) problem(out, [...p, 'autocomplete'], 'APPLICATION_COMMAND_AUTOCOMPLETE_INVALID', 'autocomplete cannot be set with choices.');
      o.choices.forEach((c, j) => {
        between(out, [...p, 'choices', j, 'name'], c?.name, 1, 100);
        if (isStr(c?.value)) maxLen(out, [...p, 'choices', j, 'value'], c.value, 100);
        size += len(c?.name) + len(String(c?.value ?? ''));
      });
    }
    if (o.min_length !== undefined && (o.min_length < 0 || o.min_length > 6000)) problem(out, [...p, 'min_length'], 'NUMBER_TYPE_MAX', 'min_length must be between 0 and 6000.');
    if (o.max_length !== undefined && (o.max_length < 1 || o.max_length > 6000)) problem(out, [...p, 'max_length'], 'NUMBER_TYPE_MAX', 'max_length must be between 1 and 6000.');
  });
  return size;
}

// ---- errors object ----

// [{path:['components',0,'custom_id'], code, message}] -> {components:{0:{custom_id:{_errors:[...]}}}}
export function toErrors(problems) {
  const root = {};
  for (const pr of problems) {
    let node = root;
    for (const k of pr.path) node = node[String(k)] ??= {};
    (node._errors ??= []).push({ code: pr.code, message: pr.message });
  }
  return root;
}
