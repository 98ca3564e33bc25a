// Original file: proto/devcompat/v1/compatibility.proto


/**
 * EngineVersion identifies the model and implementation that computed a verdict.
 */
export interface EngineVersion {
  /**
   * model is the compatibility model's version, `compat-model/1`.
   */
  'model'?: (string);
  /**
   * implementation is the engine implementation's version.
   */
  'implementation'?: (string);
}

/**
 * EngineVersion identifies the model and implementation that computed a verdict.
 */
export interface EngineVersion__Output {
  /**
   * model is the compatibility model's version, `compat-model/1`.
   */
  'model': (string);
  /**
   * implementation is the engine implementation's version.
   */
  'implementation': (string);
}
