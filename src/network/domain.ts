import { Invalid } from '../core/errors.ts';
import { parsePounds } from '../core/money.ts';

export interface NewPracticeNote {
  title: string;
  what_they_did: string;
  cost_pence: number | null;
  cost_note: string;
  what_changed: string;
  contact: string;
  tags: string[];
}

const text = (value: unknown) => (typeof value === 'string' ? value.trim() : '');

/** Tags are lower-case words or phrases, comma separated in the form: "early help, troubled families". */
function parseTags(value: unknown): string[] | null {
  const raw = Array.isArray(value)
    ? value.map(text)
    : text(value)
        .split(',')
        .map((t) => t.trim());
  const tags = [...new Set(raw.filter(Boolean).map((t) => t.toLowerCase()))];
  return tags.length <= 10 && tags.every((t) => t.length <= 40) ? tags : null;
}

export function validatePracticeNote(input: Record<string, unknown>): NewPracticeNote {
  const fields: Record<string, string> = {};
  const need = (name: string, label: string, max: number) => {
    const value = text(input[name]);
    if (!value) fields[name] = `Enter ${label}`;
    else if (value.length > max)
      fields[name] = `This must be ${max.toLocaleString('en-GB')} characters or fewer`;
    return value;
  };
  const title = need('title', 'a title', 200);
  const what_they_did = need('what_they_did', 'what you did', 5000);
  const what_changed = need('what_changed', 'what changed', 5000);
  const contact = need('contact', 'who to contact, such as a team name and email address', 200);
  const cost_note = text(input.cost_note);
  if (cost_note.length > 1000) fields.cost_note = 'This must be 1,000 characters or fewer';
  let cost_pence: number | null = null;
  const cost = input.cost === undefined || input.cost === null ? '' : String(input.cost).trim();
  if (cost) {
    try {
      cost_pence = parsePounds(cost, 'cost');
      if (cost_pence < 0) fields.cost = 'Enter what it cost as a positive amount';
    } catch (err) {
      if (!(err instanceof Invalid)) throw err;
      fields.cost = 'Enter what it cost in pounds, like 120,000';
    }
  }
  const tags = parseTags(input.tags);
  if (!tags) fields.tags = 'Enter up to 10 tags of up to 40 characters each, separated by commas';
  if (Object.keys(fields).length) throw new Invalid('There is a problem with the practice note', fields);
  return { title, what_they_did, cost_pence, cost_note, what_changed, contact, tags: tags! };
}
