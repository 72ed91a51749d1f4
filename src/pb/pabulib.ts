import { Invalid } from '../core/errors.ts';
import { VOTE_TYPES, type Ballot, type Election, type Project, type VoteType } from './election.ts';
import { csvLine } from '../core/csv.ts';

/**
 * The Pabulib `.pb` format (pabulib.org): three `;`-separated sections, META (key;value rows),
 * PROJECTS (a header row starting with project_id and cost) and VOTES (a header row starting
 * with voter_id, with a `vote` column of comma-separated project ids, best first for ordinal
 * ballots, and a `points` column for cumulative and scoring ballots). Fields may be quoted
 * with double quotes, doubling a quote inside. Other columns are kept as they are, so a file
 * read and written again says the same.
 */
export interface PabulibFile {
  meta: [string, string][];
  projectColumns: string[];
  projects: Record<string, string>[];
  voteColumns: string[];
  votes: Record<string, string>[];
}

export interface PabulibElection {
  file: PabulibFile;
  election: Election;
  voterIds: string[];
}

const MAX_BYTES = 512 * 1024 * 1024;

function fail(line: number, reason: string): never {
  throw new Invalid(`line ${line}: ${reason}`, { file: `line ${line}: ${reason}` });
}

interface Row {
  line: number;
  fields: string[];
}

/** Splits the text into rows of fields, honouring quotes (which may span lines). */
function rows(text: string): Row[] {
  const out: Row[] = [];
  let line = 1;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const start = line;
    const fields: string[] = [];
    let field = '';
    let quoted = false;
    let atFieldStart = true;
    for (; i < n; i++) {
      const ch = text[i]!;
      if (quoted) {
        if (ch === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i++;
          } else quoted = false;
        } else {
          if (ch === '\n') line++;
          field += ch;
        }
      } else if (ch === '"' && atFieldStart) {
        quoted = true;
        atFieldStart = false;
      } else if (ch === ';') {
        fields.push(field);
        field = '';
        atFieldStart = true;
      } else if (ch === '\n' || ch === '\r') {
        if (ch === '\r' && text[i + 1] === '\n') i++;
        i++;
        line++;
        break;
      } else {
        field += ch;
        atFieldStart = false;
      }
    }
    if (quoted) fail(start, 'a quoted field is not closed');
    fields.push(field);
    if (!(fields.length === 1 && fields[0]!.trim() === '')) out.push({ line: start, fields });
  }
  return out;
}

const SECTIONS = ['META', 'PROJECTS', 'VOTES'] as const;

export function parsePabulib(text: string): PabulibElection {
  if (text.length > MAX_BYTES) throw new Invalid('The file is larger than 512 MB');
  const all = rows(text.replace(/^\uFEFF/, ''));
  const sections = new Map<string, Row[]>();
  let current: Row[] | null = null;
  for (const row of all) {
    const name = row.fields.length === 1 ? row.fields[0]!.trim().toUpperCase() : '';
    if ((SECTIONS as readonly string[]).includes(name)) {
      if (sections.has(name)) fail(row.line, `the ${name} section appears twice`);
      current = [];
      sections.set(name, current);
      continue;
    }
    if (!current) fail(row.line, 'the file must start with META');
    current.push(row);
  }
  for (const name of SECTIONS)
    if (!sections.has(name)) fail(all.at(-1)?.line ?? 1, `the ${name} section is missing`);

  const metaRows = sections.get('META')!;
  const meta: [string, string][] = [];
  metaRows.forEach((row, k) => {
    if (row.fields.length !== 2)
      fail(row.line, `a META row has a key and a value separated by ";", found ${row.fields.length} fields`);
    if (k === 0 && row.fields[0]!.trim() === 'key') return;
    meta.push([row.fields[0]!.trim(), row.fields[1]!.trim()]);
  });
  const metaValue = (key: string) => meta.find(([k]) => k === key)?.[1];
  const metaLine = (key: string) =>
    metaRows.find((r) => r.fields[0]!.trim() === key)?.line ?? metaRows[0]?.line ?? 1;
  const budgetText = metaValue('budget');
  if (budgetText === undefined) fail(metaRows[0]?.line ?? 1, 'META has no budget');
  const budget = wholeNumber(budgetText, metaLine('budget'), 'budget');
  const voteTypeText = metaValue('vote_type') ?? '';
  if (!(VOTE_TYPES as readonly string[]).includes(voteTypeText))
    fail(metaLine('vote_type'), `vote_type must be one of ${VOTE_TYPES.join(', ')}, found "${voteTypeText}"`);
  const voteType = voteTypeText as VoteType;

  const { columns: projectColumns, records: projectRecords } = table(sections.get('PROJECTS')!, 'PROJECTS', [
    'project_id',
    'cost',
  ]);
  const projects: Project[] = [];
  const seenProjects = new Set<string>();
  for (const { line, record } of projectRecords) {
    const id = record.project_id!.trim();
    if (!id) fail(line, 'project_id is empty');
    if (seenProjects.has(id)) fail(line, `project ${id} is listed twice`);
    seenProjects.add(id);
    const cost = wholeNumber(record.cost!, line, 'cost');
    if (cost < 1) fail(line, `project ${id} has a cost of 0; a cost is at least 1`);
    projects.push({ id, cost, ...(record.name ? { name: record.name } : {}) });
  }

  const needsPoints = voteType === 'cumulative' || voteType === 'scoring';
  const { columns: voteColumns, records: voteRecords } = table(
    sections.get('VOTES')!,
    'VOTES',
    needsPoints ? ['voter_id', 'vote', 'points'] : ['voter_id', 'vote'],
  );
  const ballots: Ballot[] = [];
  const voterIds: string[] = [];
  const seenVoters = new Set<string>();
  for (const { line, record } of voteRecords) {
    const voter = record.voter_id!.trim();
    if (seenVoters.has(voter)) fail(line, `voter ${voter} votes twice`);
    seenVoters.add(voter);
    const chosen = splitList(record.vote!);
    const inBallot = new Set<string>();
    for (const id of chosen) {
      if (!seenProjects.has(id))
        fail(line, `voter ${voter} votes for project ${id}, which is not in PROJECTS`);
      if (inBallot.has(id)) fail(line, `voter ${voter} votes for project ${id} twice`);
      inBallot.add(id);
    }
    if (needsPoints) {
      const points = splitList(record.points!).map((p) => wholeNumber(p, line, 'points'));
      if (points.length !== chosen.length)
        fail(line, `voter ${voter} has ${chosen.length} projects but ${points.length} points`);
      ballots.push({ projects: chosen, points });
    } else ballots.push({ projects: chosen });
    voterIds.push(voter);
  }
  return {
    file: {
      meta,
      projectColumns,
      projects: projectRecords.map((r) => r.record),
      voteColumns,
      votes: voteRecords.map((r) => r.record),
    },
    election: { budget, projects, voteType, ballots },
    voterIds,
  };
}

function table(section: Row[], name: string, required: string[]) {
  const [header, ...body] = section;
  if (!header) fail(1, `the ${name} section has no header row`);
  const columns = header.fields.map((f) => f.trim());
  for (const column of required)
    if (!columns.includes(column)) fail(header.line, `the ${name} header has no ${column} column`);
  const records = body.map((row) => {
    if (row.fields.length !== columns.length)
      fail(
        row.line,
        `expected ${columns.length} fields as in the ${name} header, found ${row.fields.length}`,
      );
    const record: Record<string, string> = {};
    columns.forEach((c, i) => (record[c] = row.fields[i]!));
    return { line: row.line, record };
  });
  return { columns, records };
}

function wholeNumber(text: string, line: number, what: string): number {
  const t = text.trim();
  // Some published files write whole amounts as 250000.0.
  if (!/^\d+(\.0+)?$/.test(t)) fail(line, `${what} must be a whole number of 0 or more, found "${text}"`);
  const value = Number(t.replace(/\.0+$/, ''));
  if (!Number.isSafeInteger(value)) fail(line, `${what} is too large`);
  return value;
}

function splitList(text: string): string[] {
  const t = text.trim();
  return t === '' ? [] : t.split(',').map((s) => s.trim());
}

/**
 * Writes a Pabulib file: ";" between fields, as Pabulib tools read it; fields that contain ";",
 * quotes or line breaks are quoted, and text that a spreadsheet would run as a formula is
 * neutralised by the one CSV rule (core/csv.ts).
 */
export function writePabulib(file: PabulibFile): string {
  const line = (cells: string[]) => csvLine(cells, { separator: ';' });
  const out: string[] = ['META', 'key;value'];
  for (const [k, v] of file.meta) out.push(line([k, v]));
  out.push('PROJECTS', line(file.projectColumns));
  for (const p of file.projects) out.push(line(file.projectColumns.map((c) => p[c] ?? '')));
  out.push('VOTES', line(file.voteColumns));
  for (const v of file.votes) out.push(line(file.voteColumns.map((c) => v[c] ?? '')));
  return out.join('\n') + '\n';
}

/** A Pabulib file for an election of ours (export for researchers): ids, costs, votes; no voter details. */
export function pabulibOf(
  election: Election,
  meta: [string, string][],
  names: Map<string, string> = new Map(),
): PabulibFile {
  const votes = new Map<string, number>();
  for (const b of election.ballots)
    b.projects.forEach((id, k) => votes.set(id, (votes.get(id) ?? 0) + (b.points ? b.points[k]! : 1)));
  const points = election.voteType === 'cumulative' || election.voteType === 'scoring';
  return {
    meta: [
      ...meta.filter(([k]) => !['budget', 'vote_type', 'num_projects', 'num_votes'].includes(k)),
      ['num_projects', String(election.projects.length)],
      ['num_votes', String(election.ballots.length)],
      ['budget', String(election.budget)],
      ['vote_type', election.voteType],
    ],
    projectColumns: ['project_id', 'cost', 'votes', 'name'],
    projects: election.projects.map((p) => ({
      project_id: p.id,
      cost: String(p.cost),
      votes: String(votes.get(p.id) ?? 0),
      name: names.get(p.id) ?? p.name ?? '',
    })),
    voteColumns: points ? ['voter_id', 'vote', 'points'] : ['voter_id', 'vote'],
    votes: election.ballots.map((b, i) => ({
      voter_id: String(i + 1),
      vote: b.projects.join(','),
      ...(points ? { points: (b.points ?? []).join(',') } : {}),
    })),
  };
}
