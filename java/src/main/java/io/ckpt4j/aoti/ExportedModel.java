package io.ckpt4j.aoti;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.OwnedResource;
import io.ckpt4j.layout.pt2.AotiConstant;
import io.ckpt4j.layout.pt2.AotiInput;
import io.ckpt4j.layout.pt2.AotiPackage;
import io.ckpt4j.layout.pt2.Pt2Archive;
import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.Format;
import io.ckpt4j.statedict.IncompatibleKeys;
import io.ckpt4j.statedict.StateDict;
import io.ckpt4j.tensor.Devices;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.bytedeco.pytorch.AOTIModelContainerRunner;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;

/**
 * A model compiled ahead of time by {@code torch._inductor.aoti_compile_and_package} (a
 * {@code .pt2} AOTInductor package), loaded for inference: Python's
 * {@code torch._inductor.aoti_load_package}.
 *
 * <pre>{@code
 * try (ExportedModel model = ExportedModel.load(Path.of("model.pt2"), AotiOptions.defaults())) {
 *   List<Tensor> out = model.forward(images);          // aoti_load_package(path)(images)
 *   model.loadStateDict(StateDict.from(ckpt), true);   // runner.load_constants(sd)
 * }
 * }</pre>
 *
 * <p><b>A package is native code.</b> Loading one unpacks a shared library compiled by Inductor
 * and runs it in this process. ckpt4j loads it only through this class (or {@code ckpt4j run}),
 * never because a reader met the file: load packages you trust as you would a program.
 *
 * <p>Before a call reaches the compiled code, each input is checked against the package's
 * specification (the checks Inductor generated, which the library itself skips): count, dtype,
 * device, rank, static sizes, and dynamic dimensions within the bounds it was compiled for. A
 * mismatch is an {@link Kind#INVALID_VALUE} error naming the input; a tensor of the right shape
 * that is not contiguous is passed as a contiguous copy. Failures inside LibTorch come back as
 * {@link Kind#NATIVE} errors with its one-line reason; no C++ exception reaches the caller.
 *
 * <p>Thread safety: {@link #forward} may be called from any number of threads at once; up to
 * {@link AotiOptions#numRunners} calls run in parallel (each on its own copy of the model's
 * activations), the others wait for a free runner. {@link #loadStateDict} and {@link #close}
 * wait for running calls to end and hold off new ones while they run. Outputs are new tensors
 * the caller owns and closes.
 */
public final class ExportedModel extends OwnedResource {
  private final Path source;
  private final AotiPackage pkg;
  private final String device;
  private final int deviceIndex;
  private final UnpackedPackage unpacked;
  private final AOTIModelContainerRunner runner;
  private final ReadWriteLock lock = new ReentrantReadWriteLock();

  private ExportedModel(Path source, AotiPackage pkg, String device, UnpackedPackage unpacked,
      AOTIModelContainerRunner runner) {
    this.source = source;
    this.pkg = pkg;
    this.device = device;
    this.deviceIndex = device.startsWith(Devices.CUDA)
        ? Integer.parseInt(device.substring(Devices.CUDA.length() + 1)) : -1;
    this.unpacked = unpacked;
    this.runner = runner;
    describeForLeakReport("the AOTInductor model " + source);
  }

  /**
   * Loads the AOTInductor package {@code file}: checks that this machine can run it (OS, machine,
   * CPU instruction sets, device), unpacks its compiled library into a folder this model owns,
   * and starts {@link AotiOptions#numRunners} runners on {@link AotiOptions#device}.
   *
   * @throws CheckpointException NOT_FOUND for a missing file or model; WRONG_LOADER for a file
   *     that is no AOTInductor package; UNSUPPORTED_FORMAT for a package this machine or this
   *     LibTorch cannot run; DEVICE for a device it was not compiled for or that is not here;
   *     NATIVE with LibTorch's reason when the library does not load
   */
  public static ExportedModel load(Path file, AotiOptions options) throws CheckpointException {
    requirePackage(file);
    AotiPackage pkg;
    UnpackedPackage unpacked;
    try (Pt2Archive archive = Pt2Archive.open(file)) {
      if (archive.aotiModels().isEmpty()) {
        throw new CheckpointException(Kind.WRONG_LOADER, file + " is a torch.export program"
            + " archive without a compiled model: read its weights with CheckpointLoader.load,"
            + " or compile it in Python with torch._inductor.aoti_compile_and_package and load"
            + " that package");
      }
      pkg = AotiPackage.read(archive, options.model());
      HostCheck.require(pkg, file);
      String device = device(pkg, options.device(), file);
      if (pkg.library() == null) {
        throw new CheckpointException(Kind.UNSUPPORTED_FORMAT, "AOTInductor package " + file
            + " has no compiled library (*.wrapper.so) for model '" + pkg.model() + "' (compiled"
            + " with aot_inductor.package_cpp_only?): compile it with the default options");
      }
      unpacked = UnpackedPackage.unpack(archive, pkg, options.unpackDir());
      try {
        return new ExportedModel(file, pkg, device, unpacked,
            Runners.start(unpacked, device, options.numRunners(), file));
      } catch (CheckpointException | RuntimeException e) {
        unpacked.delete();
        throw e;
      }
    }
  }

  /** The package file. */
  public Path source() {
    return source;
  }

  /** The device it runs on ({@code cpu}, {@code cuda:N}). */
  public String device() {
    return device;
  }

  /** What the package says about itself: metadata, inputs, outputs, constants, call spec. */
  public AotiPackage spec() {
    return pkg;
  }

  /** The package's metadata ({@code AOTI_CPU_ISA}, {@code AOTI_DEVICE_KEY}...); may hold nulls. */
  public Map<String, String> metadata() {
    return pkg.metadata();
  }

  /** The inputs forward takes, in order. */
  public List<AotiInput> inputs() {
    return pkg.inputs();
  }

  /** The constants (parameters, buffers, folded values) the compiled code computes with. */
  public List<AotiConstant> constants() {
    return pkg.constants();
  }

  /** The folder the package was unpacked into (removed by close). */
  public Path unpackedDir() {
    return unpacked.dir();
  }

  /** {@code model(*inputs)}: the outputs, in the order the exported forward returns them. */
  public List<Tensor> forward(Tensor... inputs) throws CheckpointException {
    return forward(List.of(inputs));
  }

  /** {@code model(*inputs)} with the inputs as a list (the package's flat input order). */
  public List<Tensor> forward(List<Tensor> inputs) throws CheckpointException {
    lock.readLock().lock();
    try {
      ensureOpen();
      InputCheck.check(pkg.inputs(), inputs, deviceIndex, source);
      List<Tensor> copies = new ArrayList<>();
      try (TensorVector in = new TensorVector()) {
        for (int i = 0; i < inputs.size(); i++) {
          Tensor t = inputs.get(i);
          if (pkg.inputs().get(i).contiguousStrides() && !t.is_contiguous()) {
            t = t.contiguous();
            copies.add(t);
          }
          in.push_back(t);
        }
        try (TensorVector out = runner.run(in)) {
          List<Tensor> outputs = new ArrayList<>((int) out.size());
          for (long i = 0; i < out.size(); i++) outputs.add(new Tensor(out.get(i)));
          return outputs;
        }
      } catch (RuntimeException e) {
        throw new CheckpointException(Kind.NATIVE, "AOTInductor model " + source + " failed: "
            + CheckpointException.firstLine(e), e);
      } finally {
        copies.forEach(Tensor::close);
      }
    } finally {
      lock.readLock().unlock();
    }
  }

  /**
   * {@code load_state_dict} for the package: replaces its constants with {@code stateDict}'s
   * tensors, matched by their original names ({@code conv.weight}) after removing a wrapper
   * prefix ({@code module.}, {@code _orig_mod.}) every key carries; shapes and dtypes must match.
   * With {@code strict}, a constant the state_dict lacks (missing_keys) or a key the compiled
   * graph has no constant for (unexpected_keys, e.g. {@code num_batches_tracked}, which an
   * inference graph never reads) is an error; without, unexpected keys are skipped and returned,
   * and missing constants keep their values. Only packages compiled with
   * {@code inductor_configs={"aot_inductor.use_runtime_constant_folding": True}} take new
   * weights; others are refused, since Inductor may have folded weights into their code.
   *
   * @return the keys that did not match (empty on a full strict load)
   * @throws CheckpointException STATE_DICT_MISMATCH for keys, shapes or dtypes that do not fit;
   *     UNSUPPORTED_FORMAT for a package compiled without runtime constant folding
   */
  public IncompatibleKeys loadStateDict(StateDict stateDict, boolean strict)
      throws CheckpointException {
    lock.writeLock().lock();
    try {
      ensureOpen();
      return WeightSwap.apply(runner, pkg, stateDict, strict, device, source);
    } catch (RuntimeException e) {
      if (e instanceof IllegalStateException) throw e; // closed: a programming error
      throw new CheckpointException(Kind.NATIVE, "loading a state_dict into AOTInductor model "
          + source + " failed: " + CheckpointException.firstLine(e), e);
    } finally {
      lock.writeLock().unlock();
    }
  }

  @Override
  protected void releaseResources() {
    lock.writeLock().lock();
    try {
      runner.close();
    } finally {
      lock.writeLock().unlock();
      unpacked.delete();
    }
  }

  @Override
  protected String resourceName() {
    return "ExportedModel of " + source;
  }

  /** The device to run on: the requested one, checked, or the package's own. */
  private static String device(AotiPackage pkg, String requested, Path file)
      throws CheckpointException {
    String compiled = pkg.device();
    String wanted = requested != null ? requested
        : compiled.equals(Devices.CUDA) ? Devices.CUDA + ":0" : compiled;
    String what = "AOTInductor package " + file + " (compiled for " + compiled + ")";
    boolean cudaWanted = Devices.canonical(wanted).startsWith(Devices.CUDA);
    boolean cudaCompiled = compiled.equals(Devices.CUDA);
    if (!compiled.equals(Devices.CPU) && !cudaCompiled) {
      throw new CheckpointException(Kind.UNSUPPORTED_FORMAT, what + " runs on " + compiled
          + ", which ckpt4j does not drive (cpu and cuda only)");
    }
    if (cudaWanted != cudaCompiled) {
      throw new CheckpointException(Kind.DEVICE, what + " cannot run on " + wanted + ": a"
          + " package runs only on the device type it was compiled for; load it with device "
          + (cudaCompiled ? "cuda:N" : "cpu") + ", or compile the program again for " + wanted);
    }
    return Devices.check(wanted, what, "load it on a machine with that GPU");
  }

  /** Refuses {@code file} unless it is a PT2 archive (a missing file, another format). */
  private static void requirePackage(Path file) throws CheckpointException {
    Format format = CheckpointLoader.detect(file);
    if (format != Format.AOTINDUCTOR && format != Format.PT2) {
      throw new CheckpointException(Kind.WRONG_LOADER, file + " is a " + format.jsonName()
          + " file, not an AOTInductor package (.pt2 from torch._inductor"
          + ".aoti_compile_and_package): read it with CheckpointLoader.load");
    }
  }
}
