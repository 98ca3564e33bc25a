// Original file: proto/devcompat/v1/compatibility.proto

import type { Verdict as _devcompat_v1_Verdict, Verdict__Output as _devcompat_v1_Verdict__Output } from '../../devcompat/v1/Verdict.ts';
import type { Check as _devcompat_v1_Check, Check__Output as _devcompat_v1_Check__Output } from '../../devcompat/v1/Check.ts';
import type { AttributeValue as _devcompat_v1_AttributeValue, AttributeValue__Output as _devcompat_v1_AttributeValue__Output } from '../../devcompat/v1/AttributeValue.ts';
import type { EngineVersion as _devcompat_v1_EngineVersion, EngineVersion__Output as _devcompat_v1_EngineVersion__Output } from '../../devcompat/v1/EngineVersion.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * CompatibilityResult is a verdict with every check that led to it.
 */
export interface CompatibilityResult {
  /**
   * verdict is the overall answer.
   */
  'verdict'?: (_devcompat_v1_Verdict);
  /**
   * checks are every check made: the built-ins, then attributes by name.
   */
  'checks'?: (_devcompat_v1_Check)[];
  /**
   * required_settings are the values the target must be set to when claimed
   * (from passing CLAIMABLE checks), keyed by attribute name.
   */
  'required_settings'?: ({[key: string]: _devcompat_v1_AttributeValue});
  /**
   * revision is the registry revision the verdict was computed at.
   */
  'revision'?: (number | string | Long);
  /**
   * engine identifies the model and implementation.
   */
  'engine'?: (_devcompat_v1_EngineVersion | null);
  /**
   * source is the source device's name; empty for an inline descriptor.
   */
  'source'?: (string);
  /**
   * target is the target device's name; empty for an inline descriptor.
   */
  'target'?: (string);
}

/**
 * CompatibilityResult is a verdict with every check that led to it.
 */
export interface CompatibilityResult__Output {
  /**
   * verdict is the overall answer.
   */
  'verdict': (_devcompat_v1_Verdict__Output);
  /**
   * checks are every check made: the built-ins, then attributes by name.
   */
  'checks': (_devcompat_v1_Check__Output)[];
  /**
   * required_settings are the values the target must be set to when claimed
   * (from passing CLAIMABLE checks), keyed by attribute name.
   */
  'required_settings': ({[key: string]: _devcompat_v1_AttributeValue__Output});
  /**
   * revision is the registry revision the verdict was computed at.
   */
  'revision': (string);
  /**
   * engine identifies the model and implementation.
   */
  'engine': (_devcompat_v1_EngineVersion__Output | null);
  /**
   * source is the source device's name; empty for an inline descriptor.
   */
  'source': (string);
  /**
   * target is the target device's name; empty for an inline descriptor.
   */
  'target': (string);
}
