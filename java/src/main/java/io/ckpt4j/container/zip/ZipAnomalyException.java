package io.ckpt4j.container.zip;

import io.ckpt4j.CheckpointException;
import java.util.Objects;

/**
 * A refusal of a zip archive that plays one of the {@link ZipAnomaly} tricks: a
 * {@link CheckpointException} of the usual kind (so load and scan refuse it alike) that also says
 * which trick.
 */
public final class ZipAnomalyException extends CheckpointException {
  private static final long serialVersionUID = 1L;

  private final ZipAnomaly anomaly;

  ZipAnomalyException(ZipAnomaly anomaly, Kind kind, String message) {
    super(kind, message);
    this.anomaly = Objects.requireNonNull(anomaly, "anomaly");
  }

  /** Which trick the archive plays. */
  public ZipAnomaly anomaly() {
    return anomaly;
  }
}
