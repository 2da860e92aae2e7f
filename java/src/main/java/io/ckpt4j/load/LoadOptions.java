package io.ckpt4j.load;

import io.ckpt4j.ProgressListener;
import io.ckpt4j.tensor.MapLocation;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Objects;
import java.util.Set;

/**
 * How to load a checkpoint, in torch.load's terms. Each setter returns a changed copy.
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

  /**
   * The values, copied and changed by each setter before the new options are built; never changed
   * after that. Reached through a final field, so every thread sees them as they were built.
   */
  private static final class Values {
    MapLocation mapLocation = MapLocation.none();
    boolean mmap;
    Set<String> allowedGlobals = Set.of();
    boolean inertObjects;
    int readThreads = DEFAULT_READ_THREADS;
    ProgressListener progress = ProgressListener.NONE;
    String pt2Model;

    Values copy() {
      Values c = new Values();
      c.mapLocation = mapLocation;
      c.mmap = mmap;
      c.allowedGlobals = allowedGlobals;
      c.inertObjects = inertObjects;
      c.readThreads = readThreads;
      c.progress = progress;
      c.pt2Model = pt2Model;
      return c;
    }
  }

  private final Values v;

  private LoadOptions(Values v) {
    this.v = v;
  }

  /** Saved devices, eager reads, weights-only globals. */
  public static LoadOptions defaults() {
    return new LoadOptions(new Values());
  }

  /** {@code map_location}: where each storage goes. */
  public LoadOptions mapLocation(MapLocation mapLocation) {
    Values c = v.copy();
    c.mapLocation = Objects.requireNonNull(mapLocation, "mapLocation");
    return new LoadOptions(c);
  }

  /** {@code map_location="cpu"} and the like; see {@link MapLocation#parse(String)}. */
  public LoadOptions mapLocation(String mapLocation) {
    return mapLocation(MapLocation.parse(mapLocation));
  }

  /** {@code mmap=True}: open without reading tensor bytes; each storage is mapped on first use. */
  public LoadOptions mmap(boolean mmap) {
    Values c = v.copy();
    c.mmap = mmap;
    return new LoadOptions(c);
  }

  /**
   * Reads these globals ("module.Name") as inert objects instead of refusing them, like
   * {@code torch.serialization.add_safe_globals} but with nothing called.
   */
  public LoadOptions allowGlobals(String... qualifiedNames) {
    Set<String> names = new LinkedHashSet<>(v.allowedGlobals);
    Collections.addAll(names, qualifiedNames);
    Values c = v.copy();
    c.allowedGlobals = Set.copyOf(names);
    return new LoadOptions(c);
  }

  /**
   * Reads every global that is not a known code-execution entry point as an inert object (class
   * name + args + state, nothing called): a whole pickled {@code nn.Module}, say. Classes are
   * constructed inert; REDUCE may call only the reconstructors whole-model pickles use (see
   * {@link GlobalPolicy#mayCall}): a call of any other function (torch.load, numpy.load) is
   * refused with {@code REFUSED_GLOBAL}.
   */
  public LoadOptions inertObjects(boolean inertObjects) {
    Values c = v.copy();
    c.inertObjects = inertObjects;
    return new LoadOptions(c);
  }

  /** Threads that read storages in parallel when loading eagerly (default: one per core). */
  public LoadOptions readThreads(int readThreads) {
    if (readThreads < 1) throw new IllegalArgumentException("readThreads must be >= 1");
    Values c = v.copy();
    c.readThreads = readThreads;
    return new LoadOptions(c);
  }

  /**
   * Told the tensor bytes an eager load has read so far, after each block of storages (a mapped
   * load reads nothing up front and tells nothing).
   */
  public LoadOptions progress(ProgressListener progress) {
    Values c = v.copy();
    c.progress = Objects.requireNonNull(progress, "progress");
    return new LoadOptions(c);
  }

  /**
   * Which exported program of a {@code .pt2} archive to read: {@code torch.export.load} reads
   * the one named {@code model} (the default); an archive written by {@code
   * package_pt2} with several programs names the others.
   */
  public LoadOptions pt2Model(String model) {
    Values c = v.copy();
    c.pt2Model = Objects.requireNonNull(model, "model");
    return new LoadOptions(c);
  }

  public MapLocation mapLocation() {
    return v.mapLocation;
  }

  public boolean mmap() {
    return v.mmap;
  }

  public Set<String> allowedGlobals() {
    return v.allowedGlobals;
  }

  public boolean inertObjects() {
    return v.inertObjects;
  }

  public int readThreads() {
    return v.readThreads;
  }

  public ProgressListener progress() {
    return v.progress;
  }

  /** The {@code .pt2} program to read; null for torch.export.load's default ({@code model}). */
  public String pt2Model() {
    return v.pt2Model;
  }
}
