// A V8 heap snapshot (`v8.writeHeapSnapshot`, `node --heapsnapshot-signal`) summarized as the
// memory measurement needs it (bench/memory-per-device.ts): bytes by kind of object, and for the
// largest kinds, what holds them (the retaining object's kind and the edge's name). Self sizes
// only, no dominator tree: a device's record, its id string and its index slots are separate
// rows, which is what says where the bytes per device go.
//
// The snapshot format (its `meta` names the fields): `nodes` is a flat array of
// [type, name, id, self_size, edge_count, ...] per node, `edges` a flat array of
// [type, name_or_index, to_node] whose edges are the nodes' in order, `strings` the names.

import { readFileSync } from 'node:fs';

export interface KindSize {
  /** The constructor's name for objects; `(type) name` for the rest (strings are one kind). */
  readonly kind: string;
  readonly count: number;
  readonly bytes: number;
  /** The biggest holders of this kind: `holder kind .edge`, with the bytes they hold. */
  readonly heldBy: readonly { readonly holder: string; readonly count: number; readonly bytes: number }[];
}

export interface HeapSummary {
  readonly totalBytes: number;
  readonly nodes: number;
  readonly kinds: readonly KindSize[];
}

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

/** Kinds of at least `minBytes`, biggest first, each with its `holders` biggest holders. */
export function summarizeHeapSnapshot(file: string, options: { minBytes?: number; holders?: number } = {}): HeapSummary {
  const snapshot = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const { meta } = snapshot.snapshot;
  const nodeWidth = meta.node_fields.length;
  const edgeWidth = meta.edge_fields.length;
  const TYPE = meta.node_fields.indexOf('type');
  const NAME = meta.node_fields.indexOf('name');
  const SIZE = meta.node_fields.indexOf('self_size');
  const EDGES = meta.node_fields.indexOf('edge_count');
  const EDGE_TYPE = meta.edge_fields.indexOf('type');
  const EDGE_NAME = meta.edge_fields.indexOf('name_or_index');
  const EDGE_TO = meta.edge_fields.indexOf('to_node');
  const nodeTypes = meta.node_types[0];
  const edgeTypes = meta.edge_types[0];
  const { nodes, edges, strings } = snapshot;
  const count = nodes.length / nodeWidth;

  const kindIds = new Map<string, number>();
  const kindNames: string[] = [];
  const kindOf = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const type = nodeTypes[nodes[i * nodeWidth + TYPE]];
    const name = strings[nodes[i * nodeWidth + NAME]];
    let kind: string;
    if (type === 'object' || type === 'native') kind = name.split(' ')[0] || `(${type})`;
    else if (type === 'string' || type === 'concatenated string' || type === 'sliced string') kind = `(${type})`;
    else if (type === 'closure') kind = '(closure)';
    else if (type === 'code') kind = '(code)';
    else kind = `(${type}) ${name.length > 40 ? `${name.slice(0, 40)}…` : name}`;
    let id = kindIds.get(kind);
    if (id === undefined) {
      id = kindNames.length;
      kindIds.set(kind, id);
      kindNames.push(kind);
    }
    kindOf[i] = id;
  }

  // Each node's first strong retainer: the holder that a reader of the summary wants to see.
  const holderOf = new Int32Array(count).fill(-1);
  const holderEdgeOf: string[] = new Array(count);
  let edge = 0;
  for (let from = 0; from < count; from++) {
    const edgeCount = nodes[from * nodeWidth + EDGES];
    for (let e = 0; e < edgeCount; e++, edge += edgeWidth) {
      const type = edgeTypes[edges[edge + EDGE_TYPE]];
      if (type === 'weak' || type === 'shortcut') continue;
      const to = edges[edge + EDGE_TO] / nodeWidth;
      if (holderOf[to] !== -1) continue;
      holderOf[to] = from;
      const nameOrIndex = edges[edge + EDGE_NAME];
      holderEdgeOf[to] = type === 'element' || type === 'hidden' ? `[${type}]` : `.${strings[nameOrIndex]}`;
    }
  }

  const bytes = new Float64Array(kindNames.length);
  const counts = new Float64Array(kindNames.length);
  const held = kindNames.map(() => new Map<string, { count: number; bytes: number }>());
  let totalBytes = 0;
  for (let i = 0; i < count; i++) {
    const size = nodes[i * nodeWidth + SIZE];
    const kind = kindOf[i];
    bytes[kind] += size;
    counts[kind]++;
    totalBytes += size;
    const holder = holderOf[i] === -1 ? '(root)' : `${kindNames[kindOf[holderOf[i]]]} ${holderEdgeOf[i]}`;
    const slot = held[kind].get(holder) ?? { count: 0, bytes: 0 };
    slot.count++;
    slot.bytes += size;
    held[kind].set(holder, slot);
  }
  const minBytes = options.minBytes ?? 0;
  const kinds: KindSize[] = [];
  for (let k = 0; k < kindNames.length; k++) {
    if (bytes[k] < minBytes) continue;
    const heldBy = [...held[k]]
      .map(([holder, slot]) => ({ holder, ...slot }))
      .sort((a, b) => b.bytes - a.bytes)
      .slice(0, options.holders ?? 3);
    kinds.push({ kind: kindNames[k], count: counts[k], bytes: bytes[k], heldBy });
  }
  kinds.sort((a, b) => b.bytes - a.bytes);
  return { totalBytes, nodes: count, kinds };
}
