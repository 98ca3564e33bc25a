// Original file: proto/devcompat/v1/registry.proto

import type { Long } from '@grpc/proto-loader';

/**
 * Budget is a physical resource of one parent device that several devices of the host draw
 * on, as a Kubernetes DRA counter set: each unit (instance) of a consuming device uses a
 * fixed amount of it, so that creating an instance of one type lowers what its sibling types
 * can still create. Claims and placements never let the units they hold draw more than a
 * budget has available (docs/model.md, "Shared budgets").
 */
export interface Budget {
  /**
   * budget_id names the budget on its host, e.g. `0000:00:02.0/gm`: at most 128 characters
   * of letters, digits, `.`, `_`, `:`, `/`, `-`.
   */
  'budget_id'?: (string);
  /**
   * parent is the parent device the budget belongs to, e.g. `0000:00:02.0`; informational.
   */
  'parent'?: (string);
  /**
   * total is the budget's size, in a unit of the agent's choice (e.g. MiB of graphics
   * memory); at most 2^53 - 1.
   */
  'total'?: (number | string | Long);
  /**
   * available is how much of total is unused now, as the host sees it (the instances that
   * exist already counted); at most total.
   */
  'available'?: (number | string | Long);
  /**
   * consumption maps a device id of this host to how much of the budget one unit of that
   * device uses (at least 1). Every device id must be one of the sync's devices.
   */
  'consumption'?: ({[key: string]: number | string | Long});
}

/**
 * Budget is a physical resource of one parent device that several devices of the host draw
 * on, as a Kubernetes DRA counter set: each unit (instance) of a consuming device uses a
 * fixed amount of it, so that creating an instance of one type lowers what its sibling types
 * can still create. Claims and placements never let the units they hold draw more than a
 * budget has available (docs/model.md, "Shared budgets").
 */
export interface Budget__Output {
  /**
   * budget_id names the budget on its host, e.g. `0000:00:02.0/gm`: at most 128 characters
   * of letters, digits, `.`, `_`, `:`, `/`, `-`.
   */
  'budget_id': (string);
  /**
   * parent is the parent device the budget belongs to, e.g. `0000:00:02.0`; informational.
   */
  'parent': (string);
  /**
   * total is the budget's size, in a unit of the agent's choice (e.g. MiB of graphics
   * memory); at most 2^53 - 1.
   */
  'total': (string);
  /**
   * available is how much of total is unused now, as the host sees it (the instances that
   * exist already counted); at most total.
   */
  'available': (string);
  /**
   * consumption maps a device id of this host to how much of the budget one unit of that
   * device uses (at least 1). Every device id must be one of the sync's devices.
   */
  'consumption': ({[key: string]: string});
}
