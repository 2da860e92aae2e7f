package io.ckpt4j.load;

import io.ckpt4j.tensor.MapLocation;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Objects;
import java.util.Set;

/**
 * How to load a checkpoint, in torch.load's terms. Immutable; each {@code with}-style method
 * returns a changed copy.
 *
 * <pre>{@code
 * LoadOptions.defaults()
 *     .mapLocation("cpu")                 // map_location="cpu"
 *     .mmap(true)                         // mmap=True: tensors mapped, read on first touch
 *     .allowGlobals("argparse.Namespace") // read these classes as inert objects
 * }</pre>
 *
 * <p>By default only what {@code torch.load(weights_only=True)} accepts is loaded; any other
 * Python global is refused with an error that names it. Nothing is ever executed: allowed classes
 * become inert {@link io.ckpt4j.value.PyObject}s (class name, arguments, state).
 *
 * <p>Thread safety: immutable (every setter returns a new options object), so one instance may
 * be shared by any number of threads.
 */
public final class LoadOptions {
  /** Below this many storages, reading in parallel is not worth a thread pool. */
  static final int DEFAULT_READ_THREADS = Math.max(1, Runtime.getRuntime().availableProcessors());

  private final MapLocation mapLocation;
  private final boolean mmap;
  private final Set<String> allowedGlobals;
  private final boolean inertObjects;
  private final int readThreads;

  private LoadOptions(MapLocation mapLocation, boolean mmap, Set<String> allowedGlobals,
      boolean inertObjects, int readThreads) {
    this.mapLocation = mapLocation;
    this.mmap = mmap;
    this.allowedGlobals = allowedGlobals;
    this.inertObjects = inertObjects;
    this.readThreads = readThreads;
  }

  /** Saved devices, eager reads, weights-only globals. */
  public static LoadOptions defaults() {
    return new LoadOptions(MapLocation.none(), false, Set.of(), false, DEFAULT_READ_THREADS);
  }

  /** {@code map_location}: where each storage goes. */
  public LoadOptions mapLocation(MapLocation mapLocation) {
    return new LoadOptions(Objects.requireNonNull(mapLocation, "mapLocation"), mmap,
        allowedGlobals, inertObjects, readThreads);
  }

  /** {@code map_location="cpu"} and the like; see {@link MapLocation#parse(String)}. */
  public LoadOptions mapLocation(String mapLocation) {
    return mapLocation(MapLocation.parse(mapLocation));
  }

  /** {@code mmap=True}: open without reading tensor bytes; each storage is mapped on first use. */
  public LoadOptions mmap(boolean mmap) {
    return new LoadOptions(mapLocation, mmap, allowedGlobals, inertObjects, readThreads);
  }

  /**
   * Reads these globals ("module.Name") as inert objects instead of refusing them, like
   * {@code torch.serialization.add_safe_globals} but with nothing called.
   */
  public LoadOptions allowGlobals(String... qualifiedNames) {
    Set<String> names = new LinkedHashSet<>(allowedGlobals);
    Collections.addAll(names, qualifiedNames);
    return new LoadOptions(mapLocation, mmap, Set.copyOf(names), inertObjects, readThreads);
  }

  /**
   * Reads every global that is not a known code-execution entry point as an inert object (class
   * name + args + state, nothing called): a whole pickled {@code nn.Module}, say.
   */
  public LoadOptions inertObjects(boolean inertObjects) {
    return new LoadOptions(mapLocation, mmap, allowedGlobals, inertObjects, readThreads);
  }

  /** Threads that read storages in parallel when loading eagerly (default: one per core). */
  public LoadOptions readThreads(int readThreads) {
    if (readThreads < 1) throw new IllegalArgumentException("readThreads must be >= 1");
    return new LoadOptions(mapLocation, mmap, allowedGlobals, inertObjects, readThreads);
  }

  public MapLocation mapLocation() {
    return mapLocation;
  }

  public boolean mmap() {
    return mmap;
  }

  public Set<String> allowedGlobals() {
    return allowedGlobals;
  }

  public boolean inertObjects() {
    return inertObjects;
  }

  public int readThreads() {
    return readThreads;
  }
}
