package io.ckpt4j.container.zip;

/**
 * The container tricks the zip reader refuses, named so that a scanner can report which one a
 * file plays: each one makes tools that read a zip differently (Python's zipfile, torch's
 * miniz-based reader, a scanner's own parser) see different bytes.
 */
public enum ZipAnomaly {
  /** A local header names another file than its central record. */
  NAME_MISMATCH,
  /** Two entries with one name, or names that differ only in case. */
  DUPLICATE_NAME,
  /** An entry flagged as encrypted. */
  ENCRYPTED,
  /** An entry's bytes fail their CRC-32 (torch does not check it; Python's zipfile does). */
  BAD_CRC,
  /** A local header's method, CRC or sizes disagree with its central record. */
  HEADER_MISMATCH,
  /** The classic and zip64 end records disagree, or two end records fit the file. */
  END_RECORDS_DISAGREE,
  /** An entry outside the archive's top-level folder. */
  OUTSIDE_PREFIX,
  /** Two entries share bytes. */
  OVERLAP,
  /** Bytes in the central directory that no record accounts for. */
  UNACCOUNTED_BYTES
}
