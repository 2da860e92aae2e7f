package io.ckpt4j.save;

import io.ckpt4j.ProgressListener;
import io.ckpt4j.tensor.MapLocation;
import java.util.Objects;

/**
 * How to save a checkpoint. Immutable; each setter returns a changed copy.
 *
 * <pre>{@code
 * SaveOptions.defaults()
 *     .mapLocation("cpu")   // every storage is recorded as saved on "cpu"
 *     .fsync(false)         // atomic against a killed process, not against power loss
 * }</pre>
 *
 * <p>{@link #mapLocation(MapLocation)} is {@code torch.load}'s {@code map_location} applied at
 * save time: it changes the location string recorded for each storage (what Python's {@code
 * torch.load} later sees as the saved device), never where the tensor lives now. The location it
 * is given is the storage's device for a LibTorch tensor ({@code cpu}, {@code cuda:1}), and the
 * location saved in the source file for a {@link io.ckpt4j.value.TensorRef} of a loaded
 * checkpoint, so a converted file keeps its devices unless told otherwise.
 *
 * <p>Thread safety: immutable (every setter returns a new options object), so one instance may
 * be shared by any number of threads.
 */
public final class SaveOptions {
  private final MapLocation mapLocation;
  private final boolean fsync;
  private final boolean hostCopiesForTesting;
  private final ProgressListener progress;

  private SaveOptions(MapLocation mapLocation, boolean fsync, boolean hostCopiesForTesting,
      ProgressListener progress) {
    this.mapLocation = mapLocation;
    this.fsync = fsync;
    this.hostCopiesForTesting = hostCopiesForTesting;
    this.progress = progress;
  }

  /** Locations as they are, durable writes (the file and its directory are fsynced). */
  public static SaveOptions defaults() {
    return new SaveOptions(MapLocation.none(), true, false, ProgressListener.NONE);
  }

  /** The location recorded for each storage, given its current one; see the class comment. */
  public SaveOptions mapLocation(MapLocation mapLocation) {
    return new SaveOptions(Objects.requireNonNull(mapLocation, "mapLocation"), fsync,
        hostCopiesForTesting, progress);
  }

  /**
   * {@code "cpu"}, {@code "cuda:1=cuda:0,cuda:2=cpu"}, ...: the forms of
   * {@link MapLocation#parse(String)}.
   */
  public SaveOptions mapLocation(String mapLocation) {
    return mapLocation(MapLocation.parse(mapLocation));
  }

  /**
   * Whether to fsync the new file before it replaces the target and the directory after (default
   * true; the file is flushed to the disk while it is written, so this costs little). Without it
   * the replacement is still atomic for a process that is killed, but a power loss may leave an
   * empty or partial file at the target.
   */
  public SaveOptions fsync(boolean fsync) {
    return new SaveOptions(mapLocation, fsync, hostCopiesForTesting, progress);
  }

  /**
   * Test seam: CPU storages take the path of device storages (a host copy made per storage, then
   * written), so that path runs on machines without CUDA.
   */
  SaveOptions hostCopiesForTesting(boolean on) {
    return new SaveOptions(mapLocation, fsync, on, progress);
  }

  /** Told the tensor bytes written so far, after each storage. */
  public SaveOptions progress(ProgressListener progress) {
    return new SaveOptions(mapLocation, fsync, hostCopiesForTesting,
        Objects.requireNonNull(progress, "progress"));
  }

  public MapLocation mapLocation() {
    return mapLocation;
  }

  public boolean fsync() {
    return fsync;
  }

  public ProgressListener progress() {
    return progress;
  }

  boolean hostCopiesForTesting() {
    return hostCopiesForTesting;
  }
}
