// Original file: proto/devcompat/v1/registry.proto

import type { Budget as _devcompat_v1_Budget, Budget__Output as _devcompat_v1_Budget__Output } from '../../devcompat/v1/Budget.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * BudgetStatus is a budget as the registry holds it, with what live claims hold of it.
 */
export interface BudgetStatus {
  /**
   * budget is the budget as the host last reported it.
   */
  'budget'?: (_devcompat_v1_Budget | null);
  /**
   * claimed is how much of the budget the units held by live claims use; what is left for
   * new claims and placements is budget.available minus claimed.
   */
  'claimed'?: (number | string | Long);
}

/**
 * BudgetStatus is a budget as the registry holds it, with what live claims hold of it.
 */
export interface BudgetStatus__Output {
  /**
   * budget is the budget as the host last reported it.
   */
  'budget': (_devcompat_v1_Budget__Output | null);
  /**
   * claimed is how much of the budget the units held by live claims use; what is left for
   * new claims and placements is budget.available minus claimed.
   */
  'claimed': (string);
}
