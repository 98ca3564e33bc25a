// Original file: proto/devcompat/v1/history.proto

/**
 * ChainProblem is how the history chain is broken.
 */
export const ChainProblem = {
  /**
   * CHAIN_PROBLEM_UNSPECIFIED means the chain is intact.
   */
  CHAIN_PROBLEM_UNSPECIFIED: 'CHAIN_PROBLEM_UNSPECIFIED',
  /**
   * CHAIN_PROBLEM_ALTERED means an entry's content no longer matches its hash.
   */
  CHAIN_PROBLEM_ALTERED: 'CHAIN_PROBLEM_ALTERED',
  /**
   * CHAIN_PROBLEM_REMOVED_OR_REORDERED means an entry does not follow the one before it:
   * entries between them were removed, or entries were moved.
   */
  CHAIN_PROBLEM_REMOVED_OR_REORDERED: 'CHAIN_PROBLEM_REMOVED_OR_REORDERED',
  /**
   * CHAIN_PROBLEM_HEAD_NOT_FOUND means no entry has the expected head hash: the chain was
   * rewritten or its tail was removed.
   */
  CHAIN_PROBLEM_HEAD_NOT_FOUND: 'CHAIN_PROBLEM_HEAD_NOT_FOUND',
  /**
   * CHAIN_PROBLEM_HEAD_MISMATCH means the stored chain does not end at the head the running
   * server holds: its tail was removed or rewritten behind the server's back.
   */
  CHAIN_PROBLEM_HEAD_MISMATCH: 'CHAIN_PROBLEM_HEAD_MISMATCH',
  /**
   * CHAIN_PROBLEM_COMPACTION_RECORD_BROKEN means a compaction record was removed or altered:
   * the records no longer chain to each other.
   */
  CHAIN_PROBLEM_COMPACTION_RECORD_BROKEN: 'CHAIN_PROBLEM_COMPACTION_RECORD_BROKEN',
} as const;

/**
 * ChainProblem is how the history chain is broken.
 */
export type ChainProblem =
  /**
   * CHAIN_PROBLEM_UNSPECIFIED means the chain is intact.
   */
  | 'CHAIN_PROBLEM_UNSPECIFIED'
  | 0
  /**
   * CHAIN_PROBLEM_ALTERED means an entry's content no longer matches its hash.
   */
  | 'CHAIN_PROBLEM_ALTERED'
  | 1
  /**
   * CHAIN_PROBLEM_REMOVED_OR_REORDERED means an entry does not follow the one before it:
   * entries between them were removed, or entries were moved.
   */
  | 'CHAIN_PROBLEM_REMOVED_OR_REORDERED'
  | 2
  /**
   * CHAIN_PROBLEM_HEAD_NOT_FOUND means no entry has the expected head hash: the chain was
   * rewritten or its tail was removed.
   */
  | 'CHAIN_PROBLEM_HEAD_NOT_FOUND'
  | 3
  /**
   * CHAIN_PROBLEM_HEAD_MISMATCH means the stored chain does not end at the head the running
   * server holds: its tail was removed or rewritten behind the server's back.
   */
  | 'CHAIN_PROBLEM_HEAD_MISMATCH'
  | 4
  /**
   * CHAIN_PROBLEM_COMPACTION_RECORD_BROKEN means a compaction record was removed or altered:
   * the records no longer chain to each other.
   */
  | 'CHAIN_PROBLEM_COMPACTION_RECORD_BROKEN'
  | 5

/**
 * ChainProblem is how the history chain is broken.
 */
export type ChainProblem__Output = typeof ChainProblem[keyof typeof ChainProblem]
