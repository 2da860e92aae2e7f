package io.ckpt4j.load;

import io.ckpt4j.ProgressListener;
import io.ckpt4j.tensor.MapLocation;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Objects;
import java.util.Set;

/**
 * How to load a checkpoint, in torch.load's terms. Immutable, so safe to share between threads;
 * each setter returns a changed copy.
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

  // Not final so that each setter can change its own fresh copy (see copy()); never changed
  // after a setter returns.
  private MapLocation mapLocation = MapLocation.none();
  private boolean mmap;
  private Set<String> allowedGlobals = Set.of();
  private boolean inertObjects;
  private int readThreads = DEFAULT_READ_THREADS;
  private ProgressListener progress = ProgressListener.NONE;
  private String pt2Model;

  private LoadOptions() {}

  /** A copy for a setter to change. */
  private LoadOptions copy() {
    LoadOptions c = new LoadOptions();
    c.mapLocation = mapLocation;
    c.mmap = mmap;
    c.allowedGlobals = allowedGlobals;
    c.inertObjects = inertObjects;
    c.readThreads = readThreads;
    c.progress = progress;
    c.pt2Model = pt2Model;
    return c;
  }

  /** Saved devices, eager reads, weights-only globals. */
  public static LoadOptions defaults() {
    return new LoadOptions();
  }

  /** {@code map_location}: where each storage goes. */
  public LoadOptions mapLocation(MapLocation mapLocation) {
    LoadOptions c = copy();
    c.mapLocation = Objects.requireNonNull(mapLocation, "mapLocation");
    return c;
  }

  /** {@code map_location="cpu"} and the like; see {@link MapLocation#parse(String)}. */
  public LoadOptions mapLocation(String mapLocation) {
    return mapLocation(MapLocation.parse(mapLocation));
  }

  /** {@code mmap=True}: open without reading tensor bytes; each storage is mapped on first use. */
  public LoadOptions mmap(boolean mmap) {
    LoadOptions c = copy();
    c.mmap = mmap;
    return c;
  }

  /**
   * Reads these globals ("module.Name") as inert objects instead of refusing them, like
   * {@code torch.serialization.add_safe_globals} but with nothing called.
   */
  public LoadOptions allowGlobals(String... qualifiedNames) {
    Set<String> names = new LinkedHashSet<>(allowedGlobals);
    Collections.addAll(names, qualifiedNames);
    LoadOptions c = copy();
    c.allowedGlobals = Set.copyOf(names);
    return c;
  }

  /**
   * Reads every global that is not a known code-execution entry point as an inert object (class
   * name + args + state, nothing called): a whole pickled {@code nn.Module}, say.
   */
  public LoadOptions inertObjects(boolean inertObjects) {
    LoadOptions c = copy();
    c.inertObjects = inertObjects;
    return c;
  }

  /** Threads that read storages in parallel when loading eagerly (default: one per core). */
  public LoadOptions readThreads(int readThreads) {
    if (readThreads < 1) throw new IllegalArgumentException("readThreads must be >= 1");
    LoadOptions c = copy();
    c.readThreads = readThreads;
    return c;
  }

  /**
   * Told the tensor bytes an eager load has read so far, after each block of storages (a mapped
   * load reads nothing up front and tells nothing).
   */
  public LoadOptions progress(ProgressListener progress) {
    LoadOptions c = copy();
    c.progress = Objects.requireNonNull(progress, "progress");
    return c;
  }

  /**
   * Which exported program of a {@code .pt2} archive to read: {@code torch.export.load} reads
   * the one named {@code model} (the default); an archive written by {@code
   * package_pt2} with several programs names the others.
   */
  public LoadOptions pt2Model(String model) {
    LoadOptions c = copy();
    c.pt2Model = Objects.requireNonNull(model, "model");
    return c;
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

  public ProgressListener progress() {
    return progress;
  }

  /** The {@code .pt2} program to read; null for torch.export.load's default ({@code model}). */
  public String pt2Model() {
    return pt2Model;
  }
}
