// Original file: proto/devcompat/v1/admin.proto


/**
 * BackupRequest names the file to write.
 */
export interface BackupRequest {
  /**
   * path is the absolute path, on the server's host, of the copy to write. Its folder must
   * exist and the file must not: a backup never overwrites.
   */
  'path'?: (string);
}

/**
 * BackupRequest names the file to write.
 */
export interface BackupRequest__Output {
  /**
   * path is the absolute path, on the server's host, of the copy to write. Its folder must
   * exist and the file must not: a backup never overwrites.
   */
  'path': (string);
}
