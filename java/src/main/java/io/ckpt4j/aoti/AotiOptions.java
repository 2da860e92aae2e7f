package io.ckpt4j.aoti;

import java.nio.file.Path;
import java.util.Objects;

/**
 * How {@link ExportedModel#load} loads an AOTInductor package: Python's
 * {@code torch._inductor.package.load_package(path, model_name, num_runners=...,
 * device_index=...)}, which {@code aoti_load_package} calls. Immutable: each setter returns a
 * changed copy.
 *
 * <pre>{@code
 * AotiOptions.defaults().device("cuda:1").numRunners(4)
 * }</pre>
 */
public final class AotiOptions {
  /** The model name aoti_compile_and_package gives a package's only model. */
  public static final String DEFAULT_MODEL = "model";

  private final String device;
  private final int numRunners;
  private final String model;
  private final Path unpackDir;

  private AotiOptions(String device, int numRunners, String model, Path unpackDir) {
    this.device = device;
    this.numRunners = numRunners;
    this.model = model;
    this.unpackDir = unpackDir;
  }

  /** The package's own device (cpu, or cuda:0 for a CUDA package), one runner, model "model". */
  public static AotiOptions defaults() {
    return new AotiOptions(null, 1, DEFAULT_MODEL, null);
  }

  /**
   * The device to run on: {@code cpu} for a CPU package, {@code cuda} or {@code cuda:N} for a
   * CUDA one (a package runs only on the device type it was compiled for). Null: the package's.
   */
  public AotiOptions device(String device) {
    return new AotiOptions(device, numRunners, model, unpackDir);
  }

  /**
   * How many copies of the model's state run calls at the same time (Python's
   * {@code num_runners}): up to this many threads call {@link ExportedModel#forward} at once; more
   * wait for a free one. At least 1.
   */
  public AotiOptions numRunners(int numRunners) {
    if (numRunners < 1) {
      throw new IllegalArgumentException("numRunners must be at least 1, not " + numRunners);
    }
    return new AotiOptions(device, numRunners, model, unpackDir);
  }

  /** Which model of the package to load ({@code model}, what aoti_compile_and_package writes). */
  public AotiOptions model(String model) {
    return new AotiOptions(device, numRunners, Objects.requireNonNull(model, "model"), unpackDir);
  }

  /**
   * Where the package's compiled library is unpacked (a folder per load, removed by close); by
   * default {@code java.io.tmpdir}.
   */
  public AotiOptions unpackDir(Path dir) {
    return new AotiOptions(device, numRunners, model, dir);
  }

  public String device() {
    return device;
  }

  public int numRunners() {
    return numRunners;
  }

  public String model() {
    return model;
  }

  /** The folder loads unpack under. */
  public Path unpackDir() {
    return unpackDir != null ? unpackDir : Path.of(System.getProperty("java.io.tmpdir"));
  }
}
