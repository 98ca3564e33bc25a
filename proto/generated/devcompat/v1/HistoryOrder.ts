// Original file: proto/devcompat/v1/history.proto

/**
 * HistoryOrder is the order of history entries.
 */
export const HistoryOrder = {
  /**
   * HISTORY_ORDER_UNSPECIFIED means newest first.
   */
  HISTORY_ORDER_UNSPECIFIED: 'HISTORY_ORDER_UNSPECIFIED',
  /**
   * HISTORY_ORDER_NEWEST_FIRST lists the latest change first.
   */
  HISTORY_ORDER_NEWEST_FIRST: 'HISTORY_ORDER_NEWEST_FIRST',
  /**
   * HISTORY_ORDER_OLDEST_FIRST lists the earliest change first.
   */
  HISTORY_ORDER_OLDEST_FIRST: 'HISTORY_ORDER_OLDEST_FIRST',
} as const;

/**
 * HistoryOrder is the order of history entries.
 */
export type HistoryOrder =
  /**
   * HISTORY_ORDER_UNSPECIFIED means newest first.
   */
  | 'HISTORY_ORDER_UNSPECIFIED'
  | 0
  /**
   * HISTORY_ORDER_NEWEST_FIRST lists the latest change first.
   */
  | 'HISTORY_ORDER_NEWEST_FIRST'
  | 1
  /**
   * HISTORY_ORDER_OLDEST_FIRST lists the earliest change first.
   */
  | 'HISTORY_ORDER_OLDEST_FIRST'
  | 2

/**
 * HistoryOrder is the order of history entries.
 */
export type HistoryOrder__Output = typeof HistoryOrder[keyof typeof HistoryOrder]
