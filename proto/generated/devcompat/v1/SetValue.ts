// Original file: proto/devcompat/v1/descriptor.proto


/**
 * SetValue is an unordered set of strings: order and duplicates do not matter.
 */
export interface SetValue {
  /**
   * values are the members; stored sorted with duplicates removed.
   */
  'values'?: (string)[];
}

/**
 * SetValue is an unordered set of strings: order and duplicates do not matter.
 */
export interface SetValue__Output {
  /**
   * values are the members; stored sorted with duplicates removed.
   */
  'values': (string)[];
}
