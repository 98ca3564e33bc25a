// Loading profiles: the shipped ones (`profiles/` in the repo), then an operator's directory
// (`--profiles`), whose profiles override shipped ones of the same name. A file that does not
// parse or validate is reported (file, path inside it, problem) and left out; it never stops
// the agent, and the devices it would have described are skipped as matched by no profile (a
// broken override also withdraws the shipped profile of its name: the operator meant to change it).

import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { ProfileError, validateProfile, type Profile } from './profile-schema.ts';

/** The profiles that ship with devcompat. */
export const SHIPPED_PROFILES_DIR = fileURLToPath(new URL('../profiles/', import.meta.url));

export interface LoadedProfiles {
  /** In name order; an operator's profile replaces a shipped one of the same name. */
  readonly profiles: Profile[];
  readonly errors: ProfileError[];
}

const EXTENSIONS = ['.yaml', '.yml', '.json'];

/** The name a profile file claims (its `name:`, else its file name), read from its document. */
function claimedName(file: string, document: unknown): string {
  const name = (document as { name?: unknown } | null)?.name;
  return typeof name === 'string' ? name : path.basename(file).replace(/\.(ya?ml|json)$/, '');
}

/** Reads and validates one profile file. Throws ProfileError (with `claimedName` when the file parsed). */
export function loadProfileFile(file: string): Profile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ProfileError(file, '', `cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let document: unknown;
  if (file.endsWith('.json')) {
    try {
      document = JSON.parse(text);
    } catch (error) {
      throw new ProfileError(file, '', `not valid JSON: ${(error as Error).message}`);
    }
  } else {
    const parsed = YAML.parseDocument(text, { uniqueKeys: true });
    if (parsed.errors.length > 0) {
      const first = parsed.errors[0];
      const where = first.linePos?.[0] ? `line ${first.linePos[0].line}` : '';
      throw new ProfileError(file, where, `not valid YAML: ${first.message.split('\n')[0]}`);
    }
    document = parsed.toJS();
  }
  try {
    return validateProfile(document, file, path.basename(file).replace(/\.(ya?ml|json)$/, ''));
  } catch (error) {
    if (error instanceof ProfileError) (error as ProfileError & { claimedName?: string }).claimedName = claimedName(file, document);
    throw error;
  }
}

function profileFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((entry) => EXTENSIONS.some((extension) => entry.endsWith(extension)))
    .sort()
    .map((entry) => path.join(dir, entry));
}

/**
 * Profiles already read, by file, with the modification time and size they were read at: the
 * agent loads its profiles at every pass, and re-reads a file only when it changed.
 */
const cache = new Map<string, { mtimeMs: number; size: number; outcome: Profile | ProfileError }>();

function loadCached(file: string): Profile {
  let stat;
  try {
    stat = statSync(file);
  } catch {
    return loadProfileFile(file); // reports why it cannot be read
  }
  const cached = cache.get(file);
  if (cached && cached.mtimeMs === stat.mtimeMs && cached.size === stat.size) {
    if (cached.outcome instanceof ProfileError) throw cached.outcome;
    return cached.outcome;
  }
  let outcome: Profile | ProfileError;
  try {
    outcome = loadProfileFile(file);
  } catch (error) {
    if (!(error instanceof ProfileError)) throw error;
    outcome = error;
  }
  if (cache.size > 1000) cache.clear(); // bounded, whatever the directories hold
  cache.set(file, { mtimeMs: stat.mtimeMs, size: stat.size, outcome });
  if (outcome instanceof ProfileError) throw outcome;
  return outcome;
}

/** Loads every profile of `dirs`, later directories overriding earlier ones by profile name. */
export function loadProfiles(dirs: readonly string[]): LoadedProfiles {
  const byName = new Map<string, Profile>();
  const errors: ProfileError[] = [];
  for (const dir of dirs) {
    let files: string[];
    try {
      files = profileFiles(dir);
    } catch (error) {
      errors.push(new ProfileError(dir, '', `cannot read the profile directory: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`));
      continue;
    }
    const seen = new Map<string, string>();
    for (const file of files) {
      try {
        const profile = loadCached(file);
        const earlier = seen.get(profile.name);
        if (earlier) {
          errors.push(new ProfileError(file, 'name', `"${profile.name}" is also the name of ${earlier}; this one is ignored`));
          continue;
        }
        seen.set(profile.name, file);
        byName.set(profile.name, profile);
      } catch (error) {
        if (!(error instanceof ProfileError)) throw error;
        errors.push(error);
        // A broken override withdraws the profile it meant to replace: the operator wanted it changed.
        const name = (error as ProfileError & { claimedName?: string }).claimedName ?? path.basename(file).replace(/\.(ya?ml|json)$/, '');
        byName.delete(name);
      }
    }
  }
  return { profiles: [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : 1)), errors };
}
