// The escape hatch for hardware no profile knows: an operator drops one JSON file per device in
// `/etc/devcompat/devices.d/` (`--devices-dir`), in the JSON form of the API's DeviceSpec
// (device_id, descriptor, capacity, labels; unknown fields refused with their path). Such a
// device is registered as written. A file that does not read or validate is skipped, with why.

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { readMessageJson, JsonShapeError } from '../proto/strict-json.ts';
import type { Capacity, DescriptorInput as Descriptor } from '../client/types.ts';
import { PROFILE_LABEL, type DescribedDevice, type SkippedDevice } from './describe.ts';

export const DEFAULT_DEVICES_DIR = '/etc/devcompat/devices.d';

export function readStaticDevices(dir: string): { devices: DescribedDevice[]; skipped: SkippedDevice[] } {
  const devices: DescribedDevice[] = [];
  const skipped: SkippedDevice[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir).filter((entry) => entry.endsWith('.json')).sort();
  } catch {
    return { devices, skipped }; // no such directory: no static devices
  }
  for (const entry of entries) {
    const file = path.join(dir, entry);
    const profile = `static:${entry}`;
    try {
      const spec = readMessageJson('devcompat.v1.DeviceSpec', JSON.parse(readFileSync(file, 'utf8'))) as {
        device_id?: string;
        descriptor?: Descriptor;
        capacity?: Capacity;
        labels?: Record<string, string>;
      };
      if (!spec.device_id) throw new JsonShapeError('device_id', 'required');
      if (!spec.descriptor) throw new JsonShapeError('descriptor', 'required');
      devices.push({
        device_id: spec.device_id,
        profile,
        descriptor: spec.descriptor,
        ...(spec.capacity && { capacity: spec.capacity }),
        labels: { ...spec.labels, [PROFILE_LABEL]: 'static' },
      });
    } catch (error) {
      const why = error instanceof SyntaxError ? `not valid JSON (${error.message})` : (error as Error).message;
      skipped.push({ device_id: entry.replace(/\.json$/, ''), profile, reason: `${file}: ${why}` });
    }
  }
  return { devices, skipped };
}
