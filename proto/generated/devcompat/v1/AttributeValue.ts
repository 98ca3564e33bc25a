// Original file: proto/devcompat/v1/descriptor.proto

import type { SetValue as _devcompat_v1_SetValue, SetValue__Output as _devcompat_v1_SetValue__Output } from '../../devcompat/v1/SetValue.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * AttributeValue is one typed attribute value: exactly one kind must be set.
 */
export interface AttributeValue {
  /**
   * int_value is a signed 64-bit integer (a decimal string in JSON).
   */
  'int_value'?: (number | string | Long);
  /**
   * string_value is at most 256 characters.
   */
  'string_value'?: (string);
  /**
   * bool_value is a boolean.
   */
  'bool_value'?: (boolean);
  /**
   * version_value is a semantic version, parsed loosely (`v1.2.3`, `535.104.05`).
   */
  'version_value'?: (string);
  /**
   * set_value is an unordered set of strings (at most 1024 members).
   */
  'set_value'?: (_devcompat_v1_SetValue | null);
  /**
   * kind is the value's type.
   */
  'kind'?: "int_value"|"string_value"|"bool_value"|"version_value"|"set_value";
}

/**
 * AttributeValue is one typed attribute value: exactly one kind must be set.
 */
export interface AttributeValue__Output {
  /**
   * int_value is a signed 64-bit integer (a decimal string in JSON).
   */
  'int_value'?: (string);
  /**
   * string_value is at most 256 characters.
   */
  'string_value'?: (string);
  /**
   * bool_value is a boolean.
   */
  'bool_value'?: (boolean);
  /**
   * version_value is a semantic version, parsed loosely (`v1.2.3`, `535.104.05`).
   */
  'version_value'?: (string);
  /**
   * set_value is an unordered set of strings (at most 1024 members).
   */
  'set_value'?: (_devcompat_v1_SetValue__Output | null);
  /**
   * kind is the value's type.
   */
  'kind'?: "int_value"|"string_value"|"bool_value"|"version_value"|"set_value";
}
